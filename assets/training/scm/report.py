"""The sCM quality/speed report, no Dagster: teacher Heun sweep and its reference NFE, naive
teacher 2-step, student 1-step and 2-step (t_mid tuned on val), FD on the test split beside the
real-vs-real floor, wall-clock per sample measured side by side, class coverage.

Selection (the reference NFE, every t_mid, the student's chosen sampler) uses FD on the val split;
the reported figures are FD on the test split of the same samples, each with a 95% bootstrap
interval (`Judge.bootstrap_fd`: the real test images and each sampler's samples redrawn, the real
draw shared within a round, so ratios are paired; `interval` centres the rounds on the estimate).

Two speed-ups per sampler: against the fixed reference sampler (the teacher at its reference
NFE), and at matched quality: the NFE at which the teacher's Heun curve reaches the sampler's test
FD (interpolated in log NFE between the two swept points around it), timed by running Heun at
those two step counts side by side with the students and interpolating linearly in NFE. Where
the sampler beats the teacher at every swept NFE the matched NFE is a lower bound (`matched_bound`
">="); where it is worse than the teacher's cheapest sweep point, an upper bound ("<="). The
matched speed-up's interval carries the FD uncertainty (the matched NFE moves with each bootstrap
round); the timings are the median of interleaved repeats and enter it as fixed. The chosen student sampler is
the cheapest one whose val FD is within `target_ratio` of the teacher's reference sampler (1 step
before 2), else the one with the lower val FD. All samplers draw their initial
noise from the same seed (common random numbers).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assets.training.scm.config import ReportConfig
from assets.training.scm.data import ImageData
from assets.training.scm.evaluate import Judge

if TYPE_CHECKING:  # the matching and interval arithmetic needs no torch; build_report imports it
    import torch
    from torch import nn

ROW_COLUMNS = ("section", "sampler", "network", "nfe", "steps", "t_mid", "fd_val", "fd_test", "fd_test_lo",
               "fd_test_hi", "ratio_to_teacher", "ratio_lo", "ratio_hi", "excess_ratio", "excess_lo", "excess_hi",
               "sec_per_sample", "speedup_vs_reference", "matched_nfe", "matched_nfe_lo", "matched_nfe_hi",
               "matched_bound", "speedup_matched", "speedup_matched_lo", "speedup_matched_hi",
               "coverage", "min_class_share", "max_class_share", "reference", "chosen")
MATCHED = ("teacher_2step", "student_1step", "student_2step")


@dataclass
class Report:
    rows: list[dict]
    reference_nfe: int
    chosen: str
    floor_val: float
    floor_test: float
    classifier_accuracy: dict
    samples: dict[str, np.ndarray]  # a few decoded samples per sampler, for the picture


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


def matched_nfe(nfes: list[int], fds: list[float], fd: float) -> tuple[float, str]:
    """The NFE at which the teacher's FD curve (ascending NFE) first reaches `fd`, interpolated
    in log NFE between the swept points around it; with a bound: "" (inside the sweep), ">="
    (better than the teacher at every NFE: the largest NFE) or "<=" (no better than its cheapest)."""
    if fds[0] <= fd:
        return float(nfes[0]), "<="
    for i in range(1, len(nfes)):
        if fds[i] <= fd:
            w = (fds[i - 1] - fd) / (fds[i - 1] - fds[i])
            return float(np.exp(np.log(nfes[i - 1]) + w * (np.log(nfes[i]) - np.log(nfes[i - 1])))), ""
    return float(nfes[-1]), ">="


def bracket(nfes: list[int], nfe: float) -> tuple[int, int]:
    """The swept NFEs around `nfe` (the same one twice at either end)."""
    lo = max((n for n in nfes if n <= nfe), default=nfes[0])
    hi = min((n for n in nfes if n >= nfe), default=nfes[-1])
    return lo, hi


def time_at(timed: dict[int, float], nfe: float) -> float:
    """Seconds per sample of the teacher's Heun at `nfe`: linear in NFE through the timed points
    around it (the nearest segment beyond them; proportional with a single point)."""
    points = sorted(timed.items())
    if len(points) == 1:
        (n0, t0), = points
        return t0 * nfe / n0
    i = min(max(1, sum(n <= nfe for n, _ in points)), len(points) - 1)
    (n0, t0), (n1, t1) = points[i - 1], points[i]
    return max(t0 + (t1 - t0) * (nfe - n0) / (n1 - n0), t0 * nfe / n0 / 2)  # noisy timings never reach 0


def matched_figures(nfes: list[int], curve: list[float], boot_curve: np.ndarray, fd: float, fd_boot: np.ndarray,
                    heun_time: dict[int, float], sec: float) -> dict:
    """A sampler's speed-up at matched quality and its interval: the teacher NFE reaching `fd` on
    the Heun `curve` (test FD per swept NFE), found again in every bootstrap round (`boot_curve`
    [rounds, NFEs] against `fd_boot`), timed by `time_at` and divided by the sampler's `sec`."""
    m_nfe, bound = matched_nfe(nfes, curve, fd)
    m_boot = np.array([matched_nfe(nfes, list(c), f)[0] for c, f in zip(boot_curve, fd_boot, strict=True)])
    s_boot = np.array([time_at(heun_time, m) for m in m_boot]) / sec
    speedup = time_at(heun_time, m_nfe) / sec
    return dict(matched_nfe=m_nfe, matched_bound=bound, speedup_matched=speedup,
                **dict(zip(("matched_nfe_lo", "matched_nfe_hi"), interval(m_boot, m_nfe), strict=True)),
                **dict(zip(("speedup_matched_lo", "speedup_matched_hi"), interval(s_boot, speedup), strict=True)))


