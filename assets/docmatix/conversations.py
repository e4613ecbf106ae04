"""Grounding pairs and page dialogues: the two VARCO-MLLM abilities a document page can teach.

Grounding asks where a text is (answer: its box) and, the other way round, what a box says (referring);
the boxes are PDFA's word and line boxes, so the answer is exact geometry, not a model's guess. Only
texts printed once on the page are used: a repeated text has no single right box. A dialogue is a
page's kept Q/A pairs as one multi-turn conversation, in the order they were generated.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass

import polars as pl

from assets.docmatix.pdfa import Box, Page
from assets.kit.identity import record_id, record_id_expr
from assets.kit.provenance import MODELS, declare

LINES_PER_PAGE = 4
WORDS_PER_PAGE = 2
_DISTINCT_WORD = re.compile(r"^(?=.*\d)[\w,.:/-]{4,}$|^[A-Z][a-z]{5,}$")


def box_text(box: Box) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in box) + "]"


@dataclass(frozen=True)
class GroundingPair:
    page: int
    kind: str  # "grounding": text -> box, "referring": box -> text
    unit: str  # "line" | "word"
    text: str
    bbox: Box
    user: str
    assistant: str


def _targets(page: Page, rng: random.Random) -> list[tuple[str, str, Box]]:
    lines = list(zip(page["lines"]["text"], page["lines"]["bbox"], strict=True))
    words = list(zip(page["words"]["text"], page["words"]["bbox"], strict=True))
    line_counts = Counter(t.strip() for t, _ in lines)
    word_counts = Counter(t for t, _ in words)
    line_pool = [(t.strip(), b) for t, b in lines
                 if line_counts[t.strip()] == 1 and len(t.split()) >= 2 and b[2] > 0 and b[3] > 0]
    word_pool = [(t, b) for t, b in words if word_counts[t] == 1 and _DISTINCT_WORD.match(t) and b[2] > 0]
    chosen = [("line", t, b) for t, b in rng.sample(line_pool, min(LINES_PER_PAGE, len(line_pool)))]
    taken = {t for _, t, _ in chosen}
    word_pool = [(t, b) for t, b in word_pool if not any(t in line for line in taken)]
    chosen += [("word", t, b) for t, b in rng.sample(word_pool, min(WORDS_PER_PAGE, len(word_pool)))]
    return chosen


def grounding_pairs(layout: list[Page], key: str) -> list[GroundingPair]:
    """Up to LINES_PER_PAGE lines and WORDS_PER_PAGE words per page, each asked both ways."""
    out = []
    for index, page in enumerate(layout):
        rng = random.Random(f"grounding:{key}:{index}")
        for unit, text, box in _targets(page, rng):
            where = box_text(box)
            out.append(GroundingPair(
                index, "grounding", unit, text, box,
                f'Where is the text "{text}" on this page? Give its box as [x, y, w, h] in page units (0-1).',
                where,
            ))
            out.append(GroundingPair(
                index, "referring", unit, text, box,
                f"What text is printed in the box {where} (x, y, width, height in page units)?",
                text,
            ))
    return out


GROUNDING_SCHEMA = {
    "record_id": pl.String, "document_id": pl.String, "page_id": pl.String, "shard": pl.String,
    "page": pl.Int32, "image_uri": pl.String, "kind": pl.String, "unit": pl.String, "text": pl.String,
    "bbox": pl.List(pl.Float64), "user": pl.String, "assistant": pl.String,
}


def grounding_rows(docs: pl.DataFrame, images: pl.DataFrame) -> pl.DataFrame:
    """Grounding pairs of the kept documents' rendered pages: `grounding:<page id>:<kind>:<n>`, each
    with its page image and its document in `parent_ids` (the boxes are the document's geometry).

    `docs`: kept `documents` rows; `images`: kept `page_images` rows."""
    pages = {(r["document_id"], r["page"]): (r["record_id"], r["image_uri"]) for r in images.iter_rows(named=True)}
    rows = []
    for doc in docs.iter_rows(named=True):
        doc_id = doc["record_id"]
        counters: dict[tuple[int, str], int] = {}
        for g in grounding_pairs(json.loads(doc["layout"])["pages"], doc.get("doc_key") or doc_id):
            if (doc_id, g.page) not in pages:
                continue
            page_id, image_uri = pages[(doc_id, g.page)]
            n = counters[(g.page, g.kind)] = counters.get((g.page, g.kind), 0) + 1
            rows.append({"record_id": record_id("grounding", page_id, g.kind, n), "document_id": doc_id,
                         "page_id": page_id, "shard": doc["shard"], "page": g.page, "image_uri": image_uri,
                         "kind": g.kind, "unit": g.unit, "text": g.text, "bbox": g.bbox, "user": g.user,
                         "assistant": g.assistant})
    return declare(pl.DataFrame(rows, schema=GROUNDING_SCHEMA), parents=["page_id", "document_id"])


DIALOGUE_SCHEMA = {
    "record_id": pl.String, "document_id": pl.String, "page_id": pl.String, "shard": pl.String,
    "page": pl.Int32, "image_uri": pl.String, "turns": pl.List(pl.Struct({"user": pl.String, "assistant": pl.String})),
    "n_turns": pl.Int32, "qa_ids": pl.List(pl.String), "qa_models": MODELS,
}


def dialogue_rows(qa: pl.DataFrame, images: pl.DataFrame) -> pl.DataFrame:
    """Each rendered page's kept Q/A pairs as one conversation, in generation order:
    `dialogue:<page id>`, built from its page image and its pairs (`parent_ids`), the pairs' model
    entries in `models`.

    `qa`: kept `filtered_qa` rows; `images`: kept `page_images` rows."""
    pages = images.select("document_id", "page", pl.col("record_id").alias("page_id"), "image_uri")
    df = (
        qa.sort("document_id", "pair_index")
        .group_by("document_id", "page", maintain_order=True)
        .agg(
            pl.col("shard").first(),
            pl.struct(pl.col("question").alias("user"), pl.col("answer").alias("assistant")).alias("turns"),
            pl.col("record_id").alias("qa_ids"),
            pl.col("models").list.explode(keep_nulls=False, empty_as_null=False).unique(maintain_order=True).alias("qa_models"),
        )
        .join(pages, on=["document_id", "page"], how="inner")
        .with_columns(
            record_id_expr("dialogue", "page_id").alias("record_id"),
            pl.col("turns").list.len().alias("n_turns"),
        )
        .select(list(DIALOGUE_SCHEMA))
        .cast(DIALOGUE_SCHEMA)
    )
    return declare(df, parents=["page_id", "qa_ids"], models=["qa_models"]).drop("qa_models")
