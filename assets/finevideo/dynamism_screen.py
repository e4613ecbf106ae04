"""The dynamism screen: FineVideo's freezedetect rule from one decode pass per video (see dynamism.py),
videos of a shard measured in a process pool, the fixed rule deciding, FineVideo's verdict kept
beside it."""

import os
import time

import dagster as dg
import polars as pl
from pydantic import Field

from assets.finevideo.contract import DYNAMISM_SCREEN, conform, schema_result, screen_asset
from assets.finevideo.dynamism import measure_all
from assets.finevideo.freezes import STATIC_RATIO
from assets.kit.checks import screen_check_results
from assets.kit.metadata import funnel_chart, png_markdown, preview, screen_counts
from assets.kit.screening import Rule, kept, screen
from resources.storage import MediaStore

MEASURED = {c: t for c, t in DYNAMISM_SCREEN.items()
            if c not in ("record_id", "video_id", "shard", "media_uri", "duration_s", "fps", "kept", "reason",
                         "reasons", "detail")}


class DynamismConfig(dg.Config):
    workers: int = Field(default=min(2, os.cpu_count() or 1),
                         description="Worker processes decoding videos of the shard at once.")


def dynamism_rules() -> list[Rule]:
    windows = pl.format("{}/{} windows static", pl.col("fixed_static_segments"), pl.col("fixed_segments"))
    return [
        Rule("dynamism_failed", pl.col("error").is_null(), pl.col("error")),
        Rule("static", ~pl.col("fixed_static"), windows, f"static share < {STATIC_RATIO:.0%}"),
    ]


def _histogram(df: pl.DataFrame) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6))
    bins = [i / 10 for i in range(11)]
    ax.hist([df["static_fraction_segments"].drop_nulls().to_list(), df["static_fraction_time"].drop_nulls().to_list()],
            bins=bins, label=["static 60 s segments (FineVideo)", "frozen time"], color=["#4C72B0", "#DD8452"])
    ax.axvline(STATIC_RATIO, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("static fraction of the video")
    ax.set_ylabel("videos")
    ax.legend(fontsize=7)
    return png_markdown(fig, "static fraction per video")


@screen_asset(
    "FineVideo's visual dynamism rule (freezedetect n=0.05 d=50 per 60 s segment, static at >= 40% "
    "static segments) from one decode pass per video: keyframes first, which prove most videos "
    "dynamic (decode_mode 'keyframes'); then only the windows and stretches they could not settle "
    "('partial'), or the whole video when that is most of it ('full', which also gives the "
    "PySceneDetect ContentDetector(15) scene cuts). Each decoded frame feeds every open segment's "
    "freezedetect exactly as FineVideo's per-segment ffmpeg calls see it. finevideo_static is "
    "FineVideo's exact verdict; fixed_static (a short last segment judged on the last 60 s) "
    "decides kept. Screens the kept rows of word_density_screen.",
    kinds=("polars", "parquet", "video"),
)
def dynamism_screen(context: dg.AssetExecutionContext, config: DynamismConfig, word_density_screen: pl.DataFrame,
                    video_files: pl.DataFrame, language_screen: pl.DataFrame, media: MediaStore):
    todo = kept(word_density_screen).select("record_id", "video_id", "shard", "duration_s").join(
        video_files.select("record_id", "media_uri", "fps"), on="record_id", how="left")
    jobs = [(r["record_id"], str(media.local_path(r["media_uri"])), r["duration_s"])
            for r in todo.iter_rows(named=True)]
    started = time.perf_counter()
    measured = measure_all(jobs, config.workers)
    wall_s = time.perf_counter() - started
    schema = {"record_id": pl.String, "error": pl.String, **MEASURED}
    for row in measured:
        row["freeze_intervals"] = [{"start_s": a, "end_s": b} for a, b in row.get("freeze_intervals") or []]
    found = pl.DataFrame([{c: row.get(c) for c in schema} for row in measured], schema=schema)
    df = conform(screen(todo.join(found, on="record_id", how="left"), dynamism_rules()), DYNAMISM_SCREEN)

    ok = df.filter(pl.col("decode_mode").is_not_null())
    cpu_s = float(ok["cpu_s"].sum() or 0.0)
    video_s = float(ok["duration_s"].sum() or 0.0)
    funnel = [("metadata rows", language_screen.height), ("language", kept(language_screen).height),
              ("video files", kept(video_files).height), ("word density", kept(word_density_screen).height),
              ("dynamism", kept(df).height)]
    metadata = {
        **screen_counts(df),
        "decode_mode": dg.MetadataValue.json({str(m): int(n) for m, n in ok.group_by("decode_mode").len().iter_rows()}),
        "finevideo_static": int(ok["finevideo_static"].sum() or 0),
        "fixed_static": int(ok["fixed_static"].sum() or 0),
        "video_seconds": round(video_s, 1),
        "video_s_per_cpu_s": round(video_s / cpu_s, 1) if cpu_s else 0.0,
        "wall_s": round(wall_s, 2),
        "workers": config.workers,
        "funnel": funnel_chart(funnel, f"shard {context.partition_key}: rows kept per stage"),
        "preview": preview(df, ["record_id", "decode_mode", "segments", "static_segments", "finevideo_static",
                                "fixed_static", "static_fraction_time", "longest_freeze_s", "kept", "reason"]),
    }
    if ok.height:
        metadata["static_fraction"] = _histogram(ok)
    yield dg.Output(df, metadata=metadata)
    yield from screen_check_results(df, todo.height)
    yield schema_result(df, DYNAMISM_SCREEN)
