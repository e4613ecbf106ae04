"""Docmatix's Q/A generation as a Task: one call per document, answered in the `Q#:`/`A#:` format.

The model's text is kept whole (`text`) and parsed by `parse_qa` on every backend, so the offline
pairs go through the same parser as a model's. An answer with no parseable pair is re-asked with the
parser's complaint; one that still has none becomes that document's error row.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from pydantic import BaseModel, Field, field_validator

from assets.docmatix.qa_offline import generate_pairs
from assets.docmatix.qa_prompts import VARIANTS, document_text, format_qa, parse_qa, system_prompt
from assets.kit.task import Task, TaskRun


class GeneratedQA(BaseModel):
    text: str = Field(description="The pairs, one per two lines: 'Q1: <question>' then 'A1: <answer>'.")

    @field_validator("text")
    @classmethod
    def has_pairs(cls, v: str) -> str:
        if not parse_qa(v):
            raise ValueError("no Q/A pair found: write each pair as a line 'Q1: <question>' followed by "
                             "a line 'A1: <answer>', numbering on")
        return v


class QAGenerationTask(Task):
    """Item: {"key": PDFA key, "variant": prompt variant, "layout": PDFA-layout pages}."""

    name = "docmatix_qa"
    version = "1"
    response_model = GeneratedQA
    offline_model = "page-layout-extraction"
    temperature = 0.2

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"role": "system", "content": system_prompt(item["variant"], len(item["layout"]))},
            {"role": "user", "content": document_text(item["layout"])},
        ]

    def offline(self, item: dict[str, Any]) -> GeneratedQA:
        pairs = generate_pairs(item["layout"], item["key"], item["variant"])
        if not pairs:
            raise ValueError("no grounded question found in the document's text")
        return GeneratedQA(text=format_qa([(p.question, p.answer) for p in pairs]))


RAW_SCHEMA = {
    "record_id": pl.String, "document_id": pl.String, "shard": pl.String, "variant": pl.String,
    "pair_index": pl.Int32, "question": pl.String, "answer": pl.String,
    "backend": pl.String, "model": pl.String, "task_name": pl.String, "task_version": pl.String,
    "prompt_sha": pl.String, "cached": pl.Boolean, "attempts": pl.Int32, "error": pl.String,
}


def raw_rows(docs: pl.DataFrame, variants: list[int], run: TaskRun) -> pl.DataFrame:
    """One row per parsed pair; a document whose generation failed gets one row with its error
    (and no question), so `filtered_qa` accounts for it."""
    rows = []
    for doc, variant, result in zip(docs.iter_rows(named=True), variants, run.results, strict=True):
        base = {"document_id": doc["record_id"], "shard": doc["shard"], "variant": VARIANTS[variant][0],
                **result.provenance()}
        pairs = parse_qa(result.value.text) if result.ok else []
        if not pairs:
            rows.append({**base, "record_id": f"{doc['record_id']}:failed", "pair_index": None,
                         "question": None, "answer": None,
                         "error": result.error or "no Q/A pair in the answer"})
        for i, (number, question, answer) in enumerate(pairs):
            rows.append({**base, "record_id": f"{doc['record_id']}:qa{number}", "pair_index": i,
                         "question": question, "answer": answer})
    return pl.DataFrame(rows, schema=RAW_SCHEMA)
