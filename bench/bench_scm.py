"""sCM quality/speed benchmark: teacher -> student -> report at the `default` profile (the CPU
budget), through the same job functions the assets run (`scm/jobs.run_job`: teacher, student,
report), once per training seed, printing:

- the teacher's Heun sweep (FD at each NFE up to 126, seconds per sample where timed) and the
  chosen reference NFE;
- naive teacher 2-step, student 1-step and 2-step (t_mid tuned on val): FD with its 95% bootstrap
  interval, ratio to the teacher and excess over the real-vs-real floor (paired intervals),
  wall-clock speed-up against the reference sampler and at matched quality (the teacher NFE that
  reaches the sampler's FD, Heun timed there), coverage;
- the real-vs-real floor and the FD-ratio-vs-training-step curve of the student;
- across seeds: the mean of each headline figure with a 95% t-interval, and the goals.

Usage: python -m bench.run_all scm   (MMFOUNDRY_SCM_BENCH_PROFILE=fast for a smoke run;
MMFOUNDRY_SCM_BENCH_SEEDS=0,1,2 by default)
Wall-clock figures depend on machine load; CPU seconds are printed beside them.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path


def _fmt(v, nd: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        return f"{v:.{nd}f}" if abs(v) < 1e4 else f"{v:.3g}"
    return str(v)


def print_table(header: list[str], rows: list[list]) -> None:
    cells = [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))


def _ci(lo, hi) -> str:
    return "-" if lo is None else f"[{lo:.3g}, {hi:.3g}]"


def one_seed(cfg, seed: int, threads: int, log) -> dict:
    """Train teacher and student with `seed`, build the report (its sampling seed moves with the
    training seed), print the seed's tables; return the report's sampler rows."""
    from assets.training.scm.config import with_overrides
    from assets.training.scm.jobs import CHECKPOINT, CURVE, run_job

    teacher_cfg = with_overrides(cfg.teacher, seed=seed)
    student_cfg = with_overrides(cfg.student, seed=seed)
    report_cfg = with_overrides(cfg.report, seed=cfg.report.seed + seed)
    with tempfile.TemporaryDirectory(prefix="bench_scm_") as work:
        tdir, sdir = Path(work, "teacher"), Path(work, "student")
        c0 = time.process_time()
        tsum = run_job({"job": "teacher", "config": teacher_cfg.as_dict(), "max_threads": threads}, tdir, "cpu", log)
        c1 = time.process_time()
        ssum = run_job({"job": "student", "config": student_cfg.as_dict(), "report": report_cfg.as_dict(),
                        "teacher_checkpoint": str(tdir / CHECKPOINT), "max_threads": threads}, sdir, "cpu", log)
        t2, c2 = time.perf_counter(), time.process_time()
        rep = run_job({"job": "report", "report": report_cfg.as_dict(), "max_threads": threads,
                       "teacher_checkpoint": str(tdir / CHECKPOINT), "student_checkpoint": str(sdir / CHECKPOINT)},
                      Path(work, "report"), "cpu", log)
        t3 = time.perf_counter()
        curve = json.loads((sdir / CURVE).read_text())

    print(f"\n--- seed {seed} ---")
    print(f"training: teacher {tsum['params'] / 1e6:.2f}M params {tsum['train_seconds']:.0f} s wall "
          f"({c1 - c0:.0f} s CPU), student {ssum['train_seconds']:.0f} s wall + {ssum['eval_seconds']:.0f} s "
          f"curve evaluation ({c2 - c1:.0f} s CPU); report {t3 - t2:.0f} s")
    print(f"feature classifier accuracy: val {rep['classifier_accuracy']['val']:.3f}, "
          f"test {rep['classifier_accuracy']['test']:.3f}; {report_cfg.eval_samples} samples per FD, "
          f"{report_cfg.bootstrap} bootstrap rounds")
    sweep = [r for r in rep["rows"] if r["section"] == "heun_sweep"]
    print(f"\nteacher Heun sweep (reference = smallest NFE within {report_cfg.ref_tolerance:.0%} of the FD at "
          f"{max(r['nfe'] for r in sweep)} NFE, on val; ms/sample where timed)")
    print_table(["NFE", "FD val", "FD test", "ms/sample", "reference"],
                [[r["nfe"], r["fd_val"], r["fd_test"],
                  None if r["sec_per_sample"] is None else 1000 * r["sec_per_sample"], r["reference"]] for r in sweep])
    print(f"\nsamplers (FD on test with 95% interval; ratio = FD / FD of the teacher at {rep['reference_nfe']} NFE; "
          "excess = (FD - floor) / (teacher FD - floor); matched = teacher NFE reaching the same FD)")
    rows = [r for r in rep["rows"] if r["section"] in ("sampler", "floor")]
    print_table(["sampler", "NFE", "t_mid", "FD test", "FD 95%", "ratio", "ratio 95%", "excess", "excess 95%",
                 "ms/sample", "speedup", "matched NFE", "speedup matched", "matched 95%", "coverage", "chosen"],
                [[r["sampler"], r["nfe"], r["t_mid"], r["fd_test"], _ci(r["fd_test_lo"], r["fd_test_hi"]),
                  r["ratio_to_teacher"], _ci(r["ratio_lo"], r["ratio_hi"]), r["excess_ratio"],
                  _ci(r["excess_lo"], r["excess_hi"]),
                  None if r["sec_per_sample"] is None else 1000 * r["sec_per_sample"],
                  None if r["speedup_vs_reference"] is None else round(r["speedup_vs_reference"], 1),
                  None if r["matched_nfe"] is None else f"{r['matched_bound']}{r['matched_nfe']:.1f}",
                  None if r["speedup_matched"] is None else round(r["speedup_matched"], 1),
                  _ci(r["speedup_matched_lo"], r["speedup_matched_hi"]), r["coverage"], r["chosen"]] for r in rows])
    evals = [r for r in curve if r.get("ratio_1step") is not None]
    if evals:
        print(f"\nFD ratio vs student step (val, {student_cfg.eval_samples} samples)")
        print_table(["step", "FD 1-step", "FD 2-step", "ratio 1-step", "ratio 2-step"],
                    [[r["step"], r["fd_val_1step"], r["fd_val_2step"], r["ratio_1step"], r["ratio_2step"]]
                     for r in evals])
    return {r["sampler"]: r for r in rows} | {"_reference_nfe": rep["reference_nfe"]}


def t_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval over seeds (the seeds' spread, not the bootstrap's)."""
    import statistics

    from scipy import stats

    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, float("nan"), float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
    return mean, mean - half, mean + half


