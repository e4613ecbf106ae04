"""Training loops on the real digits with small budgets: the loss falls, runs are reproducible
from their seed, checkpoints round-trip, every profile's network builds and differentiates."""

import dataclasses

import pytest
import torch

from assets.training.profiles import PROFILES
from assets.training.scm.config import scm_config
from assets.training.scm.data import load_images
from assets.training.scm.model import build_net
from assets.training.scm.train import (
    checkpoint_bytes,
    load_checkpoint,
    load_net,
    lr_at,
    train_student,
    train_teacher,
)
from assets.training.scm.trigflow import jvp_dfdt

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data():
    return load_images("digits", seed=0)


def _teacher_cfg(steps):
    return dataclasses.replace(scm_config("fast").teacher, steps=steps, log_every=10)


def test_teacher_loss_decreases(data):
    res = train_teacher(_teacher_cfg(150), data)
    first, last = res.curve[0]["loss"], res.curve[-1]["loss"]
    assert last < 0.8 * first
    assert [r["step"] for r in res.curve][-1] == 150


def test_same_seed_same_weights_other_seed_other_weights(data):
    a = train_teacher(_teacher_cfg(20), data)
    b = train_teacher(_teacher_cfg(20), data)
    c = train_teacher(dataclasses.replace(_teacher_cfg(20), seed=5), data)
    assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)
    assert any(not torch.equal(a.state_dict[k], c.state_dict[k]) for k in a.state_dict)
    teacher = load_net(a.net_config, a.state_dict)
    scfg = dataclasses.replace(scm_config("fast").student, steps=12, log_every=4, eval_every=0)
    s1 = train_student(scfg, teacher, a.net_config, data)
    s2 = train_student(scfg, teacher, a.net_config, data)
    assert all(torch.equal(s1.state_dict[k], s2.state_dict[k]) for k in s1.state_dict)
    assert [r["loss"] for r in s1.curve] == [r["loss"] for r in s2.curve]
    # the student started from the teacher and moved away from it
    assert any(not torch.equal(s1.state_dict[k], a.state_dict[k]) for k in a.state_dict)


def test_checkpoint_round_trip(tmp_path, data):
    res = train_teacher(_teacher_cfg(5), data)
    path = tmp_path / "t.pt"
    path.write_bytes(checkpoint_bytes("scm_teacher", res, {"seed": 0}, data))
    net, ckpt = load_checkpoint(path)
    x, t = torch.randn(3, 1, 8, 8), torch.rand(3)
    assert torch.equal(net(x, t), load_net(res.net_config, res.state_dict)(x, t))
    assert ckpt["data"]["std"] == data.std and ckpt["kind"] == "scm_teacher"


def test_lr_schedule_warms_up_then_decays_to_the_floor():
    lrs = [lr_at(s, 100, 1.0, 10, 0.1) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(b <= a for a, b in zip(lrs[10:], lrs[11:], strict=False))
    assert lrs[-1] == pytest.approx(0.1, abs=1e-3)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_network_builds_and_has_a_jvp(profile):
    net = build_net(scm_config(profile).teacher.net)
    x, t = torch.randn(2, 1, 8, 8), torch.rand(2) + 0.1
    f, d = jvp_dfdt(net, x, t, torch.randn_like(x))
    assert f.shape == d.shape == (2, 1, 8, 8)
