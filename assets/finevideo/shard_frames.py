"""Fan-ins read every shard of a per-shard asset as one frame."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl


def concat_shards(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """All partitions in key order; columns may differ between shards (missing ones are null)."""
    parts = [frames[k] for k in sorted(frames)]
    return pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()
