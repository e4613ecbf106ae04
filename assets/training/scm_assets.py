"""sCM consistency distillation as assets: `scm_teacher` -> `scm_student` -> `scm_report`.

Thin wrappers: the budgets come from the training profile (`profile` in the run config, else
MMFOUNDRY_TRAINING_PROFILE: a run setting recorded in each output's metadata, not part of the code
version), the training itself from `scm/jobs.run_job`, launched in-process or as a separate process
under Dagster Pipes according to `GPUResource.launch`. Checkpoints go to the media store (URI +
sha256 in the returned frame and the metadata); the next asset loads them by URI.

Identity and provenance of the rows: `scm_records.py`.
"""

import json
import tempfile
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec
from assets.kit.metadata import png_markdown, preview
from assets.training.profiles import training_profile
from assets.training.scheduling import GPU_OP_TAGS, GPU_POOL
from assets.training.scm_records import checkpoint_frame, checkpoint_record, image_source, report_frame
from resources.gpu import GPUResource
from resources.gpu_memory import estimate_memory
from resources.storage import MediaStore


class ScmTeacherConfig(dg.Config):
    profile: str | None = Field(default=None, description="fast | default | large (else MMFOUNDRY_TRAINING_PROFILE)")
    source: str = Field(default="digits", description="'digits', a folder of images, or a .parquet of images")
    steps: int | None = Field(default=None, description="override the profile's step budget")
    seed: int | None = None


class ScmStudentConfig(dg.Config):
    profile: str | None = Field(default=None, description="fast | default | large (else MMFOUNDRY_TRAINING_PROFILE)")
    steps: int | None = Field(default=None, description="override the profile's step budget")
    sigma_weight: bool = Field(default=False, description="the extra 1/sigma prior weight on the sCD loss")
    seed: int | None = None


class ScmReportConfig(dg.Config):
    profile: str | None = Field(default=None, description="fast | default | large (else MMFOUNDRY_TRAINING_PROFILE)")


def published(df: pl.DataFrame, metadata: dict):
    """The output (content-hashed data version) and its provenance contract check."""
    yield versioned(df, metadata)
    yield provenance_result(df)


def _summary_meta(summary: dict) -> dict:
    out = {}
    for k, v in summary.items():
        if isinstance(v, float):
            out[k] = round(v, 4)
        elif isinstance(v, bool | int | str):
            out[k] = v
    return out


def _memory(params: int, with_reference: bool) -> dg.MetadataValue:
    """RECIPES section 7's accounting for this job in fp32 (activations not included): the
    student's reference is the frozen teacher, a copy of the same network."""
    est = estimate_memory(int(params), "fp32", with_reference=with_reference)
    return dg.MetadataValue.json({k: (round(v, 6) if isinstance(v, float) else v)
                                  for k, v in est.as_dict().items()})


