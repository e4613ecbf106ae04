"""The two Q/A filter profiles: Docmatix's regexes as they were (`compat`) and this project's default.

`compat` rejects a pair when its question or answer matches any of Docmatix's patterns; each rule is
reported on its own, so its cost is visible (`\\w+\\.\\w+` alone removes every decimal amount, URL and
e-mail address). The default profile keeps those rules' intent without their accidents: a bracket,
IPv4 or dotted token counts only when the page does not print it and it is not a decimal, URL or
e-mail. It adds what Docmatix lacked: the answer must be grounded in the page text (fuzzy match), a
question asked twice of one document is kept once, and absurd lengths are rejected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz

from assets.docmatix.qa_prompts import question_form
from assets.kit.screening import Rule, screen

COMPAT_PATTERNS: dict[str, re.Pattern] = {
    "curly_braces": re.compile(r"\{.*?\}", re.S),
    "square_brackets": re.compile(r"\[.*?\]", re.S),
    "angle_brackets": re.compile(r"<.*?>", re.S),
    "ipv4": re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),
    "dotted_word": re.compile(r"\w+\.\w+"),
    "blank_line": re.compile(r"^\s*$|\n\s*\n"),
    "unanswerable": re.compile(r"unanswerable", re.I),
    "leftover_marker": re.compile(r"\b[QA]\d+:"),
}
COMPAT_RULES = tuple(COMPAT_PATTERNS)
# default profile, in the order a row's first reason is chosen
DEFAULT_RULES = (
    "generation_failed", "blank_line", "unanswerable", "leftover_marker", "template_brackets",
    "ipv4", "dotted_token", "question_length", "answer_length", "ungrounded_answer", "duplicate_question",
)
QUESTION_WORDS = (3, 60)
ANSWER_CHARS = (1, 400)
ANSWER_WORDS_MAX = 80
GROUNDED_AT = 0.8

_EXEMPT = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d[\d,]*\.\d+")
_BRACKETS = re.compile(r"\{.*?\}|\[.*?\]|<.*?>", re.S)
_WORD = re.compile(r"\w+")
YES_NO = {"yes", "no"}
STOPWORDS = frozenset([
    "a", "an", "the", "of", "to", "in", "on", "at", "by", "for", "from", "with", "and", "or", "is",
    "are", "was", "were", "be", "been", "this", "that", "these", "those", "what", "which", "who",
    "whom", "whose", "when", "where", "why", "how", "does", "do", "did", "it", "its", "as", "per",
])


def normalise(text: str) -> str:
    """Lower case, whitespace collapsed: the form answers and page text are compared in."""
    return " ".join(text.lower().split())


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def token_recall(text: str, page_tokens: set[str]) -> float:
    """Share of the text's content words (all words when it has none) that the page contains."""
    words = _tokens(text)
    content = [w for w in words if w not in STOPWORDS] or words
    return sum(w in page_tokens for w in content) / len(content) if content else 0.0


@dataclass(frozen=True)
class PageIndex:
    """A document's pages prepared once for grounding many answers."""

    texts: tuple[str, ...]
    tokens: tuple[frozenset[str], ...]

    @classmethod
    def of(cls, pages: Sequence[str]) -> PageIndex:
        return cls(tuple(normalise(p) for p in pages), tuple(frozenset(_tokens(p)) for p in pages))

    def grounding(self, question: str, answer: str) -> tuple[float, int | None]:
        """(score in 0-1, best page): the better of fuzzy substring match and content-word recall.
        A yes/no answer is judged by its question, which must be about this document."""
        probe = question if normalise(answer).strip(".!") in YES_NO else answer
        text = normalise(probe)
        best, page = 0.0, None
        for i, (page_text, tokens) in enumerate(zip(self.texts, self.tokens, strict=True)):
            fuzzy = fuzz.partial_ratio(text, page_text) / 100 if text and page_text else 0.0
            score = max(fuzzy, token_recall(probe, tokens))
            if score > best:
                best, page = score, i
        return round(best, 4), page


def compat_failures(question: str, answer: str) -> list[str]:
    """Docmatix's rules that the pair fails, in COMPAT_RULES order."""
    return [name for name, pattern in COMPAT_PATTERNS.items()
            if pattern.search(question) or pattern.search(answer)]


def _unprinted(pattern: re.Pattern, text: str, page: str) -> bool:
    """Does `text` hold a match of `pattern` that is not a decimal/URL/e-mail and not on the page?"""
    masked = _EXEMPT.sub(" ", text)
    return any(normalise(m.group(0)) not in page for m in pattern.finditer(masked))


