"""Reading YouTube-Commons shards, whose files do not share one schema.

Real files differ: some carry yt-dlp fields (view_count, tags, ...), some `language_id_method`
instead of `source_language`, counts arrive as strings, text as bytes. Each file is read on its own
and mapped onto one schema; a value that cannot be cast becomes null and is listed in the row's
`normalization_issues`, never silently kept in the wrong type nor dropped with its row. That holds
for values no cast can take (a UInt64 or Int128 count past Int64, a list, struct or duration where
one value belongs): one such row never stops the shard.

A video id is normalised once, here (`video_id_key`: Unicode NFC, surrounding whitespace stripped,
null when nothing is left), and stored that way, so the record id, the source key, duplicate
detection and the file lookup all see the same id: `dupB` and `dupB ` are one video, landed twice.

A row's `record_id` is where it landed: `yt:<shard>:<video id>:<row>` (the id empty when the row
has none), unique per landed row by construction, so the same video landed in two shards is two
records. What they share is `source_key` (`yt:<video id>`, null without an id), which content
selection de-duplicates on.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl

from assets.kit.identity import record_id_expr, source_key_expr
from assets.kit.provenance import declare

STRING_COLUMNS = (
    "video_id", "video_link", "title", "text", "channel", "channel_id", "date", "license",
    "original_language", "source_language", "transcription_language", "language_id_method",
    "duration_string", "upload_date", "description", "resolution", "acodec", "vcodec", "video_path",
)
INT_COLUMNS = (
    "word_count", "character_count", "view_count", "like_count", "comment_count",
    "channel_follower_count", "age_limit",
)
LIST_COLUMNS = ("tags", "categories")
PROVENANCE_COLUMNS = ("record_id", "source_key", "shard", "source_file", "source_row", "source_sha256")
NAMESPACE = "yt"

SCHEMA: dict[str, pl.DataType] = {
    **{c: pl.String for c in STRING_COLUMNS},
    **{c: pl.Int64 for c in INT_COLUMNS},
    **{c: pl.List(pl.String) for c in LIST_COLUMNS},
}


class ShardError(ValueError):
    """A shard file that cannot be read at all; the message names the file and the cause."""


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def read_shard(path: str | Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except Exception as e:  # polars raises several types for a bad file
        raise ShardError(f"unreadable shard {Path(path).name}: {type(e).__name__}: {e}") from e


def _as_string(col: pl.Series) -> pl.Series:
    if col.dtype == pl.String:
        return col
    if col.dtype == pl.Binary:
        return pl.Series(
            col.name,
            [None if v is None else v.decode("utf-8", "replace") for v in col.to_list()],
            dtype=pl.String,
        )
    if isinstance(col.dtype, pl.List):
        return col.list.join(", ")
    return col.cast(pl.String, strict=False)


def _as_list(col: pl.Series) -> pl.Series:
    if isinstance(col.dtype, pl.List | pl.Array):
        return col.cast(pl.List(pl.String), strict=False)
    values = []
    for v in _as_string(col).to_list():
        if v is None or not v.strip():
            values.append([] if v is not None else None)
            continue
        try:
            parsed = json.loads(v)
            values.append([str(x) for x in parsed] if isinstance(parsed, list) else [str(parsed)])
        except json.JSONDecodeError:
            values.append([t.strip() for t in v.split(",") if t.strip()])
    return pl.Series(col.name, values, dtype=pl.List(pl.String))


def _as_int(col: pl.Series) -> pl.Series:
    if col.dtype.is_integer():
        return col.cast(pl.Int64, strict=False)  # past Int64 (UInt64, Int128): null, and an issue
    text = _as_string(col).str.strip_chars().str.replace_all(",", "")
    return text.cast(pl.Float64, strict=False).round(0).cast(pl.Int64, strict=False)


def _scalar(dtype: pl.DataType) -> bool:
    """A type one value of a column can be read from: numbers, text, bytes, flags, dates; not a
    list, struct, array or duration."""
    return (dtype.is_numeric() or (dtype.is_temporal() and not isinstance(dtype, pl.Duration))
            or dtype in (pl.String, pl.Binary, pl.Boolean, pl.Null, pl.Categorical))


def _representable(source: pl.DataType, target: pl.DataType) -> bool:
    if target == pl.String:  # a list of strings is joined, as some files store one field as a list
        return _scalar(source) or (isinstance(source, pl.List) and source.inner in (pl.String, pl.Categorical))
    if target == pl.Int64:
        return _scalar(source)
    return _scalar(source) or (isinstance(source, pl.List | pl.Array) and _scalar(source.inner))


def _convert(src: pl.Series, dtype: pl.DataType) -> pl.Series:
    """`src` in `dtype`; all null when its type cannot hold such values at all (the caller records
    every lost value as an issue)."""
    if not _representable(src.dtype, dtype):
        return pl.Series(src.name, [None] * src.len(), dtype=dtype)
    if dtype == pl.String:
        return _as_string(src)
    return _as_int(src) if dtype == pl.Int64 else _as_list(src)


def _shown(value) -> str:
    """A source value as an issue quotes it (a list as its items, not as a printed Series)."""
    return str(value.to_list() if isinstance(value, pl.Series) else value)


def video_id_key(column: str = "video_id") -> pl.Expr:
    """A video id as every step compares it: Unicode NFC, surrounding whitespace stripped, null when
    nothing is left. The one normalisation of ids: record ids, source keys and duplicate detection."""
    vid = pl.col(column).str.normalize("NFC").str.strip_chars()
    return pl.when(vid != "").then(vid)


def normalise(raw: pl.DataFrame, shard: str, source_file: str, source_sha256: str) -> pl.DataFrame:
    """One row per source row, in SCHEMA, with provenance and a list of what had to be coerced."""
    n = raw.height
    columns: dict[str, pl.Series] = {}
    issues: list[list[str]] = [[] for _ in range(n)]
    for name, dtype in SCHEMA.items():
        if name not in raw.columns:
            columns[name] = pl.Series(name, [None] * n, dtype=dtype)
            continue
        src = raw[name]
        out = _convert(src, dtype)
        lost = (src.is_not_null() & out.is_null()).to_list()
        for i in (i for i, flag in enumerate(lost) if flag):
            issues[i].append(f"{name}: {_shown(src[i])[:40]!r} is not {dtype}")
        columns[name] = out.alias(name)
    df = pl.DataFrame(list(columns.values()))
    vid = df.select(video_id_key()).to_series()
    changed = (df["video_id"].is_not_null() & (df["video_id"] != vid).fill_null(True)).to_list()
    for i in (i for i, flag in enumerate(changed) if flag):
        issues[i].append(f"video_id: {df['video_id'][i][:40]!r} normalised to {vid[i]!r}")
    df = df.with_columns(vid.alias("video_id"))
    # transcripts without a count still have words; the count is derived and says so
    derived = df["word_count"].is_null() & df["text"].is_not_null()
    for i in (i for i, flag in enumerate(derived.to_list()) if flag):
        issues[i].append("word_count: derived from text")
    df = df.with_columns(
        pl.when(pl.col("word_count").is_null())
        .then(pl.col("text").str.split(" ").list.eval(pl.element().filter(pl.element() != "")).list.len())
        .otherwise(pl.col("word_count"))
        .cast(pl.Int64)
        .alias("word_count"),
        pl.when(pl.col("character_count").is_null())
        .then(pl.col("text").str.len_chars())
        .otherwise(pl.col("character_count"))
        .cast(pl.Int64)
        .alias("character_count"),
    )
    out = df.with_columns(
        pl.lit(shard, dtype=pl.String).alias("shard"),
        pl.lit(source_file, dtype=pl.String).alias("source_file"),
        pl.int_range(0, n, dtype=pl.Int64).alias("source_row"),
        pl.lit(source_sha256, dtype=pl.String).alias("source_sha256"),
        pl.Series("normalization_issues", issues, dtype=pl.List(pl.String)),
    ).with_columns(record_id_of_rows(), source_key_of_rows())
    # landed source rows: built from no other record, by no model
    return declare(out.select([*PROVENANCE_COLUMNS, *SCHEMA, "normalization_issues"]))


def record_id_of_rows() -> pl.Expr:
    """`yt:<shard>:<video id or empty>:<source row>`: unique per landed row, shard-qualified."""
    return record_id_expr(NAMESPACE, "shard", video_id_key().fill_null(""), "source_row").alias("record_id")


def source_key_of_rows() -> pl.Expr:
    """`yt:<video id>`, shared by every landing of the video; null when the row has no id."""
    return source_key_expr(NAMESPACE, video_id_key()).alias("source_key")


def extra_columns(raw: pl.DataFrame) -> list[str]:
    """Columns of the file the schema does not carry (reported, not stored)."""
    return sorted(set(raw.columns) - set(SCHEMA))


def missing_columns(raw: pl.DataFrame) -> list[str]:
    """Schema columns the file lacks (filled with nulls)."""
    return sorted(set(SCHEMA) - set(raw.columns))
