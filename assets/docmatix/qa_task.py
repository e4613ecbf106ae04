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
from assets.kit.identity import record_id
from assets.kit.provenance import declare, models_series
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
    "record_id": pl.String, "document_id": pl.String, "doc_key": pl.String, "source_key": pl.String,
    "shard": pl.String, "variant": pl.String, "pair_index": pl.Int32, "question": pl.String,
    "answer": pl.String, "error": pl.String,
}
FAILED = "failed"  # the pair part of a document's one error row: never a pair index


def qa_record_id(document_id: str, pair: int | str) -> str:
    """`qa:<document record id>:<pair index>` (or `...:failed`): the document's id nested whole."""
    return record_id("qa", document_id, pair)


def raw_rows(docs: pl.DataFrame, variants: list[int], run: TaskRun) -> pl.DataFrame:
    """One row per parsed pair; a document whose generation failed gets one row with its error
    (and no question), so `filtered_qa` accounts for it. Every row names its document in
    `parent_ids` and the call that wrote it in `models` (role `qa`)."""
    rows, models = [], []
    for doc, variant, result in zip(docs.iter_rows(named=True), variants, run.results, strict=True):
        base = {"document_id": doc["record_id"], "doc_key": doc.get("doc_key"), "source_key": doc.get("source_key"),
                "shard": doc["shard"], "variant": VARIANTS[variant][0]}
        entry = [result.model_entry("qa")]
        pairs = parse_qa(result.value.text) if result.ok else []
        if not pairs:
            rows.append({**base, "record_id": qa_record_id(doc["record_id"], FAILED), "pair_index": None,
                         "question": None, "answer": None, "error": result.error or "no Q/A pair in the answer"})
            models.append(entry)
        for i, (_, question, answer) in enumerate(pairs):
            rows.append({**base, "record_id": qa_record_id(doc["record_id"], i), "pair_index": i,
                         "question": question, "answer": answer, "error": None})
            models.append(entry)
    df = pl.DataFrame(rows, schema=RAW_SCHEMA).with_columns(models_series(models, "qa_model"))
    return declare(df, parents=["document_id"], models=["qa_model"]).drop("qa_model")
