"""What a question set exposes to a model that never watches: every attack fitted on the train split
and scored on the test split (or cross-fitted by video over the whole set, so each question is
scored by a model that never saw its video, for slices a small test split leaves too thin),
overall, per category and per question kind, and the answer priors per kind. Read by `bench/bench_cinepile.py` before refinement (the questions as written) and after
(the release)."""

from __future__ import annotations

import numpy as np
import polars as pl

from assets.cinepile.attacks import ATTACKS, DEFAULTS, AttackParams, cross_fit, picks, train_test
from assets.cinepile.categories import label
from assets.cinepile.gates import question_set
from assets.cinepile.mcq import N_CHOICES
from assets.cinepile.priors import DEFAULTS as PRIOR_DEFAULTS
from assets.cinepile.priors import Item, PriorParams, counts
from assets.cinepile.vectors import Encode


def attack_table(train: pl.DataFrame, test: pl.DataFrame, encode: Encode, params: AttackParams = DEFAULTS
                 ) -> pl.DataFrame:
    """(attack, slice, value, questions, accuracy %) on `test`, each attack fitted on `train`. Both
    frames need question, choices, answer_key_position, video_id, question_category and kind."""
    if not test.height or not train.height:
        return _table({}, test.head(0))
    return _table(train_test(question_set(train), question_set(test), encode, params), test)


def crossfit_table(df: pl.DataFrame, encode: Encode, params: AttackParams = DEFAULTS) -> pl.DataFrame:
    """`attack_table`'s figures over the whole set, each question scored by the fold that never saw
    its video."""
    if df["video_id"].n_unique() < 2:
        return _table({}, df.head(0))
    qs = question_set(df)
    return _table(cross_fit(qs, encode, params).scores(qs), df)


def _table(scores: dict[str, np.ndarray], test: pl.DataFrame) -> pl.DataFrame:
    if not test.height:
        return pl.DataFrame(schema={"attack": pl.String, "slice": pl.String, "value": pl.String,
                                    "questions": pl.Int64, "accuracy": pl.Float64})
    keys = test["answer_key_position"].to_numpy()
    right = pl.DataFrame({f"{a}": picks(scores[a]) == keys for a in ATTACKS})
    frame = pl.concat([test.select(pl.col("question_category").map_elements(label, pl.String), "kind"), right],
                      how="horizontal")
    rows = []
    for a in ATTACKS:
        rows.append({"attack": a, "slice": "overall", "value": "all", "questions": test.height,
                     "accuracy": round(100 * float(frame[a].mean()), 1)})
        for by in ("question_category", "kind"):
            for (value,), part in frame.group_by(by, maintain_order=True):
                rows.append({"attack": a, "slice": by, "value": value, "questions": part.height,
                             "accuracy": round(100 * float(part[a].mean()), 1)})
    return pl.DataFrame(rows).sort("attack", "slice", "value")


def prior_table(df: pl.DataFrame, params: PriorParams = PRIOR_DEFAULTS) -> pl.DataFrame:
    """(kind, text, keys, shown, ratio) for texts shown at least `min_shown` times, worst first: the
    key rate when shown over chance (1.0 = as often a key as a distractor)."""
    items = [Item(str(i), r["kind"], tuple(r["choices"]), int(r["answer_key_position"]))
             for i, r in enumerate(df.iter_rows(named=True))]
    keys, shown = counts(items)
    rows = [{"kind": k, "text": t, "keys": keys[(k, t)], "shown": n, "ratio": round(N_CHOICES * keys[(k, t)] / n, 2)}
            for (k, t), n in shown.items() if n >= params.min_shown]
    schema = {"kind": pl.String, "text": pl.String, "keys": pl.Int64, "shown": pl.Int64, "ratio": pl.Float64}
    return pl.DataFrame(rows, schema=schema).sort("ratio", "kind", "text", descending=[True, False, False])
