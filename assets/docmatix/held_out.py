"""The held-out DocVQA-style test items: questions of the release's test documents, each checked
again against its page with the answerability rules before it may measure a model.

Kept apart from `release.py` (the split rule) so the release's code version does not follow the
filter's thresholds: only these items (and the card) are judged with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from assets.docmatix.qa_filters import PageIndex, QAFilterRules, answerability_failures
from assets.docmatix.release import split_rank
from assets.kit.identity import record_id
from assets.kit.provenance import MODELS, declare

TEST_ITEMS = 200

ITEM_SCHEMA = {
    "record_id": pl.String, "release_id": pl.String, "qa_id": pl.String, "document_id": pl.String,
    "page": pl.Int32, "question": pl.String, "answers": pl.List(pl.String), "image_uri": pl.String,
    "image_sha256": pl.String, "page_text": pl.String, "models": MODELS,
}


@dataclass
class AnswerabilityCheck:
    """What drawing the test items checked: pairs examined, pairs that passed, and the pairs left
    out by the first answerability rule each failed."""

    checked: int = 0
    answerable: int = 0
    excluded: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"checked": self.checked, "answerable": self.answerable, "excluded": dict(self.excluded)}


def held_out_items(release: pl.DataFrame, pages: dict[str, list], limit: int = TEST_ITEMS,
                   rules: QAFilterRules | None = None) -> tuple[pl.DataFrame, AnswerabilityCheck]:
    """The first `limit` answerable Q/A pairs of the test documents, ordered by the split hash then
    pair order: one row per question (`docvqa_item:<qa id>`) with its page image, the page's text
    and its reference answers (`answers`); parents: the release row and the pair; `models`: the
    call that wrote the question and its reference answer. `pages` is keyed by document record id
    (each document's pages in PDFA layout, or as text).

    Every pair is checked again against its document's pages with the answerability rules
    (whatever the filter ran with, an evaluation must not be measured on pairs the page cannot
    answer); one that fails is left out and counted, never silently."""
    test = release.filter(pl.col("split") == "test").with_columns(
        pl.col("doc_key").map_elements(split_rank, return_dtype=pl.Float64).alias("_rank")
    ).sort("_rank", "record_id")
    rows, check = [], AnswerabilityCheck()
    for r in test.iter_rows(named=True):
        if len(rows) >= limit:
            break
        index = PageIndex.of(pages[r["document_id"]])
        for qa_id, turn, page in zip(r["qa_ids"], r["texts"], r["qa_pages"], strict=True):
            if len(rows) >= limit:
                break
            check.checked += 1
            failed = answerability_failures(turn["user"], turn["assistant"], index, rules)
            if failed:
                check.excluded[failed[0]] = check.excluded.get(failed[0], 0) + 1
                continue
            check.answerable += 1
            rows.append({
                "record_id": record_id("docvqa_item", qa_id), "release_id": r["record_id"], "qa_id": qa_id,
                "document_id": r["document_id"], "page": page, "question": turn["user"],
                "answers": [turn["assistant"]], "image_uri": r["images"][page],
                "image_sha256": r["image_sha256"][page], "page_text": index.layouts[page].text,
                "models": r["models"],
            })
    df = pl.DataFrame(rows, schema=ITEM_SCHEMA)
    return declare(df, parents=["release_id", "qa_id"], models=["models"]), check
