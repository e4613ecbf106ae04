"""Which items a near-duplicate run must sign and query, given what the last run kept.

The state of a run is two tables: `items` (one row per item with its shard, the digest of that
shard's inputs and the item's signature) and `pairs` (verified near-duplicates, `a` and `b`). A
shard whose digest is unchanged keeps its items and every pair between such items; every other
shard (new, changed) is signed again and queried against the kept items as the index, then within
itself. So the cost of a run grows with the new shard, not with the corpus, and its answer equals a
run from scratch: a pair is between two unchanged items (found before), or involves a new one
(queried now)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Split:
    reused_items: pl.DataFrame  # items of unchanged shards, as the last run signed them
    reused_pairs: pl.DataFrame  # pairs between two such items
    fresh_shards: list[str]  # shards to sign and query (new, or changed since)


def split(digests: Mapping[str, str], state: Mapping[str, pl.DataFrame] | None, items_schema: Mapping,
          pairs_schema: Mapping) -> Split:
    """`digests`: shard -> digest of its inputs now. Shards gone since the last run drop out."""
    if not state:
        return Split(pl.DataFrame(schema=items_schema), pl.DataFrame(schema=pairs_schema), sorted(digests))
    old = state["items"]
    unchanged = {s for s, d in old.select("shard", "digest").unique().iter_rows() if digests.get(s) == d}
    reused = old.filter(pl.col("shard").is_in(sorted(unchanged)))
    ids = reused["item"]
    pairs = state["pairs"].filter(pl.col("a").is_in(ids) & pl.col("b").is_in(ids))
    return Split(reused, pairs, sorted(s for s in digests if s not in unchanged))
