"""The model adapters DocVQA evaluation runs: an extractive text baseline and any OpenAI-compatible VLM.

The baseline is weak on purpose, like DocVQA's text-only baselines: it picks the page line sharing
the most words with the question and answers with what that line says beyond the question's words
(the value after a `key:`, or "Yes"/"No" by word coverage for yes/no questions; a Korean question is
read without its template words and particles and answered 예/아니요). It bounds from below what a
model that actually reads the page should beat.

The VLM adapter sends the page image as a PNG data URI with the question, through the `vlm` resource.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from assets.docmatix.question_forms import STOPWORDS, is_yes_no, language, without_korean_template
from assets.kit.fingerprint import source_fingerprint
from assets.kit.provenance import model_entry
from assets.kit.task import Task

BASELINE = "extractive_baseline"
BASELINE_VERSION = "2"
_WORD = re.compile(r"[\w.,/-]*\w")
_GENERIC = frozenset([
    "value", "table", "document", "page", "fill", "blank", "heading", "section", "called", "give",
    "tell", "could", "me", "you", "about", "sentence",
])


def _terms(text: str) -> list[str]:
    """Content words; Korean words less their particles (and, in a question, its template words)."""
    return [w for w in _WORD.findall(without_korean_template(text)) if w not in STOPWORDS and w not in _GENERIC]


def extractive_answer(question: str, page_text: str) -> str:
    q_terms = set(_terms(question))
    lines = [ln.strip() for ln in page_text.splitlines() if ln.strip()]
    if not lines:
        return ""
    overlap = [len(q_terms & set(_terms(ln))) for ln in lines]
    best = lines[max(range(len(lines)), key=lambda i: (overlap[i], -i))]
    if is_yes_no(question):
        covered = len(q_terms & set(_terms(best))) / max(1, len(q_terms))
        yes, no = ("예", "아니요") if language([question]) == "ko" else ("Yes", "No")
        return yes if covered >= 0.8 else no
    key, sep, value = best.partition(": ")
    if sep and q_terms & set(_terms(key)):
        return value.strip()
    rest = [w for w in best.split() if not set(_terms(w.strip(".,:;"))) & q_terms]
    return " ".join(rest) or best


class VQAAnswer(BaseModel):
    answer: str = Field(description="A short answer, copied from the page where possible.")


def image_data_uri(path: str | Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


class VLMAnswerTask(Task):
    """Item: {"question", "image_path" (local PNG), "page_text"}. Offline it falls back to the
    extractive baseline over the page text."""

    name = "docvqa_answer"
    version = "1"
    response_model = VQAAnswer
    offline_model = BASELINE
    temperature = 0.0

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"role": "system", "content": "You answer questions about a document page. Reply with a "
                                          "short answer, copying words and numbers from the page."},
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": image_data_uri(item["image_path"])}},
                {"type": "text", "text": item["question"]},
            ]},
        ]

    def offline(self, item: dict[str, Any]) -> VQAAnswer:
        return VQAAnswer(answer=extractive_answer(item["question"], item["page_text"]))


def baseline_model_entry() -> dict[str, str]:
    """The extractive baseline's entry in a prediction's `models` (role `answer`): not a Task, so
    its fingerprint is this module's source closure, which changes whenever its answers can."""
    return model_entry("answer", "offline", BASELINE, task_version=f"{BASELINE}@{BASELINE_VERSION}",
                       fingerprint=source_fingerprint([__name__]))