def _mean_ci(m: tuple[float, float, float], fmt: str) -> str:
    """`mean [lo, hi]`, or the mean alone where one seed gives no interval."""
    mean, lo, hi = m
    return f"{mean:{fmt}}" if lo != lo else f"{mean:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]"


def main() -> None:
    import torch

    from assets.training import goals
    from assets.training.scm.config import scm_config

    profile = os.environ.get("MMFOUNDRY_SCM_BENCH_PROFILE", "default")
    seeds = [int(s) for s in os.environ.get("MMFOUNDRY_SCM_BENCH_SEEDS", "0,1,2").split(",")]
    cfg = scm_config(profile)
    threads = int(os.environ.get("MMFOUNDRY_TORCH_THREADS", "0")) or os.cpu_count() or 1
    threads = min(threads, cfg.max_threads or threads)
    torch.set_num_threads(threads)
    print(f"profile {profile}; seeds {seeds}; torch {torch.__version__} on CPU, {threads} threads; "
          f"load average at start {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    print(f"teacher: {cfg.teacher.net.arch} net {cfg.teacher.net.channels} ch x {cfg.teacher.net.channel_mult}, "
          f"{cfg.teacher.steps} steps x batch {cfg.teacher.batch}; student: {cfg.student.steps} steps x "
          f"batch {cfg.student.batch}")
    log = (lambda m: None) if os.environ.get("MMFOUNDRY_SCM_BENCH_VERBOSE") != "1" else print
    runs = [one_seed(cfg, seed, threads, log) for seed in seeds]

    print(f"\n--- across {len(seeds)} seeds: mean [95% t-interval; none from one seed] ---")
    figures = (("ratio_to_teacher", "FD ratio"), ("excess_ratio", "excess over floor"),
               ("speedup_vs_reference", "speed-up vs reference"), ("matched_nfe", "matched NFE"),
               ("speedup_matched", "speed-up matched"))
    rows = []
    for sampler in ("teacher_2step", "student_1step", "student_2step"):
        row = [sampler]
        for key, _ in figures:
            row.append(_mean_ci(t_interval([r[sampler][key] for r in runs]), ".3g"))
        row.append(" ".join(sorted({r[sampler]["matched_bound"] or "in" for r in runs})))
        rows.append(row)
    print_table(["sampler", *(label for _, label in figures), "matched within sweep"], rows)
    print(f"reference NFE per seed: {[r['_reference_nfe'] for r in runs]}")
    one = [r["student_1step"] for r in runs]
    ratio, speed = t_interval([r["ratio_to_teacher"] for r in one]), t_interval([r["speedup_matched"] for r in one])
    met = ratio[0] <= goals.SCM_FD_RATIO and speed[0] >= goals.SCM_SPEEDUP
    print(f"\ngoal: 1-step speed-up at matched quality >= {goals.SCM_SPEEDUP:g}x at FD ratio <= {goals.SCM_FD_RATIO}: "
          f"{_mean_ci(speed, '.1f')}x at ratio {_mean_ci(ratio, '.3f')}: "
          f"{'met' if met else 'NOT met'}")
    print(f"\nload average at end {os.getloadavg()[0]:.2f}: wall-clock figures are noisy on a shared machine")


if __name__ == "__main__":
    main()
