"""The dynamism screen: FineVideo's freezedetect rule, shots and stills from one decode per video (see dynamism.py),
videos of a shard measured in a process pool, the fixed rule deciding, FineVideo's verdict kept
beside it. The parameters (freezedetect n and d, the window length, the static share) are the
`DynamismRules` in run config; the workers measure with them and the rules judge with them."""

import os
import time

import dagster as dg
import polars as pl
from pydantic import Field

from assets.finevideo.contract import DYNAMISM_SCREEN, SCHEMA_CHECK, conform, schema_check
from assets.finevideo.dynamism import measure_all
from assets.finevideo.freezes import DynamismRules
from assets.finevideo.scene_cuts import SHOTS
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import funnel_chart, png_markdown, preview, screen_counts
from assets.kit.partitions import video_shards
from assets.kit.provenance import declare
from assets.kit.screening import kept, screen
from resources.storage import MediaStore

UNSTABLE = ("cpu_s",)  # what a measurement cost differs run to run; not part of the data version
INPUT_COLUMNS = ("record_id", "video_id", "shard", "media_uri", "duration_s", "fps")
MEASURED = {c: t for c, t in DYNAMISM_SCREEN.items()
            if c not in (*INPUT_COLUMNS, "kept", "reason", "reasons", "detail", "parent_ids", "models")}

DynamismConfig = rule_config(
    DynamismRules, "DynamismConfig",
    workers=(int, Field(default=min(2, os.cpu_count() or 1),
                        description="Worker processes decoding videos of the shard at once.")),
)


def _store_stills(row: dict, media: MediaStore) -> None:
    """The worker's JPEGs into the media store (by content), the row keeping their URIs."""
    stills = []
    for t, jpeg in row.get("frames") or []:
        ref = media.put_bytes(jpeg, "jpg")
        stills.append({"time_s": t, "uri": ref.uri, "sha256": ref.sha256})
    row["frames"] = stills if row.get("decode_mode") else None
    thumbnail = row.pop("thumbnail", None)
    row["thumbnail_uri"] = media.put_bytes(thumbnail[1], "jpg").uri if thumbnail else None


def _thumbnails(df: pl.DataFrame, media: MediaStore, limit: int = 12) -> dg.MetadataValue:
    """The first videos' thumbnails (the middle of their longest shot) with their verdicts, so a
    shard can be looked at from the UI."""
    import base64

    cells = []
    for row in df.filter(pl.col("thumbnail_uri").is_not_null()).head(limit).iter_rows(named=True):
        data = base64.b64encode(media.local_path(row["thumbnail_uri"]).read_bytes()).decode()
        verdict = "kept" if row["kept"] else row["reason"]
        cells.append(f"| ![{row['record_id']}](data:image/jpeg;base64,{data}) | `{row['record_id']}` | "
                     f"{row['decode_mode']}, {len(row['scene_cuts_s'] or [])} cuts, {verdict} |")
    return dg.MetadataValue.md("| thumbnail | record | measured |\n|---|---|---|\n" + "\n".join(cells))


