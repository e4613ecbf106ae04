"""The sCM scaling study as assets: `scm_scaling` (one partition per model size) -> `scm_scaling_claims`.

Each partition trains its own teacher and student at the size's width with the profile's recipe
and judges the student at 1, 2 and 4 steps (`scm/scaling.py`, run by `scm/jobs.run_job` in the
step or under Pipes like every GPU-pool asset), so a size can be added, rerun or run on another
node alone. The claims asset reads every size that has an output and says whether the sCM paper's
two claims hold here: the FD ratio to the teacher stays about the same as the model grows, and
more steps narrow the gap.

Identity: a cell is `scm_scaling:<size>:<network>:<steps>`, parent the image source, `models` the
checkpoint it judged (`scm_scaling_<network>:<sha256>`, stored in the media store); a claim is
`scm_scaling_claims:<claim>`, parents every cell it rests on.
"""

import json
import tempfile
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from assets.kit.asset_kit import kit_asset
from assets.kit.checks import provenance_spec
from assets.kit.identity import record_id
from assets.kit.metadata import markdown_table, png_markdown
from assets.kit.provenance import declare, model_entry, models_series
from assets.training.profiles import training_profile
from assets.training.scheduling import GPU_OP_TAGS, GPU_POOL
from assets.training.scm.config import SCALING_STEPS, SCALING_WIDTHS
from assets.training.scm_assets import published
from assets.training.scm_records import image_source
from resources.gpu import GPUResource
from resources.storage import MediaStore

scaling_sizes = dg.StaticPartitionsDefinition(list(SCALING_WIDTHS))

TABLE = ("size", "params", "network", "steps", "t_mids", "fd_test", "ratio_to_teacher", "ratio_lo", "ratio_hi",
         "p_no_gain", "speedup_vs_reference", "matched_bound", "matched_nfe", "speedup_matched", "speedup_matched_lo",
         "speedup_matched_hi")


class ScmScalingConfig(dg.Config):
    profile: str | None = Field(default=None, description="fast | default | large (else MMFOUNDRY_TRAINING_PROFILE)")


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, partitions_def=scaling_sizes,
    check_specs=(provenance_spec,),
    description=(
        "One size of the sCM scaling study (partition = size: the profile's network at 0.5x, 1x or 1.5x its "
        "width): a teacher and an sCD student trained with the profile's recipe, the student judged at 1, 2 "
        "and 4 steps (intermediate times tuned greedily on val) against the teacher's Heun reference: test "
        "FD, FD ratio with paired 95% bootstrap intervals, the bootstrap p that k steps are no closer than "
        "the previous count, speed-up against the reference and at matched quality. One row per sampler."
    ),
)
def scm_scaling(context: dg.AssetExecutionContext, config: ScmScalingConfig, gpu: GPUResource, media: MediaStore):
    from assets.training.scm.config import scaled, scm_config
    from assets.training.scm.jobs import SCALING_CHECKPOINTS, run_job
    from assets.training.scm.scaling import COLUMNS

    size = context.partition_key
    profile = training_profile(config.profile)
    cfg = scaled(scm_config(profile), size)
    payload = {"job": "scaling", "size": size, "teacher": cfg.teacher.as_dict(), "student": cfg.student.as_dict(),
               "report": cfg.report.as_dict(), "steps": list(SCALING_STEPS), "max_threads": cfg.max_threads}
    with tempfile.TemporaryDirectory(prefix=f"scm_scaling_{size}_") as work:
        summary = gpu.run_job(context, run_job, payload, work)
        refs = {net: media.put_file(Path(work) / name, suffix=".pt") for net, name in SCALING_CHECKPOINTS.items()}
    models = {net: model_entry("evaluated", "torch", record_id(f"scm_scaling_{net}", ref.sha256),
                               fingerprint=ref.sha256) for net, ref in refs.items()}
    df = pl.DataFrame(summary["rows"], infer_schema_length=None).select(COLUMNS).with_columns(
        pl.col("p_no_gain", "matched_nfe", "speedup_matched", "speedup_matched_lo", "speedup_matched_hi",
               "ratio_lo", "ratio_hi").cast(pl.Float64),
        pl.col("network").replace_strict({n: r.uri for n, r in refs.items()}).alias("checkpoint_uri"),
        pl.col("network").replace_strict({n: r.sha256 for n, r in refs.items()}).alias("checkpoint_sha256"),
        pl.lit(profile).alias("profile"))
    df = df.select(pl.Series("record_id", [record_id("scm_scaling", r["size"], r["network"], r["steps"])
                                           for r in df.iter_rows(named=True)], dtype=pl.String), pl.all(),
                   pl.lit(image_source(summary["source"])).alias("_source"))
    df = declare(df, parents=["_source"], models=[models_series([[models[n]] for n in df["network"]])]).drop("_source")
    students = df.filter(pl.col("network") == "student")
    yield from published(df, {
        "dagster/row_count": df.height, "profile": profile, "size": size, "width": summary["width"],
        "params": summary["params"], "teacher_seconds": round(summary["teacher_seconds"], 1),
        "student_seconds": round(summary["student_seconds"], 1),
        **{f"ratio_{r['steps']}step": round(r["ratio_to_teacher"], 3) for r in students.iter_rows(named=True)},
        "cells": dg.MetadataValue.md(markdown_table(df.select(TABLE).with_columns(pl.col(pl.Float64).round(3)), 10)),
        "launch": summary["launch"], "device": summary["gpu_device"],
    })


