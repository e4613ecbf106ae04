"""The column contract of the FineVideo screens, in one place (pure: no Dagster).

Later stages (taxonomy, selection, annotation, alignment) are written against these columns, so each
screen builds its frame through `conform` (exact names, order and types, also for an empty shard) and
carries a blocking `schema` check (`SCHEMA_CHECK` + `schema_check`): a screen that drifted from the
contract stops the run before a downstream step reads the wrong thing. Every schema ends with the
provenance contract (`parent_ids`, `models`). A screen stores what it measured, so each rule of its
`RuleSet` can be re-evaluated from the stored row (the columns each rule reads are in the schema).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from assets.kit.provenance import MODELS, PARENTS

SCREEN = {
    "kept": pl.Boolean,
    "reason": pl.String,
    "reasons": pl.List(pl.String),
    "detail": pl.String,
}
IDS = {"record_id": pl.String, "video_id": pl.String, "shard": pl.String}
PROVENANCE = {"parent_ids": PARENTS, "models": MODELS}
FREEZE = pl.Struct({"start_s": pl.Float64, "end_s": pl.Float64})
TRANSITION = pl.Struct({"start_s": pl.Float64, "end_s": pl.Float64, "kind": pl.String})  # a fade or dissolve
STILL = pl.Struct({"time_s": pl.Float64, "uri": pl.String, "sha256": pl.String})  # a JPEG in the media store
# a still's 64-bit pHashes (hygiene/video_fingerprints.py): the whole picture with its bars cut off, and its centre;
# null where that picture is flat (black, one colour), since a flat still would match every other one
STILL_HASH = pl.Struct({"time_s": pl.Float64, "hash": pl.UInt64, "centre": pl.UInt64})

LANGUAGE_SCREEN = {
    **IDS,
    "original_language": pl.String,
    "transcription_language": pl.String,
    "word_count": pl.Int64,
    # measured: what the rules compare
    "has_video_id": pl.Boolean,
    "duplicate_in_shard": pl.Boolean,
    "original_language_code": pl.String,
    "transcription_language_code": pl.String,
    **SCREEN,
    **PROVENANCE,
}
VIDEO_FILES = {
    **IDS,
    "source_uri": pl.String,
    "media_uri": pl.String,
    "sha256": pl.String,
    "size_bytes": pl.Int64,
    "container": pl.String,
    "duration_s": pl.Float64,
    "declared_duration_s": pl.Float64,
    "fps": pl.Float64,  # nominal (ffmpeg's guessed rate: r_frame_rate unless implausible)
    "avg_fps": pl.Float64,  # frames per second of the time the packets cover
    "base_fps": pl.Float64,  # the stream's r_frame_rate (ffmpeg's tbr), e.g. 90000 for some phone files
    "width": pl.Int64,  # as displayed (the coded picture after its rotation)
    "height": pl.Int64,
    "coded_width": pl.Int64,  # as stored
    "coded_height": pl.Int64,
    "rotation_deg": pl.Int64,  # clockwise turn a player applies: 0, 90, 180, 270
    "mirrored": pl.Boolean,  # the display matrix also mirrors the picture
    "frame_count": pl.Int64,  # frames with a timestamp (one per packet), exact
    "vfr": pl.Boolean,  # frame durations vary beyond timestamp rounding
    "vcodec": pl.String,
    "acodec": pl.String,
    "keyframes": pl.Int64,
    "subtitle_uri": pl.String,
    "fetch_status": pl.String,  # "ok" or the failure (the rules compare it)
    "fetch_detail": pl.String,  # what failed, in words
    **SCREEN,
    **PROVENANCE,
}
WORD_DENSITY_SCREEN = {
    **IDS,
    "word_count": pl.Int64,
    "duration_s": pl.Float64,
    "words_per_second": pl.Float64,
    **SCREEN,
    **PROVENANCE,
}
DYNAMISM_SCREEN = {
    **IDS,
    "media_uri": pl.String,
    "duration_s": pl.Float64,
    "fps": pl.Float64,
    "segments": pl.Int64,
    "static_segments": pl.Int64,
    "finevideo_static": pl.Boolean,
    "fixed_static": pl.Boolean,
    "static_fraction_segments": pl.Float64,
    "static_fraction_time": pl.Float64,
    "longest_freeze_s": pl.Float64,
    "freeze_intervals": pl.List(FREEZE),
    "decode_mode": pl.String,  # where the verdict came from: "keyframes" | "partial" | "full"
    "scene_cuts_s": pl.List(pl.Float64),  # from the same decode, whatever the mode
    "transitions": pl.List(TRANSITION),  # fades and dissolves (one cut at the middle of those joining two shots)
    "motion_per_second": pl.List(pl.Float64),
    "fixed_segments": pl.Int64,
    "fixed_static_segments": pl.Int64,
    "fixed_static_fraction": pl.Float64,  # the `static` rule compares it with the static share
    "dynamism_error": pl.String,  # why the video could not be measured (the `dynamism_failed` rule)
    "frames": pl.List(STILL),  # the stills the annotation step shows a model (every shot's middle)
    "thumbnail_uri": pl.String,  # the middle of the longest shot
    "still_hashes": pl.List(STILL_HASH),  # every still taken (one a second), flat ones too: the dedup signature
    "frames_decoded": pl.Int64,
    "video_frames": pl.Int64,
    "undecodable_packets": pl.Int64,  # refused by the decoder and skipped, as ffmpeg skips them
    "cpu_s": pl.Float64,
    **SCREEN,
    **PROVENANCE,
}

SCHEMA_CHECK = ("schema", "columns and types match the FineVideo column contract")


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Exactly `schema`'s columns, in order, cast to its types (missing ones are an error)."""
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"frame lacks contract columns {missing}")
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def mismatched(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> dict[str, str]:
    """Contract columns whose type differs (or that are missing: 'None')."""
    return {c: str(df.schema.get(c)) for c, t in schema.items() if df.schema.get(c) != t}


def schema_check(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> dict[str, Any]:
    """The `schema` check's result as keyword arguments of an asset check result."""
    wrong = mismatched(df, schema)
    return {"check_name": SCHEMA_CHECK[0], "passed": not wrong,
            "metadata": {"columns": len(schema), "mismatched": wrong}}