def _run(context, gpu: GPUResource, payload: dict, media: MediaStore):
    from assets.training.scm.jobs import CHECKPOINT, CURVE, run_job

    with tempfile.TemporaryDirectory(prefix=f"scm_{payload['job']}_") as work:
        summary = gpu.run_job(context, run_job, payload, work)
        ref = media.put_file(Path(work) / CHECKPOINT, suffix=".pt")
        curve = json.loads((Path(work) / CURVE).read_text())
    return summary, ref, curve


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description=(
        "sCM teacher: a TrigFlow diffusion model (v-prediction, sigma_d = 0.5, log-normal time "
        "proposal) on 8x8 digits by default (or a folder / Parquet of images): a small conv UNet with "
        "GroupNorm, positional time embedding and adaptive double normalisation (a residual MLP in the "
        "fast profile). One row per logged step; the EMA checkpoint is in the media store."
    ),
)
def scm_teacher(context: dg.AssetExecutionContext, config: ScmTeacherConfig, gpu: GPUResource, media: MediaStore):
    from assets.training.scm.config import scm_config, with_overrides
    from assets.training.scm.plots import loss_curve

    profile = training_profile(config.profile)
    full = scm_config(profile)
    cfg = with_overrides(full.teacher, source=config.source, steps=config.steps, seed=config.seed)
    payload = {"job": "teacher", "config": cfg.as_dict(), "max_threads": full.max_threads}
    summary, ref, curve = _run(context, gpu, payload, media)
    df = checkpoint_frame("scm_teacher", curve, ref.uri, ref.sha256, [image_source(cfg.source)], {"profile": profile})
    # an explicit Output: a Pipes session requires a typed event stream from the step
    yield from published(df, {
        "dagster/row_count": df.height,
        "profile": profile,
        "checkpoint_record": checkpoint_record(df)["record_id"],
        "checkpoint_uri": ref.uri,
        "checkpoint_sha256": ref.sha256,
        "checkpoint_bytes": ref.size,
        **_summary_meta(summary),
        "config": dg.MetadataValue.json(cfg.as_dict()),
        "memory_gb": _memory(summary["params"], with_reference=False),
        "loss_curve": png_markdown(loss_curve(curve, f"sCM teacher ({profile})", ("loss", "grad_norm")),
                                   "teacher loss curve"),
        "preview": preview(df.tail(5), ["step", "loss", "lr", "grad_norm", "elapsed_s"]),
    })


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description=(
        "sCM student by continuous-time consistency distillation (sCD) from scm_teacher: torch.func.jvp "
        "tangent, tangent warm-up and normalisation, learned adaptive weighting, log-normal proposal, "
        "initialised from the teacher, optional 1/sigma weight. One row per logged step, with the FD "
        "ratio to the teacher (val split) at evaluation steps; EMA checkpoint in the media store."
    ),
)
def scm_student(context: dg.AssetExecutionContext, config: ScmStudentConfig, gpu: GPUResource,
                media: MediaStore, scm_teacher: pl.DataFrame):
    from assets.training.scm.config import scm_config, with_overrides
    from assets.training.scm.plots import loss_curve, ratio_curve

    profile = training_profile(config.profile)
    full = scm_config(profile)
    cfg = with_overrides(full.student, steps=config.steps, seed=config.seed, sigma_weight=config.sigma_weight)
    teacher_uri, teacher_sha = scm_teacher["checkpoint_uri"][0], scm_teacher["checkpoint_sha256"][0]
    payload = {"job": "student", "config": cfg.as_dict(), "report": full.report.as_dict(),
               "max_threads": full.max_threads,
               "teacher_checkpoint": str(media.local_path(teacher_uri)), "teacher_sha256": teacher_sha}
    summary, ref, curve = _run(context, gpu, payload, media)
    teacher = checkpoint_record(scm_teacher)
    df = checkpoint_frame("scm_student", curve, ref.uri, ref.sha256, [teacher["record_id"]],
                          {"profile": profile, "teacher_checkpoint_uri": teacher_uri,
                           "teacher_checkpoint_sha256": teacher_sha})
    meta = {
        "dagster/row_count": df.height,
        "profile": profile,
        "checkpoint_record": checkpoint_record(df)["record_id"],
        "teacher_checkpoint_record": teacher["record_id"],
        "checkpoint_uri": ref.uri,
        "checkpoint_sha256": ref.sha256,
        "teacher_checkpoint_sha256": teacher_sha,
        **_summary_meta(summary),
        "config": dg.MetadataValue.json(cfg.as_dict()),
        "memory_gb": _memory(summary["params"], with_reference=True),
        "loss_curve": png_markdown(loss_curve(curve, f"sCD student ({profile})",
                                              ("loss", "raw_tangent_norm", "weight_mean")), "student curves"),
        "preview": preview(df.tail(5), ["step", "loss", "tangent_r", "raw_tangent_norm", "weight_mean"]),
    }
    if any(r.get("ratio_1step") is not None for r in curve):
        meta["fd_ratio_curve"] = png_markdown(ratio_curve(curve), "FD ratio curve")
    yield from published(df, meta)


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description=(
        "sCM quality/speed report: Frechet distance in the features of a classifier trained on the same "
        "images (not FID) beside the real-vs-real floor, with paired 95% bootstrap intervals; teacher Heun "
        "sweep to 126 NFE and its reference NFE (smallest within 2% of 126 NFE), naive teacher 2-step, "
        "student 1-step and 2-step (t_mid tuned on val); wall-clock per sample measured side by side, and "
        "the speed-up at matched quality (the teacher NFE reaching the sampler's FD, Heun timed there); "
        "class coverage; a sample grid. One row per sampler (`network` teacher / student, or the data "
        "floor), naming the checkpoint it evaluated."
    ),
)
def scm_report(context: dg.AssetExecutionContext, config: ScmReportConfig, gpu: GPUResource,
               media: MediaStore, scm_teacher: pl.DataFrame, scm_student: pl.DataFrame):
    import numpy as np

    from assets.training.scm import plots as scm_plots
    from assets.training.scm.config import scm_config
    from assets.training.scm.jobs import SAMPLES, run_job
    from assets.training.scm.report import ROW_COLUMNS

    profile = training_profile(config.profile)
    full = scm_config(profile)
    cfg = full.report
    payload = {"job": "report", "report": cfg.as_dict(), "max_threads": full.max_threads,
               "teacher_checkpoint": str(media.local_path(scm_teacher["checkpoint_uri"][0])),
               "student_checkpoint": str(media.local_path(scm_student["checkpoint_uri"][0]))}
    with tempfile.TemporaryDirectory(prefix="scm_report_") as work:
        rep = gpu.run_job(context, run_job, payload, work)
        with np.load(Path(work) / SAMPLES) as npz:
            samples = {k: npz[k] for k in npz.files}
    rows = rep["rows"]
    df = report_frame(rows, ROW_COLUMNS, rep["source"], {"teacher": checkpoint_record(scm_teacher),
                                                         "student": checkpoint_record(scm_student)})

    def row(sampler: str) -> dict:
        return next(r for r in rows if r["section"] == "sampler" and r["sampler"] == sampler)

    samplers = [r for r in rows if r["section"] == "sampler"]
    chosen, ref = row(rep["chosen"]), row("teacher_reference")
    curve = [r for r in scm_student.to_dicts() if r.get("ratio_1step") is not None]
    table = df.filter(pl.col("section") != "heun_sweep").select(
        "sampler", "nfe", "t_mid", "fd_test", "fd_test_lo", "fd_test_hi", "ratio_to_teacher", "ratio_lo", "ratio_hi",
        "excess_ratio", "sec_per_sample", "speedup_vs_reference", "matched_bound", "matched_nfe", "speedup_matched",
        "speedup_matched_lo", "speedup_matched_hi", "coverage").with_columns(pl.col(pl.Float64).round(4))
    one = row("student_1step")
    yield from published(df, {
        "dagster/row_count": df.height,
        "profile": profile,
        "config": dg.MetadataValue.json(cfg.as_dict()),
        "evaluated_models": dg.MetadataValue.json({n: r["record_id"] for n, r in (
            ("teacher", checkpoint_record(scm_teacher)), ("student", checkpoint_record(scm_student)))}),
        "reference_nfe": rep["reference_nfe"],
        "chosen_sampler": rep["chosen"],
        "fd_ratio_chosen": round(chosen["ratio_to_teacher"], 3),
        "speedup_chosen": round(chosen["speedup_vs_reference"], 1),
        "fd_ratio_1step": round(one["ratio_to_teacher"], 3),
        "fd_ratio_1step_ci95": dg.MetadataValue.json([round(one["ratio_lo"], 3), round(one["ratio_hi"], 3)]),
        "excess_ratio_1step": round(one["excess_ratio"], 3),
        "excess_ratio_1step_ci95": dg.MetadataValue.json([round(one["excess_lo"], 3), round(one["excess_hi"], 3)]),
        "matched_nfe_1step": f"{one['matched_bound']}{one['matched_nfe']:.1f}",
        "speedup_matched_1step": round(one["speedup_matched"], 1),
        "speedup_matched_1step_ci95": dg.MetadataValue.json([round(one["speedup_matched_lo"], 1),
                                                             round(one["speedup_matched_hi"], 1)]),
        "fd_teacher_reference": round(ref["fd_test"], 4),
        "fd_real_vs_real": round(rep["floor_test"], 4),
        "classifier_accuracy": dg.MetadataValue.json(rep["classifier_accuracy"]),
        "launch": rep["launch"], "device": rep["gpu_device"],
        "samplers": preview(table, max_rows=20),
        "heun_sweep": preview(df.filter(pl.col("section") == "heun_sweep").with_columns(pl.col(pl.Float64).round(4)),
                              ["nfe", "fd_val", "fd_test", "reference"], max_rows=30),
        "sample_grid": png_markdown(scm_plots.sample_grid(samples), "samples"),
        "fd_vs_nfe": png_markdown(scm_plots.nfe_curve(
            [r for r in rows if r["section"] == "heun_sweep"],
            [r for r in samplers if r["sampler"] != "teacher_reference"], rep["floor_test"]), "FD vs NFE"),
        **({"fd_ratio_curve": png_markdown(scm_plots.ratio_curve(curve), "FD ratio curve")} if curve else {}),
    })
