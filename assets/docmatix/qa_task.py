"""Docmatix's Q/A generation as a Task: one call per document, answered in the `Q#:`/`A#:` format.

The model's text is kept whole (`text`) and parsed by `parse_qa` on every backend, so the offline
pairs go through the same parser as a model's. An answer with no parseable pair is re-asked with the
parser's complaint; one that still has none becomes that document's error row.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from assets.docmatix.qa_offline import generate_pairs
from assets.docmatix.qa_prompts import document_text, format_qa, parse_qa, system_prompt
from resources.llm import Task


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
