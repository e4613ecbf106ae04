"""Locality-sensitive candidate search as a join: each item is stored as (item, band, key) rows,
one per band of its signature (MinHash bands, slices of a perceptual hash). Two items are
candidates when they share a key in some band, so finding them is an equi-join on (band, key),
never a comparison of every pair. An index is just those rows for the items seen so far (a
Parquet table per shard), so a new shard is queried against it and then appended: the earlier
shards are read, never re-signed or re-compared with each other."""

from __future__ import annotations

import polars as pl

BAND_SCHEMA = {"item": pl.String, "band": pl.Int32, "key": pl.UInt64}


def band_rows(items: list[str], keys: list[list[int]]) -> pl.DataFrame:
    """(item, band, key) rows: `keys[i][b]` is item i's key in band b (bands may differ per item in
    number, e.g. one band set per sampled frame, numbered apart)."""
    rows = [(item, band, key) for item, ks in zip(items, keys, strict=True) for band, key in enumerate(ks)]
    return pl.DataFrame(rows, schema=BAND_SCHEMA, orient="row")


def meetings(new: pl.DataFrame, index: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per bucket two items meet in: `a` from `new`, `b` from `new` (a < b) or from `index`, with
    the band and key and, suffixed `_b` for b's side, any other columns the rows carry (the hash a row
    was cut from, say). An item never meets itself; the index's items never meet each other."""
    new = new.unique()
    frames = [new.join(new, on=["band", "key"], suffix="_b").filter(pl.col("item") < pl.col("item_b"))]
    if index is not None and index.height:
        frames.append(new.join(index.select(new.columns).unique(), on=["band", "key"], suffix="_b")
                      .filter(pl.col("item") != pl.col("item_b")))
    return pl.concat(frames).rename({"item": "a", "item_b": "b"})


def candidate_pairs(new: pl.DataFrame, index: pl.DataFrame | None = None, min_shared: int = 1) -> pl.DataFrame:
    """Distinct (a, b) pairs sharing a key in at least `min_shared` (band, key) buckets (`meetings`).
    Items with many parts (a video's stills) meet unrelated items in a bucket or two by chance; a copy
    shares many, so asking for a few keeps the copies and drops most chance meetings."""
    met = meetings(new.select(BAND_SCHEMA.keys()), index.select(BAND_SCHEMA.keys()) if index is not None else None)
    if min_shared > 1:
        return met.group_by("a", "b").len().filter(pl.col("len") >= min_shared).select("a", "b").sort("a", "b")
    return met.select("a", "b").unique().sort("a", "b")
