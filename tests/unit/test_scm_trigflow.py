"""TrigFlow and the sCD loss: the JVP tangent against finite differences, the consistency
boundary condition, the tangent's normalisation and warm-up, what receives gradients."""

import math

import pytest
import torch

from assets.training.scm.config import NetConfig
from assets.training.scm.model import AdaptiveWeight, build_net
from assets.training.scm.trigflow import (
    SIGMA_D,
    T_MAX,
    call_f,
    consistency_fn,
    jvp_dfdt,
    sample_t,
    scd_loss,
    teacher_loss,
)

torch.set_num_threads(1)

NETS = {
    "unet": NetConfig(arch="unet", channels=8, channel_mult=(1, 2), blocks=1, emb_dim=16, groups=4),
    "mlp": NetConfig(arch="mlp", channels=32, blocks=2, emb_dim=16),
}


def _random_net(cfg: NetConfig, seed: int = 0, dtype=torch.float64):
    torch.manual_seed(seed)
    net = build_net(cfg).to(dtype)
    with torch.no_grad():  # zero-initialised output layers would make every derivative trivially 0
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return net


@pytest.mark.parametrize("arch", sorted(NETS))
def test_jvp_tangent_matches_central_finite_differences(arch):
    net = _random_net(NETS[arch])
    g = torch.Generator().manual_seed(1)
    x = torch.randn(4, 1, 8, 8, generator=g, dtype=torch.float64) * SIGMA_D
    t = torch.rand(4, generator=g, dtype=torch.float64) * 1.4 + 0.05
    dxdt = torch.randn(4, 1, 8, 8, generator=g, dtype=torch.float64)
    f_minus, cs_dfdt = jvp_dfdt(net, x, t, dxdt)
    h = 1e-6

    def along(eps):  # F(x_t / sigma_d, t) moved along the trajectory (x + eps dx/dt, t + eps)
        return call_f(net, x + eps * dxdt, t + eps)

    fd = (along(h) - along(-h)) / (2 * h) * (torch.cos(t) * torch.sin(t)).view(-1, 1, 1, 1)
    assert torch.allclose(f_minus, call_f(net, x, t))
    assert fd.abs().max() > 1e-3  # a non-trivial derivative
    assert torch.allclose(cs_dfdt, fd, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("arch", sorted(NETS))
def test_consistency_function_is_identity_at_t0(arch):
    net = _random_net(NETS[arch], dtype=torch.float32)
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(consistency_fn(net, x, torch.zeros(3)), x)
    assert not torch.allclose(consistency_fn(net, x, torch.full((3,), 0.7)), x)


def test_log_normal_proposal_has_the_right_median_and_range():
    t = sample_t(20000, -1.0, 1.4, torch.Generator().manual_seed(0))
    assert t.min() > 0 and t.max() < math.pi / 2
    assert abs(t.median().item() - math.atan(math.exp(-1.0) / SIGMA_D)) < 0.01
    assert abs(T_MAX - 1.56454) < 1e-5


def test_teacher_loss_is_zero_for_the_exact_velocity():
    class Oracle(torch.nn.Module):  # knows x0 and z of this batch, so can return v_t / sigma_d
        def forward(self, x, t):
            tb = t.view(-1, 1, 1, 1)
            return (torch.cos(tb) * z - torch.sin(tb) * x0) / SIGMA_D

    x0, z = torch.randn(5, 1, 8, 8), torch.randn(5, 1, 8, 8) * SIGMA_D
    t = torch.rand(5) * 1.5
    assert teacher_loss(Oracle(), x0, t, z).abs().max() < 1e-10
    assert (teacher_loss(_random_net(NETS["mlp"], dtype=torch.float32), x0, t, z) > 0).all()


def _scd(student, teacher, r, sigma_weight=False):
    g = torch.Generator().manual_seed(3)
    x0 = torch.randn(6, 1, 8, 8, generator=g) * SIGMA_D
    z = torch.randn(6, 1, 8, 8, generator=g) * SIGMA_D
    t = sample_t(6, -1.0, 1.4, g)
    weight = AdaptiveWeight(16, 32.0)
    loss, stats = scd_loss(student, teacher, weight, x0, t, z, warmup_r=r, sigma_weight=sigma_weight)
    return loss, stats, weight


def test_scd_tangent_vanishes_for_a_student_equal_to_its_teacher_before_warmup():
    teacher = _random_net(NETS["mlp"], dtype=torch.float32).requires_grad_(False)
    student = _random_net(NETS["mlp"], dtype=torch.float32)
    loss, stats, _ = _scd(student, teacher, r=0.0)
    assert stats.consistency_mse < 1e-12  # g = -cos^2 (sigma_d F^- - dx/dt) = 0 when F^- = F_teacher
    _, warm, _ = _scd(student, teacher, r=1.0)
    assert 0 < warm.consistency_mse < 1.0 / 64  # normalised: ||g|| / (||g|| + 0.1) < 1, over D = 64
    assert warm.raw_tangent_norm > 0


def test_scd_gradients_reach_student_and_weighting_not_teacher():
    teacher = _random_net(NETS["mlp"], seed=1, dtype=torch.float32).requires_grad_(False)
    student = _random_net(NETS["mlp"], seed=2, dtype=torch.float32)
    loss, _, weight = _scd(student, teacher, r=1.0)
    loss.backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert sum(p.grad.abs().sum() for p in student.parameters() if p.grad is not None) > 0
    assert weight.lin.weight.grad.abs().sum() > 0


def test_sigma_weight_flag_reweights_by_inverse_sigma():
    teacher = _random_net(NETS["mlp"], seed=1, dtype=torch.float32).requires_grad_(False)
    student = _random_net(NETS["mlp"], seed=2, dtype=torch.float32)
    plain, _, _ = _scd(student, teacher, 1.0)
    weighted, _, _ = _scd(student, teacher, 1.0, sigma_weight=True)
    assert not torch.isclose(plain, weighted)