@kit_asset(
    group="training", kinds={"polars"}, check_specs=(provenance_spec,),
    ins={"scm_scaling": dg.AssetIn(dagster_type=dict[str, pl.DataFrame])},
    description=(
        "Whether the sCM paper's two claims hold in the scaling study: the students' FD ratio to their "
        "teachers is consistent across model sizes (every step count's intervals share a point), and more "
        "sampling steps narrow the gap at every size (paired bootstrap p < 0.05). One row per claim with "
        "its verdict and statement; parents: every cell it rests on. Reads every size that has an output "
        "and names any that is missing."
    ),
)
def scm_scaling_claims(context: dg.AssetExecutionContext, scm_scaling: dict[str, pl.DataFrame]):
    from assets.training.scm import plots as scm_plots
    from assets.training.scm.scaling import claims

    cells = pl.concat([scm_scaling[k] for k in sorted(scm_scaling)], how="diagonal_relaxed") if scm_scaling else None
    missing = [s for s in SCALING_WIDTHS if s not in scm_scaling]
    if cells is None or cells.is_empty():
        raise dg.Failure("no size of the scaling study has an output; materialize scm_scaling first")
    rows = cells.to_dicts()
    verdicts = claims(rows)
    df = pl.DataFrame([{"claim": name, "holds": v["holds"], "statement": v["statement"],
                        "figures": json.dumps({k: x for k, x in v.items() if k not in ("holds", "statement")}),
                        "sizes": sorted(scm_scaling), "missing_sizes": missing} for name, v in verdicts.items()],
                      schema_overrides={"missing_sizes": pl.List(pl.String)})
    df = df.select(pl.Series("record_id", [record_id("scm_scaling_claims", c) for c in df["claim"]], dtype=pl.String),
                   pl.all(), pl.Series("_parents", [cells["record_id"].to_list()] * df.height))
    df = declare(df, parents=["_parents"]).drop("_parents")
    if missing:
        context.log.warning(f"scaling study without {', '.join(missing)}: the claims rest on {sorted(scm_scaling)}")
    yield from published(df, {
        "dagster/row_count": df.height, "sizes": dg.MetadataValue.json(sorted(scm_scaling)),
        "missing_sizes": dg.MetadataValue.json(missing),
        **{f"{name}/holds": v["holds"] for name, v in verdicts.items()},
        **{f"{name}/statement": v["statement"] for name, v in verdicts.items()},
        "cells": dg.MetadataValue.md(markdown_table(cells.select(TABLE).with_columns(pl.col(pl.Float64).round(3)), 30)),
        "scaling": png_markdown(scm_plots.scaling_figure(rows), "sCM scaling study"),
    })
