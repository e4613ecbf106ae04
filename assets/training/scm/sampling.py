"""Samplers for TrigFlow models, all starting from x_{t_max} = sigma_d * eps, eps ~ N(0, I).

- `heun`: the teacher's multi-step PF-ODE solver (second order, NFE = 2 * steps), on EDM's
  rho = 7 noise-level schedule mapped to TrigFlow time t = arctan(sigma / sigma_d), ending at t = 0.
- `euler`: first-order steps; in TrigFlow the exact DDIM update x_s = cos(t - s) x_t -
  sin(t - s) sigma_d F (NFE = steps). The "naive teacher 2-step" sampler.
- `consistency`: 1 step x0 = f(x_{t_max}, t_max), or more steps re-noising to each t_mid in
  between (x_mid = cos(t_mid) x0 + sin(t_mid) sigma_d eps'), which is what the distilled student
  runs ("cm1", "cm2", and "cm" with any `t_mids` for the scaling study's 4 steps).

Every sampler takes its noise from a seeded generator, so two samplers called with the same seed
start from the same eps (common random numbers make their comparison less noisy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from assets.training.scm.trigflow import SIGMA_D, SIGMA_MIN, T_MAX, consistency_fn, ode_velocity

SIGMA_MAX = 80.0


def edm_time_schedule(steps: int, sigma_max: float = SIGMA_MAX, sigma_min: float = SIGMA_MIN,
                      rho: float = 7.0, sigma_d: float = SIGMA_D) -> torch.Tensor:
    """steps + 1 times from t_max down to 0 (EDM's rho schedule on sigma, then t = atan(sigma/sigma_d))."""
    if steps < 1:
        raise ValueError("steps must be >= 1")
    if steps == 1:
        sig = torch.tensor([sigma_max], dtype=torch.float64)
    else:
        i = torch.arange(steps, dtype=torch.float64)
        a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
        sig = (a + i / (steps - 1) * (b - a)) ** rho
    t = torch.atan(sig / sigma_d)
    return torch.cat([t, torch.zeros(1, dtype=torch.float64)]).float()


def initial_noise(n: int, shape: Sequence[int], seed: int, device: torch.device | str = "cpu",
                  sigma_d: float = SIGMA_D) -> tuple[torch.Tensor, torch.Generator]:
    """x_{t_max} = sigma_d * eps for `n` samples, and the generator (on CPU, for any re-noising)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, *shape, generator=g) * sigma_d
    return x.to(device), g


def _t(v: float, n: int, like: torch.Tensor) -> torch.Tensor:
    return torch.full((n,), float(v), device=like.device, dtype=like.dtype)


@torch.no_grad()
def heun(net: nn.Module, x: torch.Tensor, steps: int, sigma_d: float = SIGMA_D) -> torch.Tensor:
    """Second-order Heun on dx/dt = sigma_d F(x / sigma_d, t); 2 * steps network evaluations."""
    ts = edm_time_schedule(steps, sigma_d=sigma_d).tolist()
    n = x.shape[0]
    for t_cur, t_next in zip(ts[:-1], ts[1:], strict=True):
        h = t_next - t_cur
        d_cur = ode_velocity(net, x, _t(t_cur, n, x), sigma_d)
        x_euler = x + h * d_cur
        d_next = ode_velocity(net, x_euler, _t(t_next, n, x), sigma_d)
        x = x + h * 0.5 * (d_cur + d_next)
    return x


@torch.no_grad()
def euler(net: nn.Module, x: torch.Tensor, times: Sequence[float], sigma_d: float = SIGMA_D) -> torch.Tensor:
    """TrigFlow's exact-form Euler (DDIM) through `times` (decreasing, ending at 0)."""
    n = x.shape[0]
    for t_cur, t_next in zip(times[:-1], times[1:], strict=True):
        f = net(x / sigma_d, _t(t_cur, n, x))
        dt = t_cur - t_next
        x = math.cos(dt) * x - math.sin(dt) * sigma_d * f
    return x


@torch.no_grad()
def consistency(net: nn.Module, x: torch.Tensor, t_mids: Sequence[float] = (),
                generator: torch.Generator | None = None, t_max: float = T_MAX,
                sigma_d: float = SIGMA_D) -> torch.Tensor:
    """Consistency sampling: f at t_max, then for each t_mid re-noise and apply f again
    (1 + len(t_mids) network evaluations)."""
    n = x.shape[0]
    x0 = consistency_fn(net, x, _t(t_max, n, x), sigma_d)
    for tm in t_mids:
        eps = torch.randn(x0.shape, generator=generator).to(x0.device)
        x_mid = math.cos(tm) * x0 + math.sin(tm) * sigma_d * eps
        x0 = consistency_fn(net, x_mid, _t(tm, n, x), sigma_d)
    return x0


def sample(net: nn.Module, kind: str, n: int, shape: Sequence[int], seed: int, *, steps: int = 1,
           t_mid: float | None = None, t_mids: Sequence[float] = (), batch: int = 1000,
           device: torch.device | str = "cpu", sigma_d: float = SIGMA_D) -> torch.Tensor:
    """`n` samples on CPU from sampler `kind` ("heun", "euler2", "cm1", "cm2", "cm"), in batches."""
    x_all, gen = initial_noise(n, shape, seed, device, sigma_d)
    out = []
    for i in range(0, n, batch):
        x = x_all[i:i + batch]
        if kind == "heun":
            y = heun(net, x, steps, sigma_d)
        elif kind == "euler2":
            y = euler(net, x, [T_MAX, float(t_mid), 0.0], sigma_d)
        elif kind == "cm1":
            y = consistency(net, x, (), gen, sigma_d=sigma_d)
        elif kind == "cm2":
            y = consistency(net, x, (float(t_mid),), gen, sigma_d=sigma_d)
        elif kind == "cm":
            y = consistency(net, x, tuple(float(t) for t in t_mids), gen, sigma_d=sigma_d)
        else:
            raise ValueError(f"unknown sampler {kind!r}")
        out.append(y.float().cpu())
    return torch.cat(out)


def nfe(kind: str, steps: int = 1) -> int:
    return {"heun": 2 * steps, "euler2": 2, "cm1": 1, "cm2": 2, "cm": steps}[kind]
