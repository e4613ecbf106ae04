"""Duplicate groups and the copy each keeps.

Near-duplicate pairs join items into groups (connected components: a trimmed copy of a copy is in
its original's group even when the two ends compare below the threshold). Each group keeps one
item, the best by the stated rank (smaller is better); every other member is rejected naming the
kept one, so a rejection can always say which record went on in its place."""

from __future__ import annotations

import polars as pl


def _components(items: list[str], pairs: list[tuple[str, str]]) -> dict[str, str]:
    parent = {i: i for i in items}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        if a in parent and b in parent:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {i: root(i) for i in items}


def exact_pairs(records: pl.DataFrame, column: str = "sha256") -> pl.DataFrame:
    """(a, b) for records with the same non-null `column` (a file's or a document's pages' hash), each
    paired with the smallest id of its value: equal bytes are one thing whatever else was measured."""
    keyed = records.filter(pl.col(column).is_not_null()).select("item", column)
    first = keyed.group_by(column).agg(pl.col("item").min().alias("a"))
    return (keyed.join(first, on=column).filter(pl.col("item") != pl.col("a"))
            .select("a", b="item").sort("a", "b"))


def kept_copies(items: pl.DataFrame, pairs: pl.DataFrame, rank: list[pl.Expr | str],
                descending: list[bool] | None = None) -> pl.DataFrame:
    """`items` (an `item` column and the rank columns) with `group` (its component's first item id),
    `group_size` and `duplicate_of` (null for the kept copy, else the kept item's id). The kept copy
    is the first item of its group sorted by `rank` (then by id, so ties are decided the same way
    in every run)."""
    if not items.height:
        return items.with_columns(pl.lit(None, pl.String).alias("group"), pl.lit(0, pl.Int64).alias("group_size"),
                                  pl.lit(None, pl.String).alias("duplicate_of"))
    ids = items["item"].to_list()
    component = _components(ids, pairs.select("a", "b").rows() if pairs.height else [])
    with_group = items.with_columns(pl.Series("group", [component[i] for i in ids], dtype=pl.String))
    order = with_group.sort([*rank, "item"], descending=[*(descending or [False] * len(rank)), False], nulls_last=True)
    best = order.group_by("group", maintain_order=True).agg(pl.col("item").first().alias("_kept"), pl.len()
                                                             .alias("group_size"))
    out = with_group.join(best, on="group", how="left")
    return out.with_columns(pl.when(pl.col("_kept") != pl.col("item")).then(pl.col("_kept")).alias("duplicate_of")
                            ).drop("_kept").with_columns(pl.col("group_size").cast(pl.Int64))
