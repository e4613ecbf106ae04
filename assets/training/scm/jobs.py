"""The sCM jobs (teacher, student, report) as one entry point, `run_job(payload, workdir, device,
log)`, shared by the in-process launch and the Dagster Pipes launch (`assets/training/pipes.py`).
No Dagster here.

A job reads its inputs from `payload` (plain JSON: configs, checkpoints' local paths), writes
its files into `workdir` (the trainers `checkpoint.pt` and `curve.json`; the report `samples.npz`;
one size of the scaling study `teacher.pt` and `student.pt`) and returns a JSON-able summary. Training
is in fp32 whatever `GPUResource.dtype` says: the models are small, and the sCD tangent (a JVP
through the student) is sensitive to reduced precision.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

CHECKPOINT = "checkpoint.pt"
SCALING_CHECKPOINTS = {"teacher": "teacher.pt", "student": "student.pt"}
CURVE = "curve.json"
SAMPLES = "samples.npz"


def teacher_config_from(d: dict):
    from assets.training.scm.config import NetConfig, TeacherConfig

    d = dict(d)
    d["net"] = NetConfig.from_dict(d["net"])
    return TeacherConfig(**d)


def student_config_from(d: dict):
    from assets.training.scm.config import StudentConfig

    d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return StudentConfig(**d)


def report_config_from(d: dict):
    from assets.training.scm.config import ReportConfig

    d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return ReportConfig(**d)


@contextmanager
def capped_threads(max_threads: int | None):
    """torch's CPU thread count lowered to `max_threads` (0 or None: left) for the job only, so an
    in-process job leaves the step's later work as a Pipes process would find it."""
    import torch

    before = torch.get_num_threads()
    if max_threads and before > max_threads:
        torch.set_num_threads(max_threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def run_job(payload: dict, workdir: str | Path, device="cpu", log: Callable[[str], None] = print) -> dict:
    jobs = {"teacher": _teacher, "student": _student, "report": _report, "scaling": _scaling}
    if payload["job"] not in jobs:
        raise ValueError(f"unknown sCM job {payload['job']!r}")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with capped_threads(payload.get("max_threads")):
        return jobs[payload["job"]](payload, workdir, device, log)


def _every(n_rows: int) -> int:
    return max(1, n_rows // 10)


def _teacher(payload: dict, workdir: Path, device, log) -> dict:
    from assets.training.scm.data import load_images
    from assets.training.scm.train import checkpoint_bytes, train_teacher

    cfg = teacher_config_from(payload["config"])
    data = load_images(cfg.source, cfg.image_size, seed=cfg.seed)
    log(f"sCM teacher: {cfg.net.arch} net, {cfg.steps} steps x batch {cfg.batch} on "
        f"{int((data.split == 'train').sum())} training images from {cfg.source!r}")
    every = _every(cfg.steps // cfg.log_every)
    n = [0]

    def on_log(row: dict) -> None:
        n[0] += 1
        if n[0] % every == 0:
            log(f"step {row['step']}: loss {row['loss']:.4f} lr {row['lr']:.2e} ({row['elapsed_s']:.0f} s)")

    res = train_teacher(cfg, data, device, on_log)
    (workdir / CHECKPOINT).write_bytes(checkpoint_bytes("scm_teacher", res, cfg.as_dict(), data))
    (workdir / CURVE).write_text(json.dumps(res.curve))
    return {**res.meta, "final_loss": res.curve[-1]["loss"], "n_train": int((data.split == "train").sum()),
            "precision": "fp32"}


def _student(payload: dict, workdir: Path, device, log) -> dict:
    from assets.training.scm.config import NetConfig
    from assets.training.scm.data import load_images
    from assets.training.scm.evaluate import Judge, RatioCurve
    from assets.training.scm.train import checkpoint_bytes, load_checkpoint, train_student

    cfg = student_config_from(payload["config"])
    report = report_config_from(payload["report"])
    teacher, ckpt = load_checkpoint(payload["teacher_checkpoint"], device)
    tcfg = ckpt["config"]
    data = load_images(tcfg["source"], tcfg["image_size"], seed=tcfg["seed"], sigma_d=ckpt["data"]["sigma_d"])
    evaluate = None
    if cfg.eval_every and data.labelled:
        judge = Judge(data, report.classifier_hidden, seed=report.seed)
        evaluate = RatioCurve(judge, teacher, cfg.eval_samples, cfg.eval_t_mids,
                              teacher_steps=max(report.heun_steps), seed=report.seed, device=device)
        log(f"FD-ratio curve against the teacher's Heun at {evaluate.teacher_nfe} NFE "
            f"(FD val {evaluate.teacher_fd:.3f}, {cfg.eval_samples} samples)")
    log(f"sCD student: {cfg.steps} steps x batch {cfg.batch}, tangent warm-up {cfg.tangent_warmup}, "
        f"1/sigma weight {'on' if cfg.sigma_weight else 'off'}")
    every = _every(cfg.steps // cfg.log_every)
    n = [0]

    def on_log(row: dict) -> None:
        n[0] += 1
        if "ratio_1step" in row:
            log(f"step {row['step']}: FD ratio to teacher 1-step {row['ratio_1step']:.2f}, "
                f"2-step {row['ratio_2step']:.2f}")
        elif n[0] % every == 0:
            log(f"step {row['step']}: loss {row['loss']:.4f} r {row['tangent_r']:.2f} ({row['elapsed_s']:.0f} s)")

    res = train_student(cfg, teacher, NetConfig.from_dict(ckpt["net_config"]), data, device, on_log, evaluate)
    config = {**cfg.as_dict(), "teacher_sha256": payload.get("teacher_sha256"), "teacher_config": tcfg}
    (workdir / CHECKPOINT).write_bytes(checkpoint_bytes("scm_student", res, config, data))
    (workdir / CURVE).write_text(json.dumps(res.curve))
    last = [r for r in res.curve if "ratio_1step" in r]
    return {**res.meta, "final_loss": res.curve[-1]["loss"], "precision": "fp32",
            **({"final_ratio_1step": last[-1]["ratio_1step"], "final_ratio_2step": last[-1]["ratio_2step"]}
               if last else {})}


def _report(payload: dict, workdir: Path, device, log) -> dict:
    """The sampling report of a teacher and a student checkpoint (`scm/report.py`): its rows and
    figures as the summary, the decoded samples for the picture in samples.npz."""
    import numpy as np

    from assets.training.scm.data import load_images
    from assets.training.scm.report import build_report
    from assets.training.scm.train import load_checkpoint

    cfg = report_config_from(payload["report"])
    teacher, tckpt = load_checkpoint(payload["teacher_checkpoint"], device)
    student, _ = load_checkpoint(payload["student_checkpoint"], device)
    d = tckpt["config"]
    data = load_images(d["source"], d["image_size"], seed=d["seed"], sigma_d=tckpt["data"]["sigma_d"])
    rep = build_report(teacher, student, data, cfg, device, log=log)
    np.savez_compressed(workdir / SAMPLES, **rep.samples)
    return json.loads(json.dumps({
        "rows": rep.rows, "reference_nfe": rep.reference_nfe, "chosen": rep.chosen, "floor_val": rep.floor_val,
        "floor_test": rep.floor_test, "classifier_accuracy": rep.classifier_accuracy, "source": d["source"]},
        default=float))


def _scaling(payload: dict, workdir: Path, device, log) -> dict:
    """One size of the scaling study (`scm/scaling.py`): teacher and student trained at the size's
    width with the profile's recipe, then judged at every step count; no FD curve while training
    (the study judges the final students only)."""
    from dataclasses import replace

    from assets.training.scm.data import load_images
    from assets.training.scm.scaling import study_size
    from assets.training.scm.train import checkpoint_bytes, load_net, train_student, train_teacher

    tcfg = teacher_config_from(payload["teacher"])
    scfg = replace(student_config_from(payload["student"]), eval_every=0)
    report = report_config_from(payload["report"])
    data = load_images(tcfg.source, tcfg.image_size, seed=tcfg.seed)
    log(f"scaling {payload['size']}: {tcfg.net.arch} width {tcfg.net.channels}, teacher {tcfg.steps} steps, "
        f"student {scfg.steps} steps")
    t_res = train_teacher(tcfg, data, device)
    teacher = load_net(t_res.net_config, t_res.state_dict, device)
    s_res = train_student(scfg, teacher, t_res.net_config, data, device)
    student = load_net(s_res.net_config, s_res.state_dict, device)
    (workdir / SCALING_CHECKPOINTS["teacher"]).write_bytes(checkpoint_bytes("scm_teacher", t_res, tcfg.as_dict(), data))
    (workdir / SCALING_CHECKPOINTS["student"]).write_bytes(checkpoint_bytes("scm_student", s_res, scfg.as_dict(), data))
    rows = study_size(payload["size"], teacher, student, t_res.meta["params"], data, report, payload["steps"],
                      device, log)
    return json.loads(json.dumps({
        "rows": rows, "params": t_res.meta["params"], "width": tcfg.net.channels, "source": tcfg.source,
        "teacher_seconds": t_res.meta["train_seconds"], "student_seconds": s_res.meta["train_seconds"],
        "teacher_final_loss": t_res.curve[-1]["loss"], "student_final_loss": s_res.curve[-1]["loss"]}, default=float))
