"""The sCM scaling study at the `default` profile: for each size (the profile's UNet at 0.5x, 1x and
1.5x its width) a teacher and a student trained with the profile's recipe and the student judged
at 1, 2 and 4 steps, through the job the `scm_scaling` partitions run (`scm/jobs.run_job`,
"scaling"); then the verdict on the sCM paper's two claims (`scm/scaling.claims`), as
`scm_scaling_claims` gives it.

Printed per size: parameters, training seconds, the teacher's reference NFE and FD, and per step
count the test FD, the FD ratio to the teacher with its paired 95% bootstrap interval, the bootstrap
p that k steps are no closer than the previous count, the speed-up against the reference and at
matched quality (with its interval). Figures only, no assertion.

Usage: python -m bench.run_all scm_scaling   (MMFOUNDRY_SCM_BENCH_PROFILE=fast for a smoke run;
MMFOUNDRY_SCM_SCALING_SIZES=small,medium,large by default)
"""

from __future__ import annotations

import os
import tempfile
import time

from bench.bench_scm import _ci, print_table


def main() -> None:
    from assets.training.scm.config import SCALING_STEPS, SCALING_WIDTHS, scaled, scm_config
    from assets.training.scm.jobs import run_job
    from assets.training.scm.scaling import claims

    profile = os.environ.get("MMFOUNDRY_SCM_BENCH_PROFILE", "default")
    sizes = os.environ.get("MMFOUNDRY_SCM_SCALING_SIZES", ",".join(SCALING_WIDTHS)).split(",")
    print(f"sCM scaling study, profile {profile}, sizes {sizes}, steps {list(SCALING_STEPS)}; "
          f"load average at start {os.getloadavg()[0]:.1f}")
    rows = []
    for size in sizes:
        cfg = scaled(scm_config(profile), size)
        payload = {"job": "scaling", "size": size, "teacher": cfg.teacher.as_dict(), "student": cfg.student.as_dict(),
                   "report": cfg.report.as_dict(), "steps": list(SCALING_STEPS), "max_threads": cfg.max_threads}
        start, cpu = time.perf_counter(), time.process_time()
        with tempfile.TemporaryDirectory(prefix="bench_scm_scaling_") as work:
            out = run_job(payload, work, "cpu", log=lambda m: print(f"  {m}", flush=True))
        print(f"\n{size}: width {out['width']}, {out['params']:,} parameters; teacher {out['teacher_seconds']:.0f} s, "
              f"student {out['student_seconds']:.0f} s; job {time.perf_counter() - start:.0f} s wall, "
              f"{time.process_time() - cpu:.0f} s CPU")
        print_table(["network", "steps", "nfe", "t_mids", "FD test", "FD 95%", "ratio", "ratio 95%", "p no gain",
                     "speed-up ref", "matched NFE", "speed-up matched", "matched 95%"],
                    [[r["network"], r["steps"], r["nfe"], r["t_mids"], r["fd_test"], _ci(r["fd_test_lo"], r["fd_test_hi"]),
                      r["ratio_to_teacher"], _ci(r["ratio_lo"], r["ratio_hi"]), r["p_no_gain"], r["speedup_vs_reference"],
                      None if r["matched_nfe"] is None else f"{r['matched_bound']}{r['matched_nfe']:.1f}",
                      r["speedup_matched"], _ci(r["speedup_matched_lo"], r["speedup_matched_hi"])]
                     for r in out["rows"]])
        rows += out["rows"]
    print("\nthe sCM paper's claims here:")
    for name, verdict in claims(rows).items():
        print(f"  {name}: {'holds' if verdict['holds'] else 'does NOT hold'}: {verdict['statement']}")
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
