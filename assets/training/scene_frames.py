"""Digit scenes and conversations between their frames (the `digit_scenes` and
`digit_scene_dialogues` assets' rows) and the objects the training code takes.

Pure logic: polars and the digit-scenes module.
"""

from __future__ import annotations

import polars as pl

from assets.training import digit_scenes as ds


def _split(df: pl.DataFrame, split: str | None) -> pl.DataFrame:
    return df if split is None else df.filter(pl.col("split") == split)


def scenes_from_frame(df: pl.DataFrame, split: str | None = None) -> list[ds.Scene]:
    out = []
    for r in _split(df, split).iter_rows(named=True):
        digits = tuple(ds.Placed(d, c, x, y, i) for d, c, x, y, i in
                       zip(r["digits"], r["cells"], r["xs"], r["ys"], r["source_indices"], strict=True))
        out.append(ds.Scene(r["record_id"], r["split"], digits))
    return out


def conversations_from_frame(df: pl.DataFrame, split: str | None = None) -> list[ds.Conversation]:
    return [ds.Conversation(r["record_id"], r["scene_id"], r["kind"],
                            [ds.Turn(t["qtype"], t["question"], t["answer"], t["target"], t["noise"])
                             for t in r["turns"]])
            for r in _split(df, split).iter_rows(named=True)]
