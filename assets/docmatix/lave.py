"""LAVE (Mañas et al. 2024, mair-lab/lave): an LLM rates a candidate answer against reference answers.

The prompt is LAVE's: its task definition (the 1-3 scale, "Give the rationale before rating", and
the rule that a binary question must be answered 'yes' or 'no' or be rated 1), then demos written
as LAVE writes them ("Question: '...'", "Reference answers: 'a', 'a', 'b'", "Candidate answer:
'...'", "Output: <rationale> So rating=N"), then the item with an empty "Output:". References are
shown as LAVE shows them: rare ones (count / most common count <= 0.25) dropped, the rest sorted
with their duplicates kept, so "5 yes, 5 no" and "7 yes, 3 no" read differently to the judge. A
question is binary when its most common reference is yes or no, and then gets the binary demos.
The rating is the last "rating=N" in the reply; an unparseable reply counts as 2; the score is
(N - 1) / 2. The demos (`data/lave_demos.json`) are about documents, written for this project in
LAVE's format; LAVE's own demos are about photographs.

Without a judge model the Task answers with `proxy_rating`, a rule-based stand-in labelled
`lave_proxy` wherever it is reported, never LAVE. It follows LAVE's rubric on what rules can see:
references split between answers give 2, a binary question not answered yes/no gives 1, a
synonym or a broader or narrower term of a common reference counts as that reference (word
containment, compound heads such as ball/basketball, shared stems such as skating/skateboarding,
and sentence-embedding similarity), a vague or partial answer gives 2, an answer that only repeats
the question's words gives 1. Its thresholds were calibrated on `data/lave_rated_examples.jsonl`
(rated examples with rationales, written for this project).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from assets.docmatix.metrics import nls, normalise_answer
from assets.docmatix.question_forms import STOPWORDS
from assets.kit.task import Task

RARE_AT = 0.25
UNPARSEABLE_RATING = 2
YES_NO = {"yes", "no"}
NUM_SHOTS = 8
DEMOS_PATH = Path(__file__).with_name("data") / "lave_demos.json"

TASK_DEFINITION = (
    "You are given a question, a set of gold-standard reference answers written by experts, and a "
    "candidate answer. Please rate the accuracy of the candidate answer for the question considering "
    "the reference answers. Use a scale of 1-3, with 1 indicating an incorrect or irrelevant answer, "
    "2 indicating an ambiguous or incomplete answer, and 3 indicating a correct answer. Give the "
    "rationale before rating.\n\nTHIS IS VERY IMPORTANT: A binary question should only be answered "
    "with 'yes' or 'no', otherwise the candidate answer is incorrect (rating=1)."
)
EXAMPLE = "Question: '{question}'\nReference answers: {references}\nCandidate answer: '{prediction}'\nOutput: {output}"

_RATING = re.compile(r"rating\s*[=:]\s*([123])\b", re.I)


@cache
def demos() -> dict[str, list[dict[str, Any]]]:
    """{"demos": [...], "binary_demos": [...]}, each demo {question, references, prediction,
    output, explanation} as in LAVE's demo files."""
    data = json.loads(DEMOS_PATH.read_text(encoding="utf-8"))
    return {"demos": data["demos"], "binary_demos": data["binary_demos"]}


def keep_common_references(references: Sequence[str]) -> list[str]:
    """LAVE's reference filter: drop the references whose count / the most common one's count is
    <= RARE_AT; the rest are kept with their duplicates (counted after lower-casing and collapsing
    whitespace, so "Paris" and "paris " are one answer given twice)."""
    counts = Counter(normalise_answer(r) for r in references)
    if not counts:
        return []
    top = max(counts.values())
    return [r for r in references if counts[normalise_answer(r)] / top > RARE_AT]


def format_references(references: Sequence[str]) -> str:
    """LAVE's reference list: sorted, duplicates kept, each in single quotes."""
    return ", ".join(f"'{r}'" for r in sorted(references))


def _yes_no(text: str) -> str:
    return normalise_answer(text).rstrip(".")


def is_binary(references: Sequence[str]) -> bool:
    """LAVE's test: the most common reference is yes or no."""
    return bool(references) and _yes_no(Counter(references).most_common(1)[0][0]) in YES_NO


def parse_rating(text: str) -> int | None:
    """The last "rating=N" in the judge's text, or None when there is none."""
    found = _RATING.findall(text or "")
    return int(found[-1]) if found else None


def rating_or_default(text: str) -> int:
    rating = parse_rating(text)
    return UNPARSEABLE_RATING if rating is None else rating


def score(rating: int) -> float:
    return (rating - 1) / 2


