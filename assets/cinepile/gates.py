"""The set-level gates between refinement and release: what the loop cannot see question by question.

After the loop every kept question is judged once more as a member of the final set:
- `blind_attack`: the learned attacks, refitted on the final versions and cross-fitted by video,
  rank its key first with at least `flag_at` probability (rewrites changed the set the loop's
  attacks were fitted on, and a question the loop fixed against one fold can still be answered);
- `key_prior`: its key text is the key more often than chance allows among its kind
  (`priors.balance`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from assets.cinepile.attacks import AttackParams, QuestionSet, cross_fit, verdicts
from assets.cinepile.priors import Item, PriorParams, balance
from assets.cinepile.vectors import Encode


@dataclass(frozen=True)
class Gated:
    reason: str
    detail: str


def question_set(df: pl.DataFrame) -> QuestionSet:
    return QuestionSet(df["question"].to_list(), [list(c) for c in df["choices"].to_list()],
                       df["answer_key_position"].to_numpy().astype(int), df["video_id"].to_list())


def gate(df: pl.DataFrame, encode: Encode, attack: AttackParams, priors: PriorParams) -> dict[str, Gated]:
    """record_id -> why it leaves the set, for the rows of `df` (kept questions: record_id, video_id,
    kind, question, choices, answer_key_position)."""
    out: dict[str, Gated] = {}
    if df.height and df["video_id"].n_unique() >= 2:
        qs = question_set(df)
        for rid, v in zip(df["record_id"].to_list(), verdicts(cross_fit(qs, encode, attack).scores(qs), qs.key,
                                                              attack.flag_at), strict=True):
            if v.flagged:
                out[rid] = Gated("blind_attack", f"the {v.attack} attack, fitted on other videos' questions, picks "
                                                 f"the key with probability {v.p_key:.2f}")
    rest = df.filter(~pl.col("record_id").is_in(list(out)))
    items = [Item(r["record_id"], r["kind"], tuple(r["choices"]), int(r["answer_key_position"]))
             for r in rest.iter_rows(named=True)]
    out.update({rid: Gated("key_prior", detail) for rid, detail in balance(items, priors).items()})
    return out

