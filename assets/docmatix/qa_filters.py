"""The two Q/A filter profiles: Docmatix's regexes as they were (`compat`) and this project's default.

`compat` rejects a pair when its question or answer matches any of Docmatix's patterns; each rule is
reported on its own, so its cost is visible (`\\w+\\.\\w+` alone removes every decimal amount, URL and
e-mail address). The default profile keeps those rules' intent without their accidents: a bracket,
IPv4 or dotted token counts only when the page does not print it and it is not a decimal, URL or
e-mail. It adds what Docmatix lacked: the answer must be grounded in the page text (fuzzy match), the
pair must be answerable from the page (`answerability`: the answer printed there, the question's
words around it and nowhere better, template slots that are real keys), a question asked twice of
one document is kept once, and absurd lengths are rejected.

The default profile is a screen in two steps: `measure` stores what each rule reads (word and
character counts, the grounding score, the unprinted token found, the earlier copy of a repeated
question), then `QAFilterRules` judges those stored columns, so the audit re-evaluates a stored row
against the same rules and its parameters are asset config.
"""

from __future__ import annotations

import json
import re
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from pydantic import Field
from rapidfuzz import fuzz

from assets.docmatix.answerability import PRINTED, PageLayout, assess, without_korean_template
from assets.docmatix.question_forms import STOPWORDS, YES_NO_ANSWERS, question_form
from assets.kit.provenance import declare
from assets.kit.screening import Rule, RuleSet, screen

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

_EXEMPT = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d[\d,]*\.\d+")
_BRACKETS = re.compile(r"\{.*?\}|\[.*?\]|<.*?>", re.S)
_WORD = re.compile(r"[\uac00-\ud7a3]|[^\W\uac00-\ud7a3]+")  # a Hangul syllable is a word: particles glue on
YES_NO = YES_NO_ANSWERS


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
    """A document's pages prepared once for grounding many answers: their text, their words and
    their layout (lines with boxes when the page is given in PDFA's layout, else text lines)."""

    texts: tuple[str, ...]
    tokens: tuple[frozenset[str], ...]
    layouts: tuple[PageLayout, ...]

    @classmethod
    def of(cls, pages: Sequence[str | dict]) -> PageIndex:
        layouts = tuple(PageLayout.of_page(p) if isinstance(p, dict) else PageLayout(p.splitlines()) for p in pages)
        texts = ["\n".join(lay.lines) for lay in layouts]
        return cls(tuple(normalise(t) for t in texts), tuple(frozenset(_tokens(t)) for t in texts), layouts)

    def grounding(self, question: str, answer: str) -> tuple[float, int | None]:
        """(score in 0-1, best page): the better of fuzzy substring match and content-word recall.
        A yes/no answer is judged by its question (less its Korean template words), which must be
        about this document."""
        probe = without_korean_template(question) if normalise(answer).strip(".!") in YES_NO else answer
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


def _unprinted(pattern: re.Pattern, text: str, page: str) -> str | None:
    """The first match of `pattern` in `text` that is not a decimal/URL/e-mail and not on the page."""
    masked = _EXEMPT.sub(" ", text)
    return next((m.group(0) for m in pattern.finditer(masked) if normalise(m.group(0)) not in page), None)


class QAFilterRules(RuleSet):
    """The default profile's parameters; rules in the order a row's first reason is chosen."""

    min_question_words: int = Field(3, ge=1, description="Shorter questions ask nothing a page can answer.")
    max_question_words: int = Field(60, ge=1, description="Longer questions are a paragraph, not a question.")
    min_answer_chars: int = Field(1, ge=1, description="An answer must say something.")
    max_answer_chars: int = Field(400, ge=1, description="DocVQA-style answers are short spans.")
    max_answer_words: int = Field(80, ge=1, description="An answer longer than this is a summary, not a span.")
    grounded_at: float = Field(0.8, ge=0.0, le=1.0, description="Fuzzy match / content-word recall of the "
                                                                "answer on its best page.")
    answer_found_at: float = Field(PRINTED, ge=0.0, le=1.0, description="The answer printed on the page as a run of "
                                   "tokens (numbers and short words exact, longer words OCR-tolerant), or for "
                                   "yes/no the question's statement located there.")
    context_found_at: float = Field(0.5, ge=0.0, le=1.0, description="Share of the question's content words "
                                    "printed around the answer (its line, row, column header, paragraph).")
    min_context_margin: float = Field(0.0, ge=-1.0, le=1.0, description="Support at the answer minus the best "
                                      "support at a place without it: below this the question points elsewhere.")

    def rules(self) -> list[Rule]:
        return [
            Rule(reason="generation_failed", column="error", op="is_null"),
            Rule(reason="blank_line", column="has_blank_line", op="is_false"),
            Rule(reason="unanswerable", column="says_unanswerable", op="is_false"),
            Rule(reason="leftover_marker", column="has_leftover_marker", op="is_false"),
            Rule(reason="template_brackets", column="unprinted_brackets", op="is_null"),
            Rule(reason="ipv4", column="unprinted_ipv4", op="is_null"),
            Rule(reason="dotted_token", column="unprinted_dotted", op="is_null"),
            Rule(reason="empty_slot", column="empty_slot", op="is_null"),
            Rule(reason="slot_not_a_key", column="slot_not_a_key", op="is_null"),
            Rule(reason="row_label_not_a_row", column="row_label_problem", op="is_null"),
            Rule(reason="answer_not_text", column="answer_not_text", op="is_null"),
            Rule(reason="answer_echoes_question", column="answer_echoes_question", op="is_false"),
            Rule(reason="question_too_short", column="question_words", op="ge", threshold=self.min_question_words),
            Rule(reason="question_too_long", column="question_words", op="le", threshold=self.max_question_words),
            Rule(reason="answer_too_short", column="answer_chars", op="ge", threshold=self.min_answer_chars),
            Rule(reason="answer_too_long", column="answer_chars", op="le", threshold=self.max_answer_chars),
            Rule(reason="answer_too_wordy", column="answer_words", op="le", threshold=self.max_answer_words),
            Rule(reason="ungrounded_answer", column="grounding", op="ge", threshold=self.grounded_at),
            Rule(reason="answer_not_on_page", column="answer_match", op="ge", threshold=self.answer_found_at),
            Rule(reason="question_does_not_locate_answer", column="context_support", op="ge",
                 threshold=self.context_found_at),
            Rule(reason="question_points_elsewhere", column="context_margin", op="ge",
                 threshold=self.min_context_margin),
            Rule(reason="duplicate_question", column="repeat_of", op="is_null"),
        ]