def build_prompt(question: str, references: Sequence[str], candidate: str, num_shots: int = NUM_SHOTS) -> str:
    """LAVE's prompt: task definition, demos, the item; `references` are filtered here, as LAVE
    filters the item's (never the demos') references."""
    shots = demos()["binary_demos" if is_binary(references) else "demos"][:num_shots]
    parts = [TASK_DEFINITION]
    parts += [EXAMPLE.format(question=d["question"], references=format_references(d["references"]),
                             prediction=d["prediction"], output=f"{d['explanation']} So rating={d['output']}")
              for d in shots]
    parts.append(EXAMPLE.format(question=question, references=format_references(keep_common_references(references)),
                                prediction=candidate, output=""))
    return "\n\n".join(parts).strip()


def judge_prompt(question: str, references: Sequence[str], candidate: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": build_prompt(question, references, candidate)}]


class JudgeReply(BaseModel):
    reply: str = Field(description='A short rationale ending with "So rating=N", N in 1, 2, 3.')


# ---- the offline proxy --------------------------------------------------------------------------

SPLIT_AT = 0.4  # the candidate's share of references from which a disagreement is a split, not a miss
SYNONYM_AT = 0.85  # embedding cosine at which a candidate means what a reference means
RELATED_AT = 0.75  # embedding cosine at which a candidate is related but not the same (rating 2)
VERBOSE_EXTRA_WORDS = 6  # a reference inside a longer answer still counts with this many extra words
MIN_STEM = 4
VAGUE = frozenset(["few", "several", "many", "some", "lots", "various", "multiple", "about", "around",
                   "approximately", "roughly", "maybe", "might", "possibly", "probably", "something"])
_WORD = re.compile(r"[\w.,/%$£€-]*\w")
_SUFFIX = re.compile(r"(?:ing|ers|er|ed|es|s)$")


def _words(text: str) -> list[str]:
    return _WORD.findall(normalise_answer(text))


def _stem(word: str) -> str:
    return _SUFFIX.sub("", word) if len(word) > MIN_STEM + 1 else word


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _same_term(a: str, b: str) -> bool:
    """Two words naming the same thing or one a kind of the other: equal, a compound's head
    (ball/basketball, bike/motorbike), or one stem extending the other (skating/skateboarding).
    Numbers must be equal."""
    if a == b:
        return True
    if _has_digit(a) or _has_digit(b):
        return _has_digit(a) and _has_digit(b) and _numbers(a) == _numbers(b)
    if min(len(a), len(b)) < 3:
        return False
    sa, sb = _stem(a), _stem(b)
    short, long_ = sorted((sa, sb), key=len)
    return (len(short) >= MIN_STEM and long_.startswith(short)) or a.endswith(b) or b.endswith(a)


def _numbers(text: str) -> set[str]:
    return {re.sub(r"[,\s]", "", n).rstrip("0").rstrip(".") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def match_kind(candidate: str, reference: str, question: str, similarity: float) -> int:
    """How the candidate stands to one reference: 3 the same answer (a synonym, a broader or
    narrower term, the reference in a few more words), 2 part of it or related, 1 different."""
    c, r = normalise_answer(candidate).strip(".!"), normalise_answer(reference).strip(".!")
    if c == r or (len(max(c, r, key=len)) >= 4 and nls(c, r) >= 0.8 and _numbers(c) == _numbers(r)):
        return 3
    cw, rw = _words(c), _words(r)
    if _numbers(r) and _numbers(c) and not (_numbers(r) <= _numbers(c) or _numbers(c) <= _numbers(r)):
        return 1  # a different number is a different answer however close the words
    asked = {_stem(w) for w in _words(question)}
    c_content = [w for w in cw if w not in STOPWORDS]
    r_content = [w for w in rw if w not in STOPWORDS]
    if not c_content or not r_content:
        return 1
    covers_r = all(any(_same_term(x, y) for x in cw) for y in r_content)
    covered_c = all(any(_same_term(x, y) for y in rw) for x in c_content)
    if covers_r:  # every reference word is in the candidate: the reference in other or more words
        return 3 if len(cw) <= len(rw) + VERBOSE_EXTRA_WORDS else 2
    if covered_c:  # the candidate is part of the reference
        missing = [y for y in r_content if not any(_same_term(x, y) for x in cw)]
        if all(_stem(m) in asked for m in missing):
            return 3  # what is left out is what the question already says
        if any(_has_digit(m) for m in missing) or _is_name(reference):
            return 2  # a date without its day, a name without its first name
        if _same_term(c_content[-1], r_content[-1]) or re.search(r",| and ", r):
            return 3  # the head of the reference ("bike" for "mountain bike") or one item of its list
        return 2
    if _numbers(c) or _numbers(r):
        return 1
    if similarity >= SYNONYM_AT:
        return 3
    return 2 if similarity >= RELATED_AT else 1


def proxy_rating(question: str, candidate: str, references: Sequence[str],
                 similarity: Sequence[float] | None = None) -> tuple[int, str]:
    """The rule-based stand-in for the judge: (rating, rationale in LAVE's shape). `similarity`:
    the embedding cosine of the candidate with each reference (zeros without an encoder)."""
    similarity = list(similarity) if similarity is not None else [0.0] * len(references)
    kept = [(r, s) for r, s in zip(references, similarity, strict=True)
            if r in set(keep_common_references(references))]
    if not kept:
        return 1, "The candidate answer is incorrect because there is no reference answer. So rating=1"
    total = len(kept)
    if is_binary([r for r, _ in kept]):
        said = next(iter(_words(candidate)), "")
        if said not in YES_NO:
            return 1, (f"The candidate answer '{candidate}' is incorrect because it does not address the binary "
                       "question, it should be either 'yes' or 'no'. So rating=1")
        agree = sum(_yes_no(r) == said for r, _ in kept)
        return _by_share(agree, total, said)
    if _only_restates(question, candidate):
        return 1, ("The candidate answer is incorrect because it only repeats the question's words and does "
                   "not answer it. So rating=1")
    if _vague(candidate, [r for r, _ in kept]):
        return 2, "The candidate answer is ambiguous because it is less specific than the reference answers. So rating=2"
    kinds = [match_kind(candidate, r, question, s) for r, s in kept]
    same = sum(k == 3 for k in kinds)
    if same and max(Counter(normalise_answer(r) for r, _ in kept).values()) == 1:
        return 3, ("The candidate answer is correct because it says what a reference answer says; the references "
                   "are free-form, none given twice. So rating=3")
    if same:
        return _by_share(same, total, candidate)
    if any(k == 2 for k in kinds):
        return 2, ("The candidate answer is ambiguous or incomplete because it only partly matches the reference "
                   "answers. So rating=2")
    return 1, "The candidate answer is incorrect because it does not match the reference answers. So rating=1"


def _by_share(agree: int, total: int, said: str) -> tuple[int, str]:
    """LAVE's rule on split references: the majority view is correct, a sizeable minority view
    (SPLIT_AT or more) ambiguous, a small minority view incorrect."""
    share = agree / total
    counts = f"{agree} of {total} reference answers"
    if share > 1 - SPLIT_AT:
        return 3, f"The candidate answer '{said}' is correct because {counts} agree with it. So rating=3"
    if share >= SPLIT_AT:
        return 2, (f"The candidate answer '{said}' is ambiguous because the reference answers are split ({counts} "
                   "agree with it). So rating=2")
    return 1, f"The candidate answer '{said}' is incorrect because only {counts} agree with it. So rating=1"


def _is_name(text: str) -> bool:
    """Every word capitalised: a proper name, of which a part is incomplete, not a broader term."""
    words = re.findall(r"[^\W\d_]+", text)
    return len(words) >= 2 and all(w[0].isupper() for w in words)


def _only_restates(question: str, candidate: str) -> bool:
    """The candidate's content words are all the question's (bare "fruit" for "what type of fruit"),
    unless the question offers a choice ("a baby or adult elephant?")."""
    if re.search(r"\bor\b", question, re.I):
        return False
    words = [w for w in _words(candidate) if w not in STOPWORDS]
    asked = {_stem(w) for w in _words(question)}
    return bool(words) and all(_stem(w) in asked for w in words)


def _vague(candidate: str, references: Sequence[str]) -> bool:
    """A vague quantity or hedge where the references are specific ("a few" for "three")."""
    words = set(_words(candidate))
    return bool(words & VAGUE) and not _numbers(candidate) and not any(words & VAGUE & set(_words(r)) for r in references)


class LaveJudgeTask(Task):
    """Item: {"question", "references" (all, with duplicates; LAVE's filter runs in the prompt), "candidate"}."""

    name = "lave_judge"
    version = "2"
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
        return [JudgeReply(reply=why) for _, why in proxy_ratings(items, self.encode)]


def proxy_ratings(items: Sequence[dict[str, Any]], encode: Callable[[list[str]], np.ndarray]) -> list[tuple[int, str]]:
    """`proxy_rating` of many items, each text encoded once."""
    texts = sorted({t for it in items for t in (it["candidate"], *it["references"])})
    vectors = dict(zip(texts, encode(texts), strict=True)) if texts else {}
    return [proxy_rating(it["question"], it["candidate"], it["references"],
                         [float(vectors[it["candidate"]] @ vectors[r]) for r in it["references"]])
            for it in items]
