"""The sCM quality/speed report, no Dagster: teacher Heun sweep and its reference NFE, naive
teacher 2-step, student 1-step and 2-step (t_mid tuned on val), FD on the test split beside the
real-vs-real floor, wall-clock per sample measured side by side, class coverage.

Selection (the reference NFE, every t_mid, the student's chosen sampler) uses FD on the val split;
the reported figures are FD on the test split of the same samples. The chosen student sampler is
the cheapest one whose val FD is within `target_ratio` of the teacher's reference sampler (1 step
before 2), else the one with the lower val FD. All samplers draw their initial
noise from the same seed (common random numbers).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from assets.training.scm import sampling as scm_sampling
from assets.training.scm.config import ReportConfig
from assets.training.scm.data import ImageData
from assets.training.scm.evaluate import Judge

ROW_COLUMNS = ("section", "sampler", "network", "nfe", "steps", "t_mid", "fd_val", "fd_test",
               "ratio_to_teacher", "excess_ratio", "sec_per_sample", "speedup_vs_reference",
               "coverage", "min_class_share", "max_class_share", "reference", "chosen")


@dataclass
class Report:
    rows: list[dict]
    reference_nfe: int
    chosen: str
    floor_val: float
    floor_test: float
    classifier_accuracy: dict
    samples: dict[str, np.ndarray]  # a few decoded samples per sampler, for the picture

    def row(self, sampler: str) -> dict:
        return next(r for r in self.rows if r["section"] == "sampler" and r["sampler"] == sampler)


def _row(**kw) -> dict:
    return {c: kw.get(c) for c in ROW_COLUMNS}


def reference_steps(fd_by_steps: dict[int, float], tolerance: float) -> int:
    """The smallest step count whose FD is within `tolerance` (relative) of the FD at the largest
    step count (126 NFE by default)."""
    top = fd_by_steps[max(fd_by_steps)]
    return min(s for s, fd in fd_by_steps.items() if fd <= top * (1 + tolerance))


def choose_sampler(fd_val: dict[str, float], teacher_fd_val: float, target_ratio: float) -> str:
    """`fd_val` maps sampler name to val FD, cheapest first."""
    for name, fd in fd_val.items():
        if fd <= target_ratio * teacher_fd_val:
            return name
    return min(fd_val, key=fd_val.get)


def time_samplers(samplers: dict[str, Callable[[], torch.Tensor]], batch: int, repeats: int,
                  sync: Callable[[], None] = lambda: None) -> dict[str, float]:
    """Seconds per sample of each sampler: one warm-up, then `repeats` rounds interleaving the
    samplers (so machine load hits all of them alike), median per sampler."""
    times: dict[str, list[float]] = {k: [] for k in samplers}
    for fn in samplers.values():
        fn()
    sync()
    for _ in range(repeats):
        for name, fn in samplers.items():
            t0 = time.perf_counter()
            fn()
            sync()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) / batch for k, v in times.items()}


def build_report(teacher: nn.Module, student: nn.Module, data: ImageData, cfg: ReportConfig,
                 device: torch.device | str = "cpu", log: Callable[[str], None] = lambda m: None) -> Report:
    judge = Judge(data, cfg.classifier_hidden, seed=cfg.seed)
    shape, n, seed = data.shape, cfg.eval_samples, cfg.seed
    floor_val = judge.real_floor(n, "val", seed)
    floor_test = judge.real_floor(n, "test", seed)
    log(f"classifier accuracy {judge.accuracy}; real-vs-real floor val {floor_val:.3f} test {floor_test:.3f}")

    def measure(net, kind, **kw) -> tuple[float, float, torch.Tensor]:
        x = scm_sampling.sample(net, kind, n, shape, seed, device=device, **kw)
        return judge.fd(x, "val"), judge.fd(x, "test"), x

    sweep: dict[int, tuple[float, float, torch.Tensor]] = {}
    for steps in sorted(cfg.heun_steps):
        sweep[steps] = measure(teacher, "heun", steps=steps)
        log(f"teacher heun NFE {2 * steps}: FD val {sweep[steps][0]:.3f} test {sweep[steps][1]:.3f}")
    ref_steps = reference_steps({s: v[0] for s, v in sweep.items()}, cfg.ref_tolerance)

    def tune(net, kind) -> tuple[float, tuple[float, float, torch.Tensor]]:
        results = {tm: measure(net, kind, t_mid=tm) for tm in cfg.t_mids}
        best = min(results, key=lambda tm: results[tm][0])
        return best, results[best]

    t_euler, euler2 = tune(teacher, "euler2")
    cm1 = measure(student, "cm1")
    t_cm2, cm2 = tune(student, "cm2")
    chosen = choose_sampler({"student_1step": cm1[0], "student_2step": cm2[0]}, sweep[ref_steps][0],
                            cfg.target_ratio)

    b = cfg.timing_batch
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    timed = time_samplers({
        "teacher_reference": lambda: scm_sampling.sample(teacher, "heun", b, shape, seed, steps=ref_steps, batch=b, device=device),
        "teacher_2step": lambda: scm_sampling.sample(teacher, "euler2", b, shape, seed, t_mid=t_euler, batch=b, device=device),
        "student_1step": lambda: scm_sampling.sample(student, "cm1", b, shape, seed, batch=b, device=device),
        "student_2step": lambda: scm_sampling.sample(student, "cm2", b, shape, seed, t_mid=t_cm2, batch=b, device=device),
    }, b, cfg.timing_repeats, sync)

    ref_val, ref_test, _ = sweep[ref_steps]
    rows = []
    for steps, (fv, ft, _) in sorted(sweep.items()):
        rows.append(_row(section="heun_sweep", sampler="heun", network="teacher", nfe=2 * steps, steps=steps,
                         fd_val=fv, fd_test=ft, ratio_to_teacher=ft / ref_test,
                         reference=steps == ref_steps, chosen=False))
    entries = [
        ("teacher_reference", "teacher", 2 * ref_steps, ref_steps, None, sweep[ref_steps]),
        ("teacher_2step", "teacher", 2, 2, t_euler, euler2),
        ("student_1step", "student", 1, 1, None, cm1),
        ("student_2step", "student", 2, 2, t_cm2, cm2),
    ]
    samples = {}
    for name, network, nfe, steps, tm, (fv, ft, x) in entries:
        cov = judge.coverage(x)
        rows.append(_row(
            section="sampler", sampler=name, network=network, nfe=nfe, steps=steps, t_mid=tm, fd_val=fv, fd_test=ft,
            ratio_to_teacher=ft / ref_test,
            excess_ratio=(ft - floor_test) / max(ref_test - floor_test, 1e-9),
            sec_per_sample=timed[name], speedup_vs_reference=timed["teacher_reference"] / timed[name],
            coverage=cov["coverage"], min_class_share=cov["min_class_share"],
            max_class_share=cov["max_class_share"], reference=name == "teacher_reference",
            chosen=name == chosen))
        samples[name] = data.decode(data.clip(x[:64].numpy()))
    real_x, _ = data.part("test")
    samples["real_test"] = data.decode(real_x[:64])
    rows.append(_row(section="floor", sampler="real_vs_real", network="data", fd_val=floor_val, fd_test=floor_test,
                     ratio_to_teacher=floor_test / ref_test, reference=False, chosen=False,
                     **judge.coverage(real_x)))
    return Report(rows, 2 * ref_steps, chosen, floor_val, floor_test, judge.accuracy, samples)