# the rules that ask whether the page answers the pair (not how it is worded or how long it is)
ANSWERABILITY_REASONS = ("empty_slot", "slot_not_a_key", "row_label_not_a_row", "answer_not_text",
                         "answer_echoes_question", "answer_not_on_page", "question_does_not_locate_answer",
                         "question_points_elsewhere")


def answerability_failures(question: str, answer: str, pages: PageIndex,
                           rules: QAFilterRules | None = None) -> tuple[str, ...]:
    """The answerability rules a pair fails on its document's pages, in rule order."""
    row = measure(question, answer, pages, {})
    return tuple(r.reason for r in (rules or QAFilterRules()).rules()
                 if r.reason in ANSWERABILITY_REASONS and not r.passes(row[r.column]))


def default_reasons(rules: QAFilterRules | None = None) -> tuple[str, ...]:
    """The default profile's reasons, in rule order."""
    return tuple(r.reason for r in (rules or QAFilterRules()).rules())


MEASURES = {
    "has_blank_line": pl.Boolean, "says_unanswerable": pl.Boolean, "has_leftover_marker": pl.Boolean,
    "unprinted_brackets": pl.String, "unprinted_ipv4": pl.String, "unprinted_dotted": pl.String,
    "question_words": pl.Int32, "answer_chars": pl.Int32, "answer_words": pl.Int32, "grounding": pl.Float64,
    "page": pl.Int32, "repeat_of": pl.String,
    "answer_match": pl.Float64, "context_support": pl.Float64, "context_margin": pl.Float64,
    "empty_slot": pl.String, "slot_not_a_key": pl.String, "row_label_problem": pl.String,
    "answer_not_text": pl.String, "answer_echoes_question": pl.Boolean,
}


def measure(question: str | None, answer: str | None, pages: PageIndex,
            seen: MutableMapping[str, str], pair_id: str | None = None) -> dict[str, Any]:
    """What the default profile's rules read, for one pair. `seen` maps the document's questions so
    far (normalised) to the pair that asked them first, and is updated. A pair that was never
    generated has nothing to measure: every measurement is null."""
    if question is None or answer is None:
        return dict.fromkeys(MEASURES)
    compat = compat_failures(question, answer)
    page_all = " ".join(pages.texts)
    both = f"{question}\n{answer}"
    grounding, page = pages.grounding(question, answer)
    key = " ".join(_tokens(question))
    repeat_of = seen.get(key)
    if repeat_of is None:
        seen[key] = pair_id if pair_id is not None else key
    answerable = assess(question, answer, pages.layouts)
    return {
        "has_blank_line": "blank_line" in compat,
        "says_unanswerable": "unanswerable" in compat,
        "has_leftover_marker": "leftover_marker" in compat,
        "unprinted_brackets": _unprinted(_BRACKETS, both, page_all),
        "unprinted_ipv4": _unprinted(COMPAT_PATTERNS["ipv4"], both, page_all),
        "unprinted_dotted": _unprinted(COMPAT_PATTERNS["dotted_word"], both, page_all),
        "question_words": len(question.split()),
        "answer_chars": len(answer.strip()),
        "answer_words": len(answer.split()),
        "grounding": grounding,
        "page": answerable.page if answerable.page is not None else page,
        "repeat_of": repeat_of,
        "answer_match": answerable.answer_match,
        "context_support": answerable.context_support,
        "context_margin": answerable.context_margin,
        "empty_slot": answerable.empty_slot,
        "slot_not_a_key": answerable.slot_not_a_key,
        "row_label_problem": answerable.row_label_problem,
        "answer_not_text": answerable.answer_not_text,
        "answer_echoes_question": answerable.answer_echoes_question,
    }


