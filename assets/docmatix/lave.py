"""LAVE (Mañas et al. 2024): an LLM rates a candidate answer against reference answers.

The judge sees a rubric, in-context demos (eight by default, a separate set for yes/no questions),
then the question, the references and the candidate; it writes a rationale and ends with
"So rating=N", N in 1 (incorrect or irrelevant), 2 (ambiguous or incomplete), 3 (correct). Rare
references (count / max count <= 0.25) are dropped first; an unparseable rating counts as 2; the
score is (N - 1) / 2. The demos below were written for this project, about documents.

Without a judge model the Task answers with a rubric proxy: normalised match, ANLS and sentence-
embedding similarity mapped onto the same 1-3 scale and the same "So rating=N" sentence. It is
labelled `lave_proxy` wherever it is reported, never LAVE.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from assets.docmatix.metrics import anls_item, normalise_answer
from assets.kit.task import Task

RARE_AT = 0.25
UNPARSEABLE_RATING = 2
YES_NO = {"yes", "no"}
VERBOSE_EXTRA_WORDS = 4

RUBRIC = (
    "You are judging answers to questions about documents (invoices, forms, reports, policies). "
    "Given a question, a list of reference answers written by people who read the document, and a "
    "candidate answer, rate the candidate: 1 means incorrect or irrelevant, 2 means ambiguous or "
    "incomplete, 3 means correct. A candidate is correct when it gives the same information as a "
    "reference, even in other words or with extra words that do not change its meaning. First give "
    "a short rationale, then end with \"So rating=N\"."
)

# (question, references, candidate, rationale, rating)
DEMOS: tuple[tuple[str, tuple[str, ...], str, str, int], ...] = (
    ("What is the invoice number?", ("INV-2024-0412",), "INV-2024-0412",
     "The candidate is identical to the reference.", 3),
    ("What is the total due?", ("1,250.00",), "The total due is 1,250.00 GBP",
     "The candidate states the same amount as the reference; the extra words do not change it.", 3),
    ("Who is the invoice addressed to?", ("Riverside Primary School",), "Riverside School",
     "The candidate drops part of the name, so it could refer to a different school.", 2),
    ("When is the payment due?", ("9 February 2024",), "February 2024",
     "The candidate gives the right month but not the day the references give.", 2),
    ("In the table, what is the Q3 value for North?", ("978",), "1,854",
     "The candidate is a different number from the reference.", 1),
    ("What is the heading of section 2?", ("Equipment",), "Security",
     "The candidate names another section, not the one asked about.", 1),
    ("What is this document about?", ("A sales report of Tern Valley Cycles for 2022",),
     "Sales figures of a bicycle company for 2022",
     "The candidate describes the same report in other words; the company name is left out but the "
     "content and year agree.", 3),
    ("How many hours per week must employees work?", ("37.5 hours",), "about 40",
     "The candidate's number does not match the reference.", 1),
)
YES_NO_DEMOS: tuple[tuple[str, tuple[str, ...], str, str, int], ...] = (
    ("Is the subtotal 2,527.70?", ("Yes",), "yes", "The candidate agrees with the reference.", 3),
    ("Is the membership type Family?", ("No",), "Yes, it is Family.",
     "The candidate says yes where the references say no.", 1),
    ("Does the form ask for a phone number?", ("Yes",), "The form has a phone field.",
     "The candidate implies yes without saying it, in agreement with the reference.", 3),
    ("Is the due date 9 January 2024?", ("No",), "It might be.",
     "The candidate neither confirms nor denies, so it is ambiguous.", 2),
)

_RATING = re.compile(r"rating\s*[=:]\s*([123])\b", re.I)


def keep_common_references(references: Sequence[str]) -> list[str]:
    """References whose count / the most common one's count exceeds RARE_AT (one of each kept)."""
    counts = Counter(normalise_answer(r) for r in references)
    if not counts:
        return []
    top = max(counts.values())
    kept, seen = [], set()
    for r in references:
        n = normalise_answer(r)
        if counts[n] / top > RARE_AT and n not in seen:
            seen.add(n)
            kept.append(r)
    return kept


def is_yes_no(references: Sequence[str]) -> bool:
    return bool(references) and all(normalise_answer(r).strip(".!") in YES_NO for r in references)


def parse_rating(text: str) -> int | None:
    """The last "rating=N" in the judge's text, or None when there is none."""
    found = _RATING.findall(text or "")
    return int(found[-1]) if found else None


