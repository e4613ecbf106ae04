"""Samplers on a Gaussian whose PF-ODE is known in closed form: data N(0, s^2) gives
dx/dt = k(t) x with k = sin t cos t (sigma_d^2 - s^2) / A(t), A = cos^2 t s^2 + sin^2 t sigma_d^2,
so the ODE maps x_T to x_T * s / sqrt(A(T))."""

import math

import torch

from assets.training.scm.sampling import edm_time_schedule, heun, initial_noise, nfe, sample
from assets.training.scm.trigflow import SIGMA_D, T_MAX

torch.set_num_threads(1)
S = 0.2


class GaussianOracle(torch.nn.Module):
    """The exact F for data N(0, S^2): F(x / sigma_d, t) = k(t) x / sigma_d; counts its calls."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x, t):
        self.calls += 1
        tb = t.view(-1, 1, 1, 1).double()
        a = torch.cos(tb) ** 2 * S**2 + torch.sin(tb) ** 2 * SIGMA_D**2
        k = torch.sin(tb) * torch.cos(tb) * (SIGMA_D**2 - S**2) / a
        return (k * x.double()).to(x.dtype)


def _exact(x_T):
    a = math.cos(T_MAX) ** 2 * S**2 + math.sin(T_MAX) ** 2 * SIGMA_D**2
    return x_T * S / math.sqrt(a)


def test_schedule_runs_from_t_max_to_zero_decreasing():
    ts = edm_time_schedule(10)
    assert ts.shape == (11,) and abs(ts[0].item() - T_MAX) < 1e-6 and ts[-1].item() == 0.0
    assert (ts[1:] < ts[:-1]).all()


def test_heun_converges_at_second_order_to_the_exact_ode_solution():
    x, _ = initial_noise(64, (1, 8, 8), seed=0)
    x = x.double()
    errs = [(heun(GaussianOracle(), x, n) - _exact(x)).abs().max().item() for n in (16, 32, 64)]
    assert errs[2] < 2e-3
    assert errs[0] / errs[1] > 3 and errs[1] / errs[2] > 3


def test_sampler_shapes_and_network_evaluations():
    for kind, kw in (("heun", {"steps": 5}), ("euler2", {"t_mid": 1.0}), ("cm1", {}), ("cm2", {"t_mid": 1.1})):
        net = GaussianOracle()
        out = sample(net, kind, 10, (1, 8, 8), seed=3, batch=4, **kw)
        assert out.shape == (10, 1, 8, 8) and torch.isfinite(out).all()
        assert net.calls == 3 * nfe(kind, kw.get("steps", 1))  # 3 batches of 4, 4, 2


def test_same_seed_same_samples_and_common_noise():
    a = sample(GaussianOracle(), "cm2", 8, (1, 8, 8), seed=5, t_mid=0.9)
    b = sample(GaussianOracle(), "cm2", 8, (1, 8, 8), seed=5, t_mid=0.9)
    c = sample(GaussianOracle(), "cm2", 8, (1, 8, 8), seed=6, t_mid=0.9)
    assert torch.equal(a, b) and not torch.equal(a, c)
    # one-step consistency of the exact model is the posterior mean E[x0 | x_T]: shrunk towards 0
    x, _ = initial_noise(8, (1, 8, 8), seed=5)
    one = sample(GaussianOracle(), "cm1", 8, (1, 8, 8), seed=5)
    assert one.abs().mean() < 0.05 * x.abs().mean()
