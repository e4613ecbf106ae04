"""Fan-ins read every shard of a per-shard asset as one frame.

A fan-in input arrives as `dict[shard, DataFrame]` (the storage hands a dict to inputs typed as one,
even for a single partition), as a bare DataFrame when an untyped input has one partition, and as
None when nothing was materialized; a fan-in wants one frame either way.

An input typed `dict[str, pl.LazyFrame]` arrives as one lazy scan per shard file, nothing read yet:
`shard_columns` then reads only the columns the fan-in joins on. At 2,000 shards of raw metadata the
transcripts beside those columns are most of the bytes (bench/bench_scale.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:  # pure: the selection's candidate store imports this module without Dagster
    import dagster as dg

Frame = pl.DataFrame | pl.LazyFrame


def concat_shards(value: Mapping[str, pl.DataFrame] | pl.DataFrame | None, what: str = "input") -> pl.DataFrame:
    """All partitions in key order; columns may differ between shards (missing ones are null). With
    no shard output at all (every shard failed, or none has run) there is no schema to give: a
    clear error rather than a frame without columns failing later on a missing column."""
    if value is None or (isinstance(value, Mapping) and not value):
        raise ValueError(f"no shard of {what} has output: every shard's step failed or none has run")
    if isinstance(value, pl.DataFrame):
        return value
    frames = [value[k] for k in sorted(value) if value[k].height]
    if not frames:
        return next(iter(value.values())).clear()
    return pl.concat(frames, how="diagonal_relaxed")


def by_shard(context: dg.AssetExecutionContext, name: str,
             value: Mapping[str, pl.DataFrame] | pl.DataFrame | None) -> Mapping[str, pl.DataFrame]:
    """A fan-in input as {shard: frame}, whichever form it arrived in."""
    if value is None:
        return {}
    if isinstance(value, pl.DataFrame):
        return {context.asset_partition_keys_for_input(name)[0]: value}
    return value


def shard_columns(value: Mapping[str, Frame] | Frame | None, columns: Sequence[str], what: str = "input",
                  ids: pl.Series | None = None) -> pl.DataFrame:
    """`columns` (those a shard has; the others are null where another shard has them) of every
    shard in key order, read column by column from the files when the shards arrive lazy; with
    `ids`, only the rows of those record ids (one semi-join over all shards: a filter per shard
    would hash the id list once per shard, quadratic at 2,000 shards). No shard output at all is
    the same error as `concat_shards`'."""
    if value is None or (isinstance(value, Mapping) and not value):
        raise ValueError(f"no shard of {what} has output: every shard's step failed or none has run")
    frames = [value] if isinstance(value, Frame) else [value[k] for k in sorted(value)]
    narrow = []
    for frame in frames:
        lazy = frame.lazy()
        present = set(lazy.collect_schema().names())
        narrow.append(lazy.select([c for c in columns if c in present]))
    out = pl.concat(narrow, how="diagonal_relaxed")
    if ids is not None and "record_id" in out.collect_schema().names():
        out = out.join(pl.LazyFrame({"record_id": ids.cast(pl.String).unique()}), on="record_id", how="semi",
                       maintain_order="left")
    # one chunk: a frame of 2,000 shard-sized chunks made a later join 10x slower (bench/bench_scale.py)
    return out.collect(engine="streaming").rechunk()


def row_count(frame: Frame) -> int:
    """Rows of a shard's frame; a lazy Parquet scan answers from the file's footer."""
    return frame.height if isinstance(frame, pl.DataFrame) else frame.select(pl.len()).collect().item()


def scan_file(fs, path: str) -> pl.LazyFrame:
    """A stored Parquet file as a lazy scan (a fan-in then reads only the columns it selects): off a
    local disk directly, off an object store through its own filesystem, so it keeps its options."""
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs, LocalFileSystem):
        return pl.scan_parquet(path)
    import pyarrow.dataset as ds

    return pl.scan_pyarrow_dataset(ds.dataset(path, filesystem=fs, format="parquet"))
