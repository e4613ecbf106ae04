"""Docmatix's Q/A generation prompt and the `Q#:`/`A#:` answer format.

Docmatix picks one of five system prompts at random per document; here the pick is a hash of the
PDFA key, so a rerun asks the same question of the same document (and hits the response cache). The
page text is the page's lines joined by newlines, pages joined by a `NEW PAGE` line; "unanswerable"
is allowed, as in Docmatix, and the filters decide what to do with it.
"""

from __future__ import annotations

import hashlib
import re

from assets.docmatix.pdfa import Page, page_text

NEW_PAGE = "NEW PAGE"
QA_PER_PAGE = 4

_COMMON = (
    "You are reading the text of a PDF document with one or more pages; a line saying NEW PAGE "
    "separates the pages. Write about {n} question and answer pairs a reader could answer from the "
    "document alone. {focus} Tables and pictures may be poorly extracted: do not ask about what you "
    "cannot read clearly. Keep answers short and copy names, numbers and dates exactly as written. "
    "If the document holds nothing worth asking about, answer \"unanswerable\". Write each pair as two "
    "lines:\nQ1: <question>\nA1: <answer>\nQ2: <question>\nA2: <answer>\nand nothing else."
)
VARIANTS: tuple[tuple[str, str], ...] = (
    ("simple_factual", "Ask simple factual questions: names, numbers, dates, amounts, identifiers."),
    ("per_section", "Go through the document section by section and ask one question about each "
                    "section, heading or table."),
    ("critical_thinking", "Ask questions that need a reader to compare or check facts, such as which "
                          "value is the largest or whether a statement matches the document."),
    ("summary_and_detail", "Ask one question about what the whole document is for, then questions "
                           "about specific details."),
    ("general", "Ask the questions a person handling this document would naturally ask, phrased in "
                "everyday language."),
)


def variant_for(key: str) -> int:
    """The prompt variant of a document: deterministic in its key, uniform over the five."""
    return int(hashlib.sha256(f"docmatix-variant:{key}".encode()).hexdigest()[:8], 16) % len(VARIANTS)


def system_prompt(variant: int, pages: int) -> str:
    return _COMMON.format(n=QA_PER_PAGE * max(1, pages), focus=VARIANTS[variant][1])


def document_text(layout: list[Page]) -> str:
    return f"\n{NEW_PAGE}\n".join(page_text(p) for p in layout)


def format_qa(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(f"Q{i}: {q}\nA{i}: {a}" for i, (q, a) in enumerate(pairs, start=1))


# a marker at the start of a line, allowing list and markdown decoration: "Q1:", "- **A2:**", "### Q3:"
_LINE_MARKER = re.compile(r"^[ \t>*#-]*\**([QA])(\d+)\**[ \t]*:\**[ \t]*")
# an answer marker on the question's own line: "Q1: Who? A1: Me"
_INLINE_ANSWER = re.compile(r"[ \t]\**A(\d+)\**[ \t]*:\**[ \t]*")


def parse_qa(text: str) -> list[tuple[int, str, str]]:
    """(number, question, answer) for every `Q#:` that has an `A#:` with the same number.

    Markers count at the start of a line (or an answer marker right after its question on the same
    line); text up to the next marker belongs to the current field, blank lines included, so a
    filter can still see them. A marker elsewhere stays in the text, where the leftover-marker rule
    finds it. The first answer given for a number wins.
    """
    fields: list[list] = []  # [kind, number, lines]
    for line in text.splitlines():
        m = _LINE_MARKER.match(line)
        if m:
            fields.append([m[1], int(m[2]), [line[m.end():]]])
            if m[1] == "Q":
                inline = _INLINE_ANSWER.search(fields[-1][2][0])
                if inline and int(inline[1]) == int(m[2]):
                    q_text = fields[-1][2][0]
                    fields[-1][2][0] = q_text[: inline.start()]
                    fields.append(["A", int(m[2]), [q_text[inline.end():]]])
        elif fields:
            fields[-1][2].append(line)
    questions: dict[int, str] = {}
    pairs: list[tuple[int, str, str]] = []
    answered: set[int] = set()
    for kind, number, lines in fields:
        content = "\n".join(lines).strip()
        if kind == "Q":
            questions[number] = content
        elif number in questions and number not in answered:
            answered.add(number)
            pairs.append((number, questions[number], content))
    return pairs