def rating_or_default(text: str) -> int:
    rating = parse_rating(text)
    return UNPARSEABLE_RATING if rating is None else rating


def score(rating: int) -> float:
    return (rating - 1) / 2


def _block(question: str, references: Sequence[str], candidate: str) -> str:
    refs = ", ".join(f'"{r}"' for r in references)
    return f"Question: {question}\nReference answers: {refs}\nCandidate answer: {candidate}\nOutput:"


def judge_prompt(question: str, references: Sequence[str], candidate: str) -> list[dict[str, str]]:
    demos = YES_NO_DEMOS if is_yes_no(references) else DEMOS
    shots = "\n\n".join(f"{_block(q, r, c)} {why} So rating={n}" for q, r, c, why, n in demos)
    return [
        {"role": "system", "content": RUBRIC},
        {"role": "user", "content": f"{shots}\n\n{_block(question, references, candidate)}"},
    ]


class JudgeReply(BaseModel):
    reply: str = Field(description='A short rationale ending with "So rating=N", N in 1, 2, 3.')


def proxy_rating(candidate: str, references: Sequence[str], similarity: float) -> tuple[int, str]:
    """The rubric proxy: (rating, rationale). `similarity` is the best embedding cosine.

    3: the same answer (normalised match, ANLS >= 0.8, or a reference with at most four words
       around it); for yes/no references, the same polarity first.
    2: a reference buried in a longer answer, ANLS >= 0.5, cosine >= 0.75, or part of a reference;
       for yes/no, neither yes nor no.
    1: anything else.
    """
    cand = normalise_answer(candidate).strip(".!")
    refs = [normalise_answer(r).strip(".!") for r in references]
    a = anls_item(candidate, references)
    facts = f"normalised match={cand in refs}, ANLS={a:.2f}, similarity={similarity:.2f}"
    if is_yes_no(references):
        said = next(iter(re.findall(r"\w+", cand)), "")
        rating = 3 if said in refs else 1 if said in YES_NO else 2
    elif cand in refs or a >= 0.8:
        rating = 3
    elif contained := [r for r in refs if r and re.search(rf"\b{re.escape(r)}\b", cand)]:
        # the reference with a few words around it is correct; buried in a long answer, ambiguous
        short = any(len(cand.split()) <= len(r.split()) + VERBOSE_EXTRA_WORDS for r in contained)
        rating, facts = (3 if short else 2), facts + ", contains a reference"
    elif a >= 0.5 or similarity >= 0.75 or any(cand and cand in r for r in refs):
        rating = 2
    else:
        rating = 1
    return rating, f"Rubric proxy, no judge model: {facts}. So rating={rating}"


class LaveJudgeTask(Task):
    """Item: {"question", "references" (common ones only), "candidate"}."""

    name = "lave_judge"
    version = "1"
    response_model = JudgeReply
    offline_model = "rubric-proxy"
    temperature = 0.0

    def __init__(self, encode: Callable[[list[str]], np.ndarray] | None = None, embedding_model: str = ""):
        self.encode = encode
        self.embedding_model = embedding_model

    def offline_model_used(self) -> str:
        """The proxy names the embedding model it really runs (the resource's, chosen by env), so the
        model label, the cache key and the provenance all say which encoder judged."""
        return f"{self.offline_model}({self.embedding_model})" if self.embedding_model else self.offline_model

    def config(self) -> dict[str, Any]:
        return {"embedding_model": self.embedding_model}

    def messages(self, item: dict[str, Any]) -> list[dict[str, str]]:
        return judge_prompt(item["question"], item["references"], item["candidate"])

    def offline(self, item: dict[str, Any]) -> JudgeReply:
        return self.offline_batch([item])[0]

    def offline_batch(self, items: Sequence[dict[str, Any]]) -> list[JudgeReply]:
        if self.encode is None:
            raise ValueError("the rubric proxy needs an embedding model (encode)")
        texts = sorted({t for it in items for t in (it["candidate"], *it["references"])})
        vectors = dict(zip(texts, self.encode(texts), strict=True))
        out = []
        for it in items:
            sims = [float(vectors[it["candidate"]] @ vectors[r]) for r in it["references"]]
            _, why = proxy_rating(it["candidate"], it["references"], max(sims, default=0.0))
            out.append(JudgeReply(reply=why))
        return out
