"""The sCM scaling study, no Dagster: does distillation keep its quality as the model grows, and do
more sampling steps narrow the gap to the teacher? (the two claims of the sCM paper, section 6:
the FID ratio to the teacher stays about the same across sizes; 2 steps close much of the 1-step
gap.)

One size is one cell row group: the profile's recipe at a width (`config.scaled`), teacher and
student trained from scratch, then judged as `report.py` judges the main pair: FD in the judge
classifier's features on the test split, the teacher's Heun sweep and reference NFE, and for
the student 1, 2 and 4 steps. The intermediate times of a k-step student are chosen greedily on
the val split: the best t_mid for step 2, then the best smaller one for step 3 given it, and so
on, so the 2-step sampler is the 4-step one's prefix. Every FD, ratio and speed-up has a paired
bootstrap interval (the same real and sample redraws for every sampler in a round); `p_no_gain`
is the share of rounds in which k steps are no closer to the teacher than the previous step
count (a one-sided bootstrap p-value for "more steps narrow the gap").

`claims` reads the rows of every size and says, in words, whether each claim holds here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from assets.training.scm.config import ReportConfig
from assets.training.scm.data import ImageData
from assets.training.scm.evaluate import Judge
from assets.training.scm.report import (
    bracket,
    interval,
    matched_figures,
    matched_nfe,
    reference_steps,
    time_samplers,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

COLUMNS = ("size", "network", "params", "steps", "nfe", "t_mids", "fd_test", "fd_test_lo", "fd_test_hi",
           "ratio_to_teacher", "ratio_lo", "ratio_hi", "p_no_gain", "sec_per_sample", "speedup_vs_reference",
           "matched_nfe", "matched_bound", "speedup_matched", "speedup_matched_lo", "speedup_matched_hi",
           "fd_floor", "reference_nfe")


def greedy_t_mids(measure: Callable[[tuple[float, ...]], tuple[float, ...]], candidates: Sequence[float],
                  max_steps: int) -> dict[int, tuple[tuple[float, ...], tuple]]:
    """{k: (t_mids, measure(t_mids))} for k = 1..max_steps; `measure` returns val FD first. Each
    added time is below the previous one (the chain re-noises less and less)."""
    chosen: tuple[float, ...] = ()
    out = {1: (chosen, measure(chosen))}
    for k in range(2, max_steps + 1):
        options = [t for t in candidates if not chosen or t < chosen[-1]] or [chosen[-1] / 2]
        results = {t: measure((*chosen, t)) for t in options}
        best = min(results, key=lambda t: results[t][0])
        chosen = (*chosen, best)
        out[k] = (chosen, results[best])
    return out


def study_size(size: str, teacher: nn.Module, student: nn.Module, params: int, data: ImageData, cfg: ReportConfig,
               steps: Sequence[int], device: torch.device | str = "cpu",
               log: Callable[[str], None] = lambda m: None) -> list[dict]:
    """The rows of one size: the teacher's reference sampler and the student at each step count."""
    import torch

    from assets.training.scm import sampling as scm_sampling

    judge = Judge(data, cfg.classifier_hidden, seed=cfg.seed)
    shape, n, seed = data.shape, cfg.eval_samples, cfg.seed
    floor_draw = judge.train_draw(n, seed)
    floor = judge.fd(floor_draw, "test")

    def measure(net, kind, **kw) -> tuple[float, float, torch.Tensor]:
        x = scm_sampling.sample(net, kind, n, shape, seed, device=device, **kw)
        return judge.fd(x, "val"), judge.fd(x, "test"), x

    sweep = {st: measure(teacher, "heun", steps=st) for st in sorted(cfg.heun_steps)}
    ref_steps = reference_steps({s: v[0] for s, v in sweep.items()}, cfg.ref_tolerance)
    tuned = greedy_t_mids(lambda tm: measure(student, "cm", t_mids=tm), cfg.t_mids, max(steps))
    tuned = {k: tuned[k] for k in steps}
    log(f"{size}: teacher reference {2 * ref_steps} NFE FD {sweep[ref_steps][1]:.3f}; student " + ", ".join(
        f"{k} steps FD {res[1]:.3f} (t_mids {list(tm)})" for k, (tm, res) in tuned.items()))

    nfes = [2 * st for st in sorted(sweep)]
    curve = [sweep[st][1] for st in sorted(sweep)]
    point = {k: matched_nfe(nfes, curve, res[1]) for k, (_, res) in tuned.items()}
    heun_timed = sorted({ref_steps} | {m // 2 for v, _ in point.values() for m in bracket(nfes, v)})
    b = cfg.timing_batch
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)

    def heun(st: int):
        return lambda: scm_sampling.sample(teacher, "heun", b, shape, seed, steps=st, batch=b, device=device)

    def cm(tm: tuple[float, ...]):
        return lambda: scm_sampling.sample(student, "cm", b, shape, seed, t_mids=tm, batch=b, device=device)

    timed = time_samplers({**{f"heun_{st}": heun(st) for st in heun_timed},
                           **{f"student_{k}": cm(tm) for k, (tm, _) in tuned.items()}}, b, cfg.timing_repeats, sync)
    heun_time = {2 * st: timed[f"heun_{st}"] for st in heun_timed}
    boot = judge.bootstrap_fd({**{f"heun_{st}": v[2] for st, v in sweep.items()},
                               **{f"student_{k}": res[2] for k, (_, res) in tuned.items()}}, "test", cfg.bootstrap, seed)
    ref_fd, ref_boot = sweep[ref_steps][1], boot[f"heun_{ref_steps}"]
    boot_curve = np.stack([boot[f"heun_{st}"] for st in sorted(sweep)], axis=1)
    common = {"size": size, "params": params, "fd_floor": floor, "reference_nfe": 2 * ref_steps}
    rows = [{**common, "network": "teacher", "steps": ref_steps, "nfe": 2 * ref_steps, "t_mids": "[]",
             "fd_test": ref_fd, **dict(zip(("fd_test_lo", "fd_test_hi"), interval(ref_boot, ref_fd), strict=True)),
             "ratio_to_teacher": 1.0, "sec_per_sample": timed[f"heun_{ref_steps}"], "speedup_vs_reference": 1.0}]
    previous = None
    for k, (tm, (_, fd, _)) in tuned.items():
        ratio_b = boot[f"student_{k}"] / ref_boot
        sec = timed[f"student_{k}"]
        rows.append({
            **common, "network": "student", "steps": k, "nfe": k, "t_mids": json.dumps([round(t, 3) for t in tm]),
            "fd_test": fd, **dict(zip(("fd_test_lo", "fd_test_hi"), interval(boot[f"student_{k}"], fd), strict=True)),
            "ratio_to_teacher": fd / ref_fd,
            **dict(zip(("ratio_lo", "ratio_hi"), interval(ratio_b, fd / ref_fd), strict=True)),
            "p_no_gain": None if previous is None else float(np.mean(ratio_b >= previous)),
            "sec_per_sample": sec, "speedup_vs_reference": timed[f"heun_{ref_steps}"] / sec,
            **matched_figures(nfes, curve, boot_curve, fd, boot[f"student_{k}"], heun_time, sec)})
        previous = ratio_b
    return [{c: r.get(c) for c in COLUMNS} for r in rows]


def claims(rows: Sequence[dict], alpha: float = 0.05) -> dict[str, dict]:
    """Whether each of the paper's two claims holds on these rows (every size's students), with
    the figures it rests on. 'Consistent across sizes': for every step count, the sizes' ratio
    intervals share a common point. 'More steps narrow the gap': for every size, each step count's
    ratio is below the previous one's in at least 1 - alpha of the paired bootstrap rounds."""
    students = [r for r in rows if r["network"] == "student"]
    sizes = sorted({r["size"] for r in students}, key=lambda s: min(r["params"] for r in students if r["size"] == s))
    by_steps: dict[int, list[dict]] = {}
    for r in students:
        by_steps.setdefault(r["steps"], []).append(r)
    consistent, ratios = True, {}
    for k, rs in sorted(by_steps.items()):
        rs = sorted(rs, key=lambda r: r["params"])
        ratios[k] = {r["size"]: round(r["ratio_to_teacher"], 3) for r in rs}
        consistent &= max(r["ratio_lo"] for r in rs) <= min(r["ratio_hi"] for r in rs)
    gains = {s: {r["steps"]: r["p_no_gain"] for r in students if r["size"] == s and r["p_no_gain"] is not None}
             for s in sizes}
    narrows = all(p < alpha for g in gains.values() for p in g.values()) and any(gains.values())
    one = ratios.get(min(by_steps), {}) if by_steps else {}
    return {
        "consistent_across_sizes": {
            "holds": bool(consistent and len(sizes) > 1), "ratio_by_steps_and_size": ratios,
            "statement": (f"FD ratio to the teacher is consistent across {len(sizes)} sizes "
                          f"(1 step: {', '.join(f'{s} {v}' for s, v in one.items())}; every step count's intervals overlap)"
                          if consistent else
                          f"FD ratio to the teacher changes with size beyond its intervals "
                          f"(1 step: {', '.join(f'{s} {v}' for s, v in one.items())})")},
        "more_steps_narrow_gap": {
            "holds": bool(narrows), "p_no_gain": gains,
            "statement": ("every size gets closer to its teacher with each added step (p < "
                          f"{alpha} in paired bootstrap rounds)" if narrows else
                          "adding steps does not narrow the gap at every size: " + "; ".join(
                              f"{s}: " + ", ".join(f"{k} steps p={p:.2f}" for k, p in g.items() if p >= alpha)
                              for s, g in gains.items() if any(p >= alpha for p in g.values())))},
    }