def _histogram(df: pl.DataFrame, rules: DynamismRules) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6))
    bins = [i / 10 for i in range(11)]
    ax.hist([df["static_fraction_segments"].drop_nulls().to_list(), df["static_fraction_time"].drop_nulls().to_list()],
            bins=bins, label=[f"static {rules.segment_s} s segments (FineVideo)", "frozen time"], color=["#4C72B0", "#DD8452"])
    ax.axvline(rules.static_ratio, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("static fraction of the video")
    ax.set_ylabel("videos")
    ax.legend(fontsize=7)
    return png_markdown(fig, "static fraction per video")


@kit_asset(
    group="finevideo",
    partitions_def=video_shards,
    kinds=("polars", "parquet", "video"),
    rules=DynamismRules(),
    version_extra=(SHOTS.fingerprint(),),  # the shot detector's parameters decide scene_cuts_s and transitions
    screen=True,
    check_specs=(provenance_spec, named_check(*SCHEMA_CHECK)),
    description=(
        "FineVideo's visual dynamism rule (freezedetect over fixed-length windows, a video static when "
        "enough of its windows hold a freeze), and everything else the chain needs from the pixels, from "
        "one decode per video. Keyframes first, which prove most videos dynamic (decode_mode 'keyframes'); "
        "only the windows and stretches they could not settle are decoded frame by frame for freezedetect "
        "('partial', or 'full' when that is most of the video), exactly as FineVideo's per-segment ffmpeg "
        "calls see them. The same sequential decode (skipping non-reference frames and deblocking where no freeze is "
        "measured, and B-frames where the H.264 slice headers prove no decoded picture refers to one) "
        f"gives the shots ({SHOTS.describe()}), the per-second motion, the stills the annotation "
        "step shows a model (`frames`: every shot's middle, JPEGs in the media store), the thumbnail and "
        "the perceptual hashes of every still taken (`still_hashes`, one a second: the near-duplicate signature), "
        "so no later step decodes the video. "
        "finevideo_static is FineVideo's exact verdict; the fixed rule (a short last segment judged on "
        "the last full window) decides kept, through fixed_static_fraction. Screens the kept rows of "
        "word_density_screen."
    ),
)
def dynamism_screen(context: dg.AssetExecutionContext, config: DynamismConfig, word_density_screen: pl.DataFrame,
                    video_files: pl.DataFrame, language_screen: pl.DataFrame, media: MediaStore):
    todo = kept(word_density_screen).select("record_id", "video_id", "shard", "duration_s").join(
        video_files.select("record_id", "media_uri", "fps"), on="record_id", how="left")
    jobs = [(r["record_id"], str(media.local_path(r["media_uri"])), r["duration_s"])
            for r in todo.iter_rows(named=True)]
    started = time.perf_counter()
    rules = rules_from(config, DynamismRules)
    measured = measure_all(jobs, config.workers, rules)
    wall_s = time.perf_counter() - started
    schema = {"record_id": pl.String, **MEASURED}
    for row in measured:
        row["dynamism_error"] = row.pop("error", None)
        row["freeze_intervals"] = [{"start_s": a, "end_s": b} for a, b in row.get("freeze_intervals") or []]
        if row.get("transitions") is not None:
            row["transitions"] = [{"start_s": a, "end_s": b, "kind": k} for a, b, k in row["transitions"]]
        if row.get("still_hashes") is not None:
            row["still_hashes"] = [{"time_s": t, "hash": w, "centre": c} for t, w, c in row["still_hashes"]]
        _store_stills(row, media)
    found = pl.DataFrame([{c: row.get(c) for c in schema} for row in measured], schema=schema)
    df = conform(declare(screen(todo.join(found, on="record_id", how="left"), rules.rules())), DYNAMISM_SCREEN)

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
        # decoded frames (the skims' keyframes and the sweep's) per frame of video: under 1 where non-reference frames are skipped
        "decoded_per_frame": round(float(ok["frames_decoded"].sum() or 0) / max(1, int(ok["video_frames"].sum() or 0)), 3),
        "wall_s": round(wall_s, 2),
        "workers": config.workers,
        "funnel": funnel_chart(funnel, f"shard {context.partition_key}: rows kept per stage"),
        "preview": preview(df, ["record_id", "decode_mode", "segments", "static_segments", "finevideo_static",
                                "fixed_static_fraction", "static_fraction_time", "longest_freeze_s", "kept",
                                "reason"]),
    }
    if ok.height:
        metadata["static_fraction"] = _histogram(ok, rules)
        metadata["thumbnails"] = _thumbnails(ok, media)
    yield versioned(df, metadata, rules=rules, volatile=UNSTABLE)
    yield from screen_check_results(df, todo.height)
    yield provenance_result(df)
    yield dg.AssetCheckResult(**schema_check(df, DYNAMISM_SCREEN))
