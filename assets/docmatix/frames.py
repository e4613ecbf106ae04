"""Shard frames as one frame, for fan-in assets.

A fan-in input arrives as `dict[shard, DataFrame]` when several shards exist, as a bare DataFrame
when there is one, and as None when there are none; a fan-in wants one frame either way.
"""

from __future__ import annotations

import polars as pl


def concat_shards(value: dict[str, pl.DataFrame] | pl.DataFrame | None, what: str) -> pl.DataFrame:
    if value is None:
        raise ValueError(f"no shard of {what} has been materialized")
    if isinstance(value, pl.DataFrame):
        return value
    frames = [value[k] for k in sorted(value) if value[k].height]
    if not frames:
        return next(iter(value.values())).clear() if value else pl.DataFrame()
    return pl.concat(frames, how="diagonal_relaxed")