@dataclass(frozen=True)
class Verdict:
    failures: tuple[str, ...]  # default-profile rules failed, in DEFAULT_RULES order
    compat: tuple[str, ...]  # compat rules failed
    grounding: float | None
    page: int | None


def judge(question: str | None, answer: str | None, pages: PageIndex, seen: set[str]) -> Verdict:
    """Both profiles' verdicts on one pair; `seen` holds the document's questions so far (updated)."""
    if question is None or answer is None:
        return Verdict(("generation_failed",), ("generation_failed",), None, None)
    compat = tuple(compat_failures(question, answer))
    page_all = " ".join(pages.texts)
    both = f"{question}\n{answer}"
    fails = {
        "blank_line": "blank_line" in compat,
        "unanswerable": "unanswerable" in compat,
        "leftover_marker": "leftover_marker" in compat,
        "template_brackets": _unprinted(_BRACKETS, both, page_all),
        "ipv4": _unprinted(COMPAT_PATTERNS["ipv4"], both, page_all),
        "dotted_token": _unprinted(COMPAT_PATTERNS["dotted_word"], both, page_all),
        "question_length": not QUESTION_WORDS[0] <= len(question.split()) <= QUESTION_WORDS[1],
        "answer_length": not (ANSWER_CHARS[0] <= len(answer.strip()) <= ANSWER_CHARS[1]
                              and len(answer.split()) <= ANSWER_WORDS_MAX),
    }
    grounding, page = pages.grounding(question, answer)
    fails["ungrounded_answer"] = grounding < GROUNDED_AT
    key = " ".join(_tokens(question))
    fails["duplicate_question"] = key in seen
    seen.add(key)
    return Verdict(tuple(r for r in DEFAULT_RULES if fails.get(r)), compat, grounding, page)


def verdicts(raw: pl.DataFrame, documents: pl.DataFrame) -> pl.DataFrame:
    """Both profiles' verdicts, the grounding score and the page each pair was found on."""
    pages = {r["record_id"]: PageIndex.of(["\n".join(p["lines"]["text"]) for p in
                                           json.loads(r["layout"])["pages"]])
             for r in documents.filter(pl.col("layout").is_not_null()).iter_rows(named=True)}
    seen: dict[str, set[str]] = {}
    rows = []
    for r in raw.iter_rows(named=True):
        doc = r["document_id"]
        v = judge(r["question"], r["answer"], pages.get(doc, PageIndex.of([])), seen.setdefault(doc, set()))
        rows.append({"failures": list(v.failures), "compat_reasons": list(v.compat),
                     "grounding": v.grounding, "page": v.page})
    schema = {"failures": pl.List(pl.String), "compat_reasons": pl.List(pl.String),
              "grounding": pl.Float64, "page": pl.Int32}
    out = raw.hstack(pl.DataFrame(rows, schema=schema))
    out = out.with_columns(
        (pl.col("compat_reasons").list.len() == 0).alias("compat_kept"),
        pl.col("question").map_elements(question_form, return_dtype=pl.String).alias("question_form"),
    )
    details = {
        "ungrounded_answer": (pl.col("grounding"), f"grounding >= {GROUNDED_AT}"),
        "question_length": (pl.col("question").str.split(" ").list.len(), "3-60 words"),
        "answer_length": (pl.col("answer").str.len_chars(), "1-400 chars, <= 80 words"),
    }
    rules = [Rule(name, ~pl.col("failures").list.contains(name), *details.get(name, (None, None)))
             for name in DEFAULT_RULES]
    return screen(out, rules).drop("failures")


def removal_table(df: pl.DataFrame) -> pl.DataFrame:
    """Pairs each rule removes on its own and each profile removes, as counts and rates."""
    n = df.height or 1
    rows = []
    for rule in dict.fromkeys(("generation_failed", *COMPAT_RULES, *DEFAULT_RULES)):
        compat = int(df["compat_reasons"].list.contains(rule).sum()) if rule in (
            "generation_failed", *COMPAT_RULES) else None
        default = int(df["reasons"].list.contains(rule).sum()) if rule in DEFAULT_RULES else None
        rows.append({"rule": rule, "compat": compat, "default": default})
    rows.append({"rule": "ANY (profile)", "compat": int((~df["compat_kept"]).sum()),
                 "default": int((~df["kept"]).sum())})
    table = pl.DataFrame(rows, schema={"rule": pl.String, "compat": pl.Int64, "default": pl.Int64})
    return table.with_columns(
        (pl.col("compat") / n).round(3).alias("compat_rate"),
        (pl.col("default") / n).round(3).alias("default_rate"),
    )
