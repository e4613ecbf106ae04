"""Fan-ins read every shard of a per-shard asset as one frame.

A fan-in input arrives as `dict[shard, DataFrame]` (the storage hands a dict to inputs typed as one,
even for a single partition), as a bare DataFrame when an untyped input has one partition, and as
None when nothing was materialized; a fan-in wants one frame either way.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import polars as pl


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
