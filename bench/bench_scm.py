"""sCM quality/speed benchmark: teacher -> student -> report at the `default` profile (the CPU
budget), through the same job functions the assets run, printing:

- the teacher's Heun sweep (FD at each NFE up to 126) and the chosen reference NFE;
- naive teacher 2-step, student 1-step and 2-step (t_mid tuned on val): FD, ratio to the teacher,
  wall-clock per sample and speedup against the reference sampler (timed side by side), coverage;
- the real-vs-real floor, and the FD-ratio-vs-training-step curve of the student.

Usage: python -m bench.run_all scm   (MMFOUNDRY_SCM_BENCH_PROFILE=fast for a smoke run)
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


def main() -> None:
    import torch

    from assets.training.scm.config import scm_config
    from assets.training.scm.data import load_images
    from assets.training.scm.jobs import CHECKPOINT, CURVE, run_job
    from assets.training.scm.report import build_report
    from assets.training.scm.train import load_checkpoint

    profile = os.environ.get("MMFOUNDRY_SCM_BENCH_PROFILE", "default")
    cfg = scm_config(profile)
    threads = int(os.environ.get("MMFOUNDRY_TORCH_THREADS", "0")) or os.cpu_count() or 1
    threads = min(threads, cfg.max_threads or threads)
    torch.set_num_threads(threads)
    print(f"profile {profile}; torch {torch.__version__} on CPU, {threads} threads; "
          f"load average at start {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    print(f"teacher: {cfg.teacher.net.arch} net {cfg.teacher.net.channels} ch x {cfg.teacher.net.channel_mult}, "
          f"{cfg.teacher.steps} steps x batch {cfg.teacher.batch}; student: {cfg.student.steps} steps x "
          f"batch {cfg.student.batch}")
    quiet = os.environ.get("MMFOUNDRY_SCM_BENCH_VERBOSE") != "1"
    log = (lambda m: None) if quiet else print

    with tempfile.TemporaryDirectory(prefix="bench_scm_") as work:
        tdir, sdir = Path(work, "teacher"), Path(work, "student")
        c0 = time.process_time()
        tsum = run_job({"job": "teacher", "config": cfg.teacher.as_dict(), "max_threads": threads}, tdir, "cpu", log)
        c1 = time.process_time()
        ssum = run_job({"job": "student", "config": cfg.student.as_dict(), "report": cfg.report.as_dict(),
                        "teacher_checkpoint": str(tdir / CHECKPOINT), "max_threads": threads}, sdir, "cpu", log)
        t2, c2 = time.perf_counter(), time.process_time()
        teacher, ckpt = load_checkpoint(tdir / CHECKPOINT)
        student, _ = load_checkpoint(sdir / CHECKPOINT)
        d = ckpt["config"]
        data = load_images(d["source"], d["image_size"], seed=d["seed"])
        rep = build_report(teacher, student, data, cfg.report, "cpu", log)
        t3 = time.perf_counter()
        curve = json.loads((sdir / CURVE).read_text())

    print(f"\ntraining: teacher {tsum['params'] / 1e6:.2f}M params {tsum['train_seconds']:.0f} s wall "
          f"({c1 - c0:.0f} s CPU), student {ssum['train_seconds']:.0f} s wall + {ssum['eval_seconds']:.0f} s "
          f"curve evaluation ({c2 - c1:.0f} s CPU); total training {tsum['train_seconds'] + ssum['train_seconds']:.0f} s "
          f"wall; report {t3 - t2:.0f} s")
    print(f"feature classifier accuracy: val {rep.classifier_accuracy['val']:.3f}, "
          f"test {rep.classifier_accuracy['test']:.3f}; {cfg.report.eval_samples} samples per FD")

    print("\nteacher Heun sweep (FD in classifier features; reference = smallest NFE within "
          f"{cfg.report.ref_tolerance:.0%} of the FD at {max(r['nfe'] for r in rep.rows if r['section'] == 'heun_sweep')} NFE, on val)")
    sweep = [r for r in rep.rows if r["section"] == "heun_sweep"]
    print_table(["NFE", "FD val", "FD test", "reference"],
                [[r["nfe"], r["fd_val"], r["fd_test"], r["reference"]] for r in sweep])

    print(f"\nsamplers (FD on test; ratio = FD / FD of the teacher at {rep.reference_nfe} NFE; "
          "excess = (FD - floor) / (teacher FD - floor))")
    rows = [r for r in rep.rows if r["section"] in ("sampler", "floor")]
    print_table(["sampler", "NFE", "t_mid", "FD val", "FD test", "ratio", "excess", "ms/sample", "speedup",
                 "coverage", "chosen"],
                [[r["sampler"], r["nfe"], r["t_mid"], r["fd_val"], r["fd_test"], r["ratio_to_teacher"],
                  r["excess_ratio"], None if r["sec_per_sample"] is None else 1000 * r["sec_per_sample"],
                  None if r["speedup_vs_reference"] is None else round(r["speedup_vs_reference"], 1),
                  r["coverage"], r["chosen"]] for r in rows])
    chosen = rep.row(rep.chosen)
    print(f"\nchosen student sampler: {rep.chosen}: FD ratio {chosen['ratio_to_teacher']:.3f} (target <= 1.5), "
          f"speedup {chosen['speedup_vs_reference']:.1f}x (target >= 25x) over Heun at {rep.reference_nfe} NFE")

    evals = [r for r in curve if r.get("ratio_1step") is not None]
    if evals:
        print(f"\nFD ratio vs student step (val, {cfg.student.eval_samples} samples, teacher Heun "
              f"{2 * max(cfg.report.heun_steps)} NFE)")
        print_table(["step", "FD 1-step", "FD 2-step", "ratio 1-step", "ratio 2-step"],
                    [[r["step"], r["fd_val_1step"], r["fd_val_2step"], r["ratio_1step"], r["ratio_2step"]]
                     for r in evals])
    print(f"\nload average at end {os.getloadavg()[0]:.2f}: wall-clock figures are noisy on a shared machine")


if __name__ == "__main__":
    main()
