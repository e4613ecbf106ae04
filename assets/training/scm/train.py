"""Training loops for the sCM teacher (TrigFlow diffusion) and student (sCD), no Dagster.

The same functions run in-process inside an asset and in a separate process under Dagster Pipes
(`assets/training/scm/pipes.py`). All randomness comes from seeded CPU generators (moved to the
device afterwards), so a run is reproducible for a given device and thread count.
"""

from __future__ import annotations

import copy
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from assets.training.scm.config import StudentConfig, TeacherConfig
from assets.training.scm.data import ImageData
from assets.training.scm.model import EMA, AdaptiveWeight, NetConfig, build_net, count_params
from assets.training.scm.trigflow import SIGMA_D, sample_t, scd_loss, teacher_loss

LogFn = Callable[[dict], None]
EvalFn = Callable[[nn.Module, int], dict]


def lr_at(step: int, total: int, base: float, warmup: int, min_ratio: float) -> float:
    """Linear warm-up, then cosine decay from `base` to `base * min_ratio` at `total`."""
    if warmup and step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


def ema_decay_at(step: int, decay: float) -> float:
    """EMA decay ramped up from 0 so the average is not dominated by the initial weights."""
    return min(decay, (1 + step) / (10 + step))


@dataclass
class TrainResult:
    net_config: NetConfig
    state_dict: dict[str, torch.Tensor]  # EMA weights: what sampling uses
    curve: list[dict]
    meta: dict = field(default_factory=dict)


def _batch(x: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    return x[torch.randint(0, x.shape[0], (n,), generator=g)]


def train_teacher(cfg: TeacherConfig, data: ImageData, device: torch.device | str = "cpu",
                  on_log: LogFn | None = None) -> TrainResult:
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    net = build_net(cfg.net).to(device)
    ema = EMA.of(net, cfg.ema_decay)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    x_train = torch.from_numpy(data.part("train")[0])
    curve, window, start = [], [], time.perf_counter()
    for step in range(cfg.steps):
        lr = lr_at(step, cfg.steps, cfg.lr, cfg.warmup_steps, cfg.lr_min_ratio)
        for group in opt.param_groups:
            group["lr"] = lr
        x0 = _batch(x_train, cfg.batch, g)
        t = sample_t(cfg.batch, cfg.p_mean, cfg.p_std, g)
        z = torch.randn(x0.shape, generator=g) * SIGMA_D
        loss = teacher_loss(net, x0.to(device), t.to(device), z.to(device)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
        opt.step()
        ema.decay = ema_decay_at(step, cfg.ema_decay)
        ema.update(net)
        window.append(float(loss.detach()))
        if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps:
            row = {"step": step + 1, "loss": sum(window) / len(window), "lr": lr,
                   "grad_norm": float(gnorm), "elapsed_s": time.perf_counter() - start}
            curve.append(row)
            window = []
            if on_log:
                on_log(row)
    meta = {"params": count_params(net), "train_seconds": time.perf_counter() - start,
            "steps": cfg.steps, "batch": cfg.batch}
    return TrainResult(cfg.net, ema.state_dict(), curve, meta)


def load_net(net_config: NetConfig, state_dict: dict, device: torch.device | str = "cpu") -> nn.Module:
    net = build_net(net_config)
    net.load_state_dict(state_dict)
    return net.to(device).eval().requires_grad_(False)


def train_student(cfg: StudentConfig, teacher: nn.Module, net_config: NetConfig, data: ImageData,
                  device: torch.device | str = "cpu", on_log: LogFn | None = None,
                  evaluate: EvalFn | None = None) -> TrainResult:
    """sCD from a frozen teacher; the student starts as a copy of the teacher's weights."""
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    teacher = teacher.to(device).eval().requires_grad_(False)
    student = copy.deepcopy(teacher).train().requires_grad_(True)
    weight = AdaptiveWeight(net_config.emb_dim, net_config.max_freq).to(device)
    ema = EMA.of(student, cfg.ema_decay)
    opt = torch.optim.Adam(
        [{"params": student.parameters(), "lr": cfg.lr, "base": cfg.lr},
         {"params": weight.parameters(), "lr": cfg.weight_lr, "base": cfg.weight_lr}],
        betas=(0.9, 0.99))
    x_train = torch.from_numpy(data.part("train")[0])
    ema_net = copy.deepcopy(student).eval().requires_grad_(False)
    curve: list[dict] = []
    start = time.perf_counter()
    eval_seconds = 0.0

    def run_eval(step: int) -> dict:
        nonlocal eval_seconds
        t0 = time.perf_counter()
        ema_net.load_state_dict(ema.shadow)
        out = evaluate(ema_net, step) if evaluate else {}
        eval_seconds += time.perf_counter() - t0
        return out

    if evaluate and cfg.eval_every:
        row = {"step": 0, **run_eval(0)}
        curve.append(row)
        if on_log:
            on_log(row)
    window: list = []
    for step in range(cfg.steps):
        factor = lr_at(step, cfg.steps, 1.0, cfg.warmup_steps, cfg.lr_min_ratio)
        for group in opt.param_groups:
            group["lr"] = group["base"] * factor
        r = min(1.0, (step + 1) / cfg.tangent_warmup) if cfg.tangent_warmup else 1.0
        x0 = _batch(x_train, cfg.batch, g)
        t = sample_t(cfg.batch, cfg.p_mean, cfg.p_std, g)
        z = torch.randn(x0.shape, generator=g) * SIGMA_D
        loss, stats = scd_loss(student, teacher, weight, x0.to(device), t.to(device), z.to(device),
                               warmup_r=r, tangent_c=cfg.tangent_c, sigma_weight=cfg.sigma_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(student.parameters(), cfg.grad_clip)
        opt.step()
        ema.decay = ema_decay_at(step, cfg.ema_decay)
        ema.update(student)
        window.append(stats)
        last = step + 1 == cfg.steps
        if (step + 1) % cfg.log_every == 0 or last:
            n = len(window)
            row = {"step": step + 1, "loss": sum(s.loss for s in window) / n, "lr": cfg.lr * factor,
                   "tangent_r": r, "raw_tangent_norm": sum(s.raw_tangent_norm for s in window) / n,
                   "weight_mean": sum(s.weight_mean for s in window) / n, "grad_norm": float(gnorm),
                   "elapsed_s": time.perf_counter() - start - eval_seconds}
            window = []
            if evaluate and cfg.eval_every and ((step + 1) % cfg.eval_every == 0 or last):
                row.update(run_eval(step + 1))
            curve.append(row)
            if on_log:
                on_log(row)
    meta = {"params": count_params(student), "train_seconds": time.perf_counter() - start - eval_seconds,
            "eval_seconds": eval_seconds, "steps": cfg.steps, "batch": cfg.batch}
    return TrainResult(net_config, ema.state_dict(), curve, meta)


def checkpoint_bytes(kind: str, result: TrainResult, config: dict, data: ImageData) -> bytes:
    """One self-describing file: weights (EMA), net config, training config, data normalisation."""
    buf = io.BytesIO()
    torch.save({
        "kind": kind,
        "net_config": result.net_config.as_dict(),
        "state_dict": {k: v.detach().cpu() for k, v in result.state_dict.items()},
        "config": config,
        "data": {"source": data.source, "image_size": int(data.images.shape[-1]), "mean": data.mean,
                 "std": data.std, "sigma_d": data.sigma_d},
        "meta": result.meta,
    }, buf)
    return buf.getvalue()


def load_checkpoint(path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    net = load_net(NetConfig.from_dict(ckpt["net_config"]), ckpt["state_dict"], device)
    return net, ckpt
