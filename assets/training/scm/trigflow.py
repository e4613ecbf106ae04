"""TrigFlow diffusion and continuous-time consistency distillation (sCD), RECIPES section 5.

x_t = cos(t) x0 + sin(t) z, z ~ N(0, sigma_d^2 I), t in [0, pi/2]. The network F sees x_t / sigma_d
and c_noise(t) = t. The teacher is trained on ||sigma_d F - v_t||^2 with v_t = cos(t) z - sin(t) x0;
its PF-ODE is dx/dt = sigma_d F(x_t / sigma_d, t); the consistency function is
f(x_t, t) = cos(t) x_t - sin(t) sigma_d F(x_t / sigma_d, t).

`scd_loss` is one sCD step (Lu & Song 2024, Algorithm 1), with its knobs: tangent warm-up r,
tangent normalisation g / (||g|| + c), learned adaptive weighting e^w / D ||.||^2 - w, and the
optional extra 1/sigma prior weight (off by default: with it the RECIPES probe collapsed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

SIGMA_D = 0.5
T_MAX = math.atan(80.0 / SIGMA_D)  # ~= 1.56454: the sampler's start
SIGMA_MIN = 0.002


def t_of_sigma(sigma: torch.Tensor | float, sigma_d: float = SIGMA_D):
    if isinstance(sigma, torch.Tensor):
        return torch.atan(sigma / sigma_d)
    return math.atan(sigma / sigma_d)


def sample_t(n: int, p_mean: float, p_std: float, generator: torch.Generator | None = None,
             device: torch.device | str = "cpu", sigma_d: float = SIGMA_D) -> torch.Tensor:
    """Log-normal proposal: t = arctan(exp(tau) / sigma_d), tau ~ N(p_mean, p_std^2)."""
    tau = torch.randn(n, generator=generator, device=device) * p_std + p_mean
    return torch.atan(torch.exp(tau) / sigma_d)


def _bc(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Broadcast a per-sample vector over the remaining axes of `like`."""
    return v.reshape(-1, *([1] * (like.dim() - 1)))


def call_f(net: nn.Module, x_t: torch.Tensor, t: torch.Tensor, sigma_d: float = SIGMA_D) -> torch.Tensor:
    """F(x_t / sigma_d, c_noise(t)) with c_noise(t) = t."""
    return net(x_t / sigma_d, t)


def ode_velocity(net: nn.Module, x_t: torch.Tensor, t: torch.Tensor, sigma_d: float = SIGMA_D):
    """dx/dt of the PF-ODE."""
    return sigma_d * call_f(net, x_t, t, sigma_d)


def consistency_fn(net: nn.Module, x_t: torch.Tensor, t: torch.Tensor, sigma_d: float = SIGMA_D):
    """f(x_t, t) = cos(t) x_t - sin(t) sigma_d F: the one-step estimate of x0 (f(x, 0) = x)."""
    tb = _bc(t, x_t)
    return torch.cos(tb) * x_t - torch.sin(tb) * sigma_d * call_f(net, x_t, t, sigma_d)


def teacher_loss(net: nn.Module, x0: torch.Tensor, t: torch.Tensor, z: torch.Tensor,
                 sigma_d: float = SIGMA_D) -> torch.Tensor:
    """Per-sample mean of ||sigma_d F(x_t / sigma_d, t) - v_t||^2 / sigma_d^2 (EDM's weighting);
    `z` is already scaled to N(0, sigma_d^2)."""
    tb = _bc(t, x0)
    x_t = torch.cos(tb) * x0 + torch.sin(tb) * z
    v_t = torch.cos(tb) * z - torch.sin(tb) * x0
    err = call_f(net, x_t, t, sigma_d) - v_t / sigma_d
    return err.pow(2).flatten(1).mean(1)


def jvp_dfdt(net: nn.Module, x_t: torch.Tensor, t: torch.Tensor, dxdt: torch.Tensor,
             sigma_d: float = SIGMA_D) -> tuple[torch.Tensor, torch.Tensor]:
    """(F, cos(t) sin(t) dF/dt) along the trajectory, by one forward-mode JVP with tangents
    (cos sin (dx/dt) / sigma_d, cos sin). No graph is kept: F^- is a stop-gradient copy."""
    cs = torch.cos(t) * torch.sin(t)
    tangents = (_bc(cs, x_t) * dxdt / sigma_d, cs)
    with torch.no_grad():
        f_minus, cs_dfdt = torch.func.jvp(lambda x, tt: net(x, tt), (x_t / sigma_d, t), tangents)
    return f_minus, cs_dfdt


@dataclass(frozen=True)
class ScdStats:
    loss: float
    raw_tangent_norm: float  # mean ||g|| before normalisation
    weight_mean: float  # mean w_phi(t)
    consistency_mse: float  # mean ||F - F^- - g||^2 / D at F = F^- (= ||g_normalised||^2 / D)


def scd_loss(student: nn.Module, teacher: nn.Module, weight_net: nn.Module, x0: torch.Tensor,
             t: torch.Tensor, z: torch.Tensor, warmup_r: float, tangent_c: float = 0.1,
             sigma_weight: bool = False, sigma_d: float = SIGMA_D) -> tuple[torch.Tensor, ScdStats]:
    """One sCD loss (scalar, to minimise over student and weight_net parameters).

    g = -cos^2(t) (sigma_d F^- - dx/dt) - r cos(t) sin(t) (x_t + sigma_d dF^-/dt)  (= cos(t) df^-/dt
    at r = 1), normalised to g / (||g|| + c); loss = e^w / D ||F - F^- - g||^2 - w.
    With `sigma_weight`, each sample is also weighted by 1 / sigma = 1 / (sigma_d tan t)."""
    tb = _bc(t, x0)
    cos, sin = torch.cos(tb), torch.sin(tb)
    x_t = cos * x0 + sin * z
    with torch.no_grad():
        dxdt = ode_velocity(teacher, x_t, t, sigma_d)
    f_minus, cs_dfdt = jvp_dfdt(student, x_t, t, dxdt, sigma_d)
    g = -cos.pow(2) * (sigma_d * f_minus - dxdt) - warmup_r * (cos * sin * x_t + sigma_d * cs_dfdt)
    raw = g.flatten(1).norm(dim=1)
    g = g / _bc(raw + tangent_c, g)
    f_theta = call_f(student, x_t, t, sigma_d)
    d = x0[0].numel()
    w = weight_net(t)
    sq = (f_theta - f_minus - g).pow(2).flatten(1).sum(1)
    per = torch.exp(w) / d * sq - w
    if sigma_weight:
        per = per / (sigma_d * torch.tan(t))
    loss = per.mean()
    stats = ScdStats(loss=float(loss.detach()), raw_tangent_norm=float(raw.mean()),
                     weight_mean=float(w.detach().mean()), consistency_mse=float(sq.detach().mean() / d))
    return loss, stats