def excess_interval(fd: np.ndarray, ref: np.ndarray, floor: np.ndarray, point: float) -> tuple[float | None, float | None]:
    """The interval of (FD - floor) / (teacher FD - floor), where the teacher stands clear of the
    floor in at least 97.5% of the rounds; else none (the ratio's denominator is noise)."""
    gap = ref - floor
    if np.mean(gap > 0) < 0.975:
        return None, None
    return interval((fd - floor) / np.where(gap > 0, gap, np.nan), point)


def interval(rounds: np.ndarray, point: float) -> tuple[float, float]:
    """95% interval: the 2.5-97.5 percentiles of the bootstrap rounds, shifted so their median is
    the point estimate. Redrawing with replacement repeats images, which adds its own upward bias
    to an FD (about 1/n); the spread of the rounds is the sampling uncertainty, their offset is not."""
    lo, mid, hi = np.nanpercentile(rounds, [2.5, 50, 97.5])
    return float(lo - mid + point), float(hi - mid + point)


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
    import torch

    from assets.training.scm import sampling as scm_sampling

    judge = Judge(data, cfg.classifier_hidden, seed=cfg.seed)
    shape, n, seed = data.shape, cfg.eval_samples, cfg.seed
    floor_draw = judge.train_draw(n, seed)
    floor_val, floor_test = judge.fd(floor_draw, "val"), judge.fd(floor_draw, "test")
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

    nfes = [2 * st for st in sorted(sweep)]
    point = {name: matched_nfe(nfes, [sweep[st][1] for st in sorted(sweep)], res[1])
             for name, res in (("teacher_2step", euler2), ("student_1step", cm1), ("student_2step", cm2))}
    heun_timed = sorted({ref_steps} | {nfe // 2 for m, _ in point.values() for nfe in bracket(nfes, m)})
    log(f"matched NFE (test FD): {', '.join(f'{k} {v[1]}{v[0]:.1f}' for k, v in point.items())}; "
        f"timing Heun at {[2 * st for st in heun_timed]} NFE")

    b = cfg.timing_batch
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)

    def heun(st: int):
        return lambda: scm_sampling.sample(teacher, "heun", b, shape, seed, steps=st, batch=b, device=device)

    timed = time_samplers({
        **{f"heun_{st}": heun(st) for st in heun_timed},
        "teacher_2step": lambda: scm_sampling.sample(teacher, "euler2", b, shape, seed, t_mid=t_euler, batch=b, device=device),
        "student_1step": lambda: scm_sampling.sample(student, "cm1", b, shape, seed, batch=b, device=device),
        "student_2step": lambda: scm_sampling.sample(student, "cm2", b, shape, seed, t_mid=t_cm2, batch=b, device=device),
    }, b, cfg.timing_repeats, sync)
    timed["teacher_reference"] = timed[f"heun_{ref_steps}"]
    heun_time = {2 * st: timed[f"heun_{st}"] for st in heun_timed}

    boot = judge.bootstrap_fd({**{f"heun_{st}": v[2] for st, v in sweep.items()}, "teacher_2step": euler2[2],
                               "student_1step": cm1[2], "student_2step": cm2[2], "floor": floor_draw},
                              "test", cfg.bootstrap, seed)
    boot["teacher_reference"] = boot[f"heun_{ref_steps}"]
    boot_curve = np.stack([boot[f"heun_{st}"] for st in sorted(sweep)], axis=1)  # [rounds, NFEs]

    ref_val, ref_test, _ = sweep[ref_steps]
    rows = []
    for steps, (fv, ft, _) in sorted(sweep.items()):
        rows.append(_row(section="heun_sweep", sampler="heun", network="teacher", nfe=2 * steps, steps=steps,
                         fd_val=fv, fd_test=ft, ratio_to_teacher=ft / ref_test,
                         sec_per_sample=timed.get(f"heun_{steps}"),
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
        fd_b, ref_b, floor_b = boot[name], boot["teacher_reference"], boot["floor"]
        excess = (ft - floor_test) / max(ref_test - floor_test, 1e-9)
        matched = (matched_figures(nfes, [sweep[st][1] for st in sorted(sweep)], boot_curve, ft, fd_b, heun_time,
                                   timed[name]) if name in MATCHED else {})
        rows.append(_row(
            section="sampler", sampler=name, network=network, nfe=nfe, steps=steps, t_mid=tm, fd_val=fv, fd_test=ft,
            **dict(zip(("fd_test_lo", "fd_test_hi"), interval(fd_b, ft), strict=True)),
            ratio_to_teacher=ft / ref_test,
            **dict(zip(("ratio_lo", "ratio_hi"), interval(fd_b / ref_b, ft / ref_test), strict=True)),
            excess_ratio=excess,
            **dict(zip(("excess_lo", "excess_hi"), excess_interval(fd_b, ref_b, floor_b, excess), strict=True)),
            sec_per_sample=timed[name], speedup_vs_reference=timed["teacher_reference"] / timed[name], **matched,
            coverage=cov["coverage"], min_class_share=cov["min_class_share"],
            max_class_share=cov["max_class_share"], reference=name == "teacher_reference",
            chosen=name == chosen))
        samples[name] = data.decode(data.clip(x[:64].numpy()))
    real_x, _ = data.part("test")
    samples["real_test"] = data.decode(real_x[:64])
    rows.append(_row(section="floor", sampler="real_vs_real", network="data", fd_val=floor_val, fd_test=floor_test,
                     **dict(zip(("fd_test_lo", "fd_test_hi"), interval(boot["floor"], floor_test), strict=True)),
                     ratio_to_teacher=floor_test / ref_test, reference=False, chosen=False,
                     **judge.coverage(real_x)))
    return Report(rows, 2 * ref_steps, chosen, floor_val, floor_test, judge.accuracy, samples)
