"""One prepared run on a lent GPU node, through the pure modules only (the node has torch,
transformers, scikit-learn and matplotlib, but no Dagster or polars):

1. sCM with the `large` profile's network and batch, step counts from the command line (the full
   profile's 20k/5k steps do not fit a short lease), teacher and student trained on the GPU, the
   report (Heun sweep, samplers, FD, wall-clock per sample) measured on the GPU;
2. the MLLM stages in bf16 autocast (bench/mllm_gpu_check.py);
3. `chain` (where the node has the project's dependencies, e.g. a carried virtual environment):
   the whole training asset chain, MLLM stages, preference labeler and pairs, DPO and its ablation,
   the evaluations and the sCM assets, materialized at a profile (`large` by default) with
   MMFOUNDRY_GPU_LAUNCH=pipes, so every device step runs as a Pipes process on the GPU; it
   records each asset's seconds, launch record and headline figures, and each goal check. The sCM
   scaling study (three more trainings) joins it with --chain-scaling.

Each part writes its JSON under --out as soon as it ends (the chain after every asset), so a run
cut short keeps what it did.
    python3 -m bench.gpu_check --out $OUT --teacher-steps 3000 --student-steps 800 --mllm-scale 1.0
    python3 -m bench.gpu_check --out $OUT --skip scm,mllm --chain-profile large
Not a `bench_*` module: `make bench` (CPU) does not run it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
import traceback
from pathlib import Path


def scm_part(teacher_steps: int, student_steps: int, out: Path, profile: str = "large") -> dict:
    import torch

    from assets.training.scm.config import scm_config
    from assets.training.scm.data import load_images
    from assets.training.scm.jobs import CHECKPOINT, CURVE, run_job
    from assets.training.scm.report import build_report
    from assets.training.scm.train import load_checkpoint

    device = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = scm_config(profile)
    cfg = dataclasses.replace(
        cfg,
        # a short run keeps the profile's net and batch; warm-ups and EMA half-lives scale with it
        teacher=dataclasses.replace(cfg.teacher, steps=teacher_steps,
                                    warmup_steps=min(cfg.teacher.warmup_steps, teacher_steps // 10),
                                    ema_decay=min(cfg.teacher.ema_decay, 1 - 10 / teacher_steps)),
        student=dataclasses.replace(cfg.student, steps=student_steps,
                                    tangent_warmup=min(cfg.student.tangent_warmup, student_steps // 4),
                                    ema_decay=min(cfg.student.ema_decay, 1 - 10 / student_steps),
                                    eval_every=max(1, student_steps // 4)),
    )
    result: dict = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
                    "torch": torch.__version__, "config": cfg.as_dict()}
    with tempfile.TemporaryDirectory() as work:
        tdir, sdir = Path(work, "t"), Path(work, "s")
        result["teacher"] = run_job({"job": "teacher", "config": cfg.teacher.as_dict()}, tdir, device, print)
        result["student"] = run_job({"job": "student", "config": cfg.student.as_dict(),
                                     "report": cfg.report.as_dict(),
                                     "teacher_checkpoint": str(tdir / CHECKPOINT)}, sdir, device, print)
        teacher, ckpt = load_checkpoint(tdir / CHECKPOINT)
        student, _ = load_checkpoint(sdir / CHECKPOINT)
        teacher, student = teacher.to(device), student.to(device)
        d = ckpt["config"]
        data = load_images(d["source"], d["image_size"], seed=d["seed"])
        start = time.perf_counter()
        rep = build_report(teacher, student, data, cfg.report, device, print)
        result["report_seconds"] = time.perf_counter() - start
        result["reference_nfe"] = rep.reference_nfe
        result["chosen"] = rep.chosen
        result["rows"] = rep.rows
        result["curve"] = json.loads((sdir / CURVE).read_text())
    (out / "scm_gpu.json").write_text(json.dumps(result, indent=1, default=str))
    return result


CHAIN_FIGURES = ("qa_accuracy", "bbox_acc50", "dialogue_all_correct", "chair_relative_reduction", "cell_error",
                 "train_pairs", "speedup_matched_1step", "fd_ratio_1step", "launch", "device", "dtype", "profile",
                 "/holds", "ratio_1step", "ratio_2step", "ratio_4step")


def chain_part(out: Path, profile: str, scaling: bool = False) -> dict:
    """The training assets through Dagster, every device step under Pipes, on this node's GPU. The
    scaling study (three more teacher + student trainings at the profile's budget) only when
    `scaling` is set: at `large` it alone would outlast a 10-minute device call."""
    import os

    os.environ.update({"MMFOUNDRY_TRAINING_PROFILE": profile, "MMFOUNDRY_GPU_LAUNCH": "pipes",
                       "MMFOUNDRY_DEPLOYMENT": "local", "MMFOUNDRY_DATA": tempfile.mkdtemp(prefix="gpu_chain_")})
    import dagster as dg

    from assets.training.definitions import ASSETS, CHECKS
    from resources.deployment import build_resources
    from scripts.materialize import materialize_graph

    defs = dg.Definitions(assets=ASSETS, asset_checks=CHECKS, resources=build_resources())
    result: dict = {"profile": profile, "assets": {}, "checks": {}}

    def record(instance) -> None:
        for a in ASSETS:
            recs = instance.fetch_materializations(a.key, limit=1).records
            if recs:
                meta = recs[0].asset_materialization.metadata
                result["assets"][a.key.path[-1]] = {
                    k: getattr(v, "value", v) for k, v in meta.items()
                    if any(k.endswith(f) for f in CHAIN_FIGURES)}
        for c in CHECKS:
            for key in c.check_keys:
                found = instance.event_log_storage.get_latest_asset_check_execution_by_key([key]).get(key)
                ev = found.event.asset_check_evaluation if found and found.event else None
                result["checks"][key.name] = ({"passed": ev.passed, "severity": str(ev.severity)} if ev
                                              else {"status": str(found.status) if found else "not run"})
        (out / "chain_gpu.json").write_text(json.dumps(result, indent=1, default=str))

    with dg.instance_for_test() as instance:
        start = time.perf_counter()
        result["success"] = True
        for a in ASSETS:  # listed upstream first; one asset a run, so the JSON grows as each ends
            if not scaling and a.key.path[-1].startswith("scm_scaling"):
                continue
            t0 = time.perf_counter()
            run = materialize_graph(defs, instance, selection=[a.key], stop_on_failure=False)
            result["success"] &= run.success
            result.setdefault("seconds_per_asset", {})[a.key.path[-1]] = time.perf_counter() - t0
            result["seconds"] = time.perf_counter() - start
            record(instance)
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--teacher-steps", type=int, default=3000)
    ap.add_argument("--student-steps", type=int, default=800)
    ap.add_argument("--mllm-scale", type=float, default=1.0)
    ap.add_argument("--scm-profile", default="large", help="network and batch (fast: a CPU dry run)")
    ap.add_argument("--chain-profile", default="large", help="the training profile of the asset chain part")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: scm, mllm, chain")
    ap.add_argument("--chain-scaling", action="store_true", help="the chain part includes the sCM scaling study")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    skip = set(args.skip.split(","))
    if "scm" not in skip:
        try:
            start = time.perf_counter()
            r = scm_part(args.teacher_steps, args.student_steps, out, args.scm_profile)
            chosen = next(row for row in r["rows"] if row.get("sampler") == r["chosen"])
            print(f"sCM on {r['device']}: {time.perf_counter() - start:.0f} s; reference Heun NFE "
                  f"{r['reference_nfe']}; chosen {r['chosen']}: ratio {chosen['ratio_to_teacher']:.3f}, "
                  f"speedup {chosen['speedup_vs_reference']:.1f}x", flush=True)
        except Exception:
            traceback.print_exc()
    if "mllm" not in skip:
        try:
            from bench import mllm_gpu_check

            mllm_gpu_check.main(["--scale", str(args.mllm_scale), "--out", str(out / "mllm_gpu.json")])
        except Exception:
            traceback.print_exc()
    if "chain" not in skip:
        try:
            r = chain_part(out, args.chain_profile, args.chain_scaling)
            print(f"asset chain ({r['profile']}, Pipes): {'ok' if r['success'] else 'FAILED'} in {r['seconds']:.0f} s; "
                  f"checks {r['checks']}", flush=True)
        except ImportError as e:
            print(f"asset chain skipped: this node lacks the project's dependencies ({e})", flush=True)
        except Exception:
            traceback.print_exc()


if __name__ == "__main__":
    main()
