"""The column contract of the FineVideo screens, in one place.

Later stages (taxonomy, selection, annotation, alignment) are written against these columns, so each
screen builds its frame through `conform` (exact names, order and types, also for an empty shard) and
carries a blocking `schema` check: a screen that drifted from the contract stops the run before a
downstream step reads the wrong thing. Columns may be added at the end of a schema, never renamed or
removed.
"""

from __future__ import annotations

import dagster as dg
import polars as pl

from assets.kit.checks import screen_check_specs
from assets.kit.partitions import video_shards

SCREEN = {
    "kept": pl.Boolean,
    "reason": pl.String,
    "reasons": pl.List(pl.String),
    "detail": pl.String,
}
IDS = {"record_id": pl.String, "video_id": pl.String, "shard": pl.String}
FREEZE = pl.Struct({"start_s": pl.Float64, "end_s": pl.Float64})

LANGUAGE_SCREEN = {
    **IDS,
    "original_language": pl.String,
    "transcription_language": pl.String,
    "word_count": pl.Int64,
    **SCREEN,
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
    "fps": pl.Float64,
    "width": pl.Int64,
    "height": pl.Int64,
    "vcodec": pl.String,
    "acodec": pl.String,
    "keyframes": pl.Int64,
    "subtitle_uri": pl.String,
    **SCREEN,
}
WORD_DENSITY_SCREEN = {
    **IDS,
    "word_count": pl.Int64,
    "duration_s": pl.Float64,
    "words_per_second": pl.Float64,
    **SCREEN,
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
    "decode_mode": pl.String,  # "keyframes" | "partial" | "full"
    "scene_cuts_s": pl.List(pl.Float64),  # only from a full decode; else null (use detect_scene_cuts)
    "motion_per_second": pl.List(pl.Float64),
    **SCREEN,
    # additions: the fixed rule's own count, and what the measurement cost
    "fixed_segments": pl.Int64,
    "fixed_static_segments": pl.Int64,
    "frames_decoded": pl.Int64,
    "cpu_s": pl.Float64,
}


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Exactly `schema`'s columns, in order, cast to its types (missing ones are an error)."""
    missing = [c for c in schema if c not in df.columns]
    if missing:
        raise ValueError(f"frame lacks contract columns {missing}")
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def schema_spec(asset: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec("schema", asset=asset, blocking=True,
                             description="columns and types match the FineVideo column contract")


def schema_result(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> dg.AssetCheckResult:
    wrong = {c: str(df.schema.get(c)) for c, t in schema.items() if df.schema.get(c) != t}
    return dg.AssetCheckResult(check_name="schema", passed=not wrong,
                               metadata={"columns": len(schema), "mismatched": dg.MetadataValue.json(wrong)})


def screen_asset(description: str, kinds: tuple[str, ...] = ("polars", "parquet"), code_version: str = "1"):
    """@asset for a per-shard FineVideo screen: its group, owner, and the blocking checks every
    screen carries (accounted, unique_ids, schema)."""

    def decorate(fn):
        return dg.asset(
            name=fn.__name__,
            partitions_def=video_shards,
            group_name="finevideo",
            kinds=set(kinds),
            owners=["team:data"],
            code_version=code_version,
            check_specs=[*screen_check_specs(fn.__name__), schema_spec(fn.__name__)],
            description=description,
        )(fn)

    return decorate