@dataclass(frozen=True)
class Verdict:
    failures: tuple[str, ...]  # default-profile reasons failed, in rule order, each once
    compat: tuple[str, ...]  # compat rules failed
    grounding: float | None
    page: int | None


def judge(question: str | None, answer: str | None, pages: PageIndex, seen: MutableMapping[str, str] | set[str],
          rules: QAFilterRules | None = None) -> Verdict:
    """Both profiles' verdicts on one pair (the same rules `verdicts` screens with), for code that
    judges pairs one at a time; `seen` holds the document's questions so far and is updated."""
    if question is None or answer is None:
        return Verdict(("generation_failed",), ("generation_failed",), None, None)
    if isinstance(seen, set):  # the questions alone: remember each as its own first copy
        asked = {k: k for k in seen}
        row = measure(question, answer, pages, asked)
        seen.update(asked)
    else:
        row = measure(question, answer, pages, seen)
    row["error"] = None
    failed = [r.reason for r in (rules or QAFilterRules()).rules() if not r.passes(row[r.column])]
    return Verdict(tuple(dict.fromkeys(failed)), tuple(compat_failures(question, answer)), row["grounding"], row["page"])


def verdicts(raw: pl.DataFrame, documents: pl.DataFrame, rules: QAFilterRules | None = None) -> pl.DataFrame:
    """Every raw pair with what the default profile measured on it, its verdict (`kept`, `reason`,
    `reasons`, `detail`), the compat profile's verdict and the question's form.

    Each row is the raw Q/A record judged again (same `record_id`): it lists no parents of its own
    (it *is* that record; the document is in `raw_qa`'s `parent_ids` and in `document_id`) and keeps
    the `models` entry of the call that wrote it."""
    rules = rules or QAFilterRules()
    pages = {r["record_id"]: PageIndex.of(json.loads(r["layout"])["pages"])
             for r in documents.filter(pl.col("layout").is_not_null()).iter_rows(named=True)}
    if "error" not in raw.columns:
        raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias("error"))
    # a row without a pair failed generation, whatever the error text says
    raw = raw.with_columns(pl.when(pl.col("question").is_null() | pl.col("answer").is_null())
                           .then(pl.col("error").fill_null("no Q/A pair")).otherwise(pl.col("error")).alias("error"))
    seen: dict[str, dict[str, str]] = {}
    rows, compat = [], []
    for r in raw.iter_rows(named=True):
        doc = r["document_id"]
        rows.append(measure(r["question"], r["answer"], pages.get(doc, PageIndex.of([])),
                            seen.setdefault(doc, {}), r["record_id"]))
        compat.append(["generation_failed"] if r["question"] is None or r["answer"] is None
                      else compat_failures(r["question"], r["answer"]))
    out = raw.drop([c for c in MEASURES if c in raw.columns]).hstack(pl.DataFrame(rows, schema=MEASURES))
    out = out.with_columns(
        pl.Series("compat_reasons", compat, dtype=pl.List(pl.String)),
        pl.col("question").map_elements(question_form, return_dtype=pl.String).alias("question_form"),
    ).with_columns((pl.col("compat_reasons").list.len() == 0).alias("compat_kept"))
    out = declare(out, models=["models"] if "models" in out.columns else [])
    return screen(out, rules.rules())


def removal_table(df: pl.DataFrame, rules: QAFilterRules | None = None) -> pl.DataFrame:
    """Pairs each rule removes on its own and each profile removes, as counts and rates. A pair
    that was never generated counts under `generation_failed` only (its other rules had nothing to
    measure)."""
    n = df.height or 1
    default = default_reasons(rules)
    generated = df.filter(pl.col("reason").ne_missing("generation_failed"))
    rows = []
    for rule in dict.fromkeys(("generation_failed", *COMPAT_RULES, *default)):
        compat = int(df["compat_reasons"].list.contains(rule).sum()) if rule in (
            "generation_failed", *COMPAT_RULES) else None
        if rule == "generation_failed":
            removed = int((df["reason"] == rule).sum())
        else:
            removed = int(generated["reasons"].list.contains(rule).sum()) if rule in default else None
        rows.append({"rule": rule, "compat": compat, "default": removed})
    rows.append({"rule": "ANY (profile)", "compat": int((~df["compat_kept"]).sum()),
                 "default": int((~df["kept"]).sum())})
    table = pl.DataFrame(rows, schema={"rule": pl.String, "compat": pl.Int64, "default": pl.Int64})
    return table.with_columns(
        (pl.col("compat") / n).round(3).alias("compat_rate"),
        (pl.col("default") / n).round(3).alias("default_rate"),
    )
