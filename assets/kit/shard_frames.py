"""Fan-ins read every shard of a per-shard asset as one frame.

A fan-in input arrives as `dict[shard, DataFrame]` (the storage hands a dict to inputs typed as one,
even for a single partition), as a bare DataFrame when an untyped input has one partition, and as
None when nothing was materialized; a fan-in wants one frame either way.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl


def concat_shards(value: Mapping[str, pl.DataFrame] | pl.DataFrame | None, what: str = "input") -> pl.DataFrame:
    """All partitions in key order; columns may differ between shards (missing ones are null)."""
    if value is None:
        raise ValueError(f"no shard of {what} has been materialized")
    if isinstance(value, pl.DataFrame):
        return value
    frames = [value[k] for k in sorted(value) if value[k].height]
    if not frames:
        return next(iter(value.values())).clear() if value else pl.DataFrame()
    return pl.concat(frames, how="diagonal_relaxed")
