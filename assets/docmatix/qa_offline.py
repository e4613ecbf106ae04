"""Question/answer pairs read off a page's layout, for the offline backend of Q/A generation.

Every answer is a string printed on the page, found by the page's geometry: `key: value` lines and
label/value pairs on one baseline, table cells with their row and column headers, the title (the
tallest line) and numbered headings, dates and amounts inside sentences (as fill-in-the-blank), and
one summary question per document. Yes/no questions pair a key with its own value or with another
key's value. The prompt variant of the document orders the question types, as the five prompts steer
a model; about four pairs are taken per page.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from statistics import median

from assets.docmatix.pdfa import Page
from assets.docmatix.qa_prompts import QA_PER_PAGE, VARIANTS

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December")
DATE = re.compile(
    rf"\b\d{{1,2}} (?:{MONTHS}) \d{{4}}\b|\b(?:{MONTHS}) \d{{4}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{4}}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b(?:19|20)\d{2}\b"
)
AMOUNT = re.compile(
    r"(?:[£€$] ?)?\b\d+(?:\.\d+)? ?(?:euros?|GBP|EUR|USD|units|hours|days|minutes|kilometres|km|%)"
    r"|(?:[£€$] ?)?\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b|(?:[£€$] ?)?\b\d+\.\d+\b"
)
KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9 ()%/&'-]{1,40}?):\s+(?P<value>\S.*)$")
HEADING = re.compile(r"^(?P<num>\d+(?:\.\d+)*)\.\s+(?P<title>[A-Z][^.:,]{1,60})$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")
MAX_CLOZE_WORDS = 30

# question types in the order each prompt variant favours them (VARIANTS' order)
PRIORITY: dict[str, tuple[str, ...]] = {
    "simple_factual": ("key_value", "table_cell", "amount", "date", "title", "heading", "yes_no"),
    "per_section": ("heading", "table_cell", "key_value", "date", "amount", "title", "yes_no"),
    "critical_thinking": ("yes_no", "table_cell", "amount", "key_value", "date", "heading", "title"),
    "summary_and_detail": ("key_value", "table_cell", "date", "amount", "heading", "title", "yes_no"),
    "general": ("key_value", "title", "table_cell", "heading", "yes_no", "date", "amount"),
}
SUMMARY_FIRST = {"summary_and_detail"}


@dataclass(frozen=True)
class Line:
    text: str
    x: float
    y: float
    w: float
    h: float

    @property
    def centre(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Pair:
    page: int
    kind: str
    question: str
    answer: str


def _lines(page: Page) -> list[Line]:
    return [Line(t.strip(), *b) for t, b in zip(page["lines"]["text"], page["lines"]["bbox"], strict=True)
            if t.strip()]


def _rows(lines: list[Line]) -> list[list[Line]]:
    """Lines sharing a baseline, top to bottom, each row left to right."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.centre, ln.x)):
        if rows and abs(line.centre - rows[-1][0].centre) < 0.5 * min(line.h, rows[-1][0].h):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [sorted(r, key=lambda ln: ln.x) for r in rows]


def _phrase(key: str) -> str:
    """'Invoice number' -> 'invoice number'; acronyms and brackets stay as printed."""
    return " ".join(w.lower() if w[:1].isupper() and w[1:].islower() else w for w in key.split())


def _tables(rows: list[list[Line]]) -> list[list[list[Line]]]:
    """Runs of >= 3 consecutive rows with the same number (>= 3) of cells: header row first."""
    tables, run = [], []
    for row in rows + [[]]:
        if len(row) >= 3 and (not run or len(row) == len(run[0])):
            run.append(row)
            continue
        if len(run) >= 3:
            tables.append(run)
        run = [row] if len(row) >= 3 else []
    return tables


def _sentences(lines: list[Line]) -> list[str]:
    """Sentences of the paragraphs: lines that continue the one above at the same left edge."""
    paragraphs: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: (ln.y, ln.x)):
        prev = paragraphs[-1][-1] if paragraphs else None
        if prev and abs(line.x - prev.x) < 0.01 and 0 <= line.y - (prev.y + prev.h) < 1.2 * prev.h:
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    out = []
    for para in paragraphs:
        text = " ".join(ln.text for ln in para)
        out += [s.strip() for s in SENTENCE_END.split(text) if len(s.split()) >= 5]
    return out


def _value_kind(value: str) -> str:
    if DATE.search(value):
        return "date"
    return "number" if re.fullmatch(r"[£€$]?\s?\d[\d,.]*", value) else "text"


def _stands_alone(sentence: str, m: re.Match) -> bool:
    """False for a match inside a link, an e-mail address or an identifier ('inv-2024-6631')."""
    before = sentence[m.start() - 1] if m.start() else " "
    after = sentence[m.end()] if m.end() < len(sentence) else " "
    start = sentence.rfind(" ", 0, m.start()) + 1
    end = sentence.find(" ", m.end())
    token = sentence[start : end if end >= 0 else len(sentence)]
    glued = any(c.isalnum() or c in "-/" for c in (before, after))
    return not (glued or "://" in token or "@" in token)


def _cloze(sentence: str, match: re.Match) -> str:
    """The sentence with the match blanked out, cut to MAX_CLOZE_WORDS around the blank."""
    half = MAX_CLOZE_WORDS // 2
    left, right = sentence[: match.start()], sentence[match.end():]
    if len(left.split()) > half:
        left = " ".join(left.split()[-half:]) + " "
    if len(right.split()) > half:
        right = " " + " ".join(right.split()[:half])
    return f'Fill in the blank from the document: "{left}___{right}"'


class PageCandidates:
    """The candidate pairs of one page, by question type."""

    def __init__(self, page: Page, index: int, general: bool):
        self.index, self.general = index, general
        self.lines = _lines(page)
        self.rows = _rows(self.lines)
        heights = [ln.h for ln in self.lines]
        tallest = max(self.lines, key=lambda ln: ln.h, default=None)
        self.title = tallest if tallest and len(heights) > 1 and tallest.h >= 1.25 * median(heights) else None
        self.used: set[int] = set()  # ids of lines a structural reading has claimed
        self.key_values: list[tuple[str, str]] = []
        self.candidates: dict[str, list[tuple[str, str]]] = {k: [] for k in PRIORITY["simple_factual"]}
        if self.title is not None:
            self.used.add(id(self.title))
            self._add("title", ("What is this document called?" if general
                                else "What is the title of this document?"), self.title.text)
        self._tables()
        self._key_values()
        self._headings()
        self._dates_and_amounts()

    def _add(self, kind: str, question: str, answer: str) -> None:
        self.candidates[kind].append((question, answer.strip()))

    def _tables(self) -> None:
        for table in _tables(self.rows):
            header = table[0]
            for row in table:
                self.used.update(id(c) for c in row)
            for row in table[1:]:
                for col, cell in zip(header[1:], row[1:], strict=True):
                    q = (f"What does the table give as the {col.text} for {row[0].text}?" if self.general
                         else f"In the table, what is the {col.text} value for {row[0].text}?")
                    self._add("table_cell", q, cell.text)

    def _key_values(self) -> None:
        pairs = []
        for row in self.rows:
            for i, line in enumerate(row):
                if id(line) in self.used:
                    continue
                m = KEY_VALUE.match(line.text)
                if m:
                    value = SENTENCE_END.split(m["value"])[0].rstrip(".")
                    pairs.append((m["key"].strip(), value))
                    self.used.add(id(line))
                elif line.text.endswith(":") and i + 1 < len(row) and id(row[i + 1]) not in self.used:
                    pairs.append((line.text[:-1].strip(), row[i + 1].text))
                    self.used.update((id(line), id(row[i + 1])))
        self.key_values = pairs
        for key, value in pairs:
            key_p = _phrase(key)
            self._add("key_value", f"Could you tell me the {key_p}?" if self.general
                      else f"What is the {key_p}?", value)
        for i, (key, value) in enumerate(pairs):
            key_p = _phrase(key)
            if i % 2 == 0:
                self._add("yes_no", f"Is the {key_p} {value}?", "Yes")
                continue
            same_kind = [v for _, v in pairs if v != value and _value_kind(v) == _value_kind(value)]
            if same_kind:
                self._add("yes_no", f"Is the {key_p} {same_kind[i % len(same_kind)]}?", "No")

    def _headings(self) -> None:
        for line in self.lines:
            m = HEADING.match(line.text)
            if m and id(line) not in self.used:
                self.used.add(id(line))
                self._add("heading", f"What is section {m['num']} called?" if self.general
                          else f"What is the heading of section {m['num']}?", m["title"].strip())

    def _dates_and_amounts(self) -> None:
        free = [ln for ln in self.lines if id(ln) not in self.used]
        for sentence in _sentences(free):
            for kind, pattern in (("date", DATE), ("amount", AMOUNT)):
                m = next((m for m in pattern.finditer(sentence) if _stands_alone(sentence, m)), None)
                if m:
                    self._add(kind, _cloze(sentence, m), m.group(0))
                    break

    def summary(self) -> tuple[str, str] | None:
        """The title with the first two key-value lines (a form, an invoice) or, failing those, the
        first full sentence of the running text (a report, a policy)."""
        if len(self.key_values) >= 2:
            detail = "; ".join(f"{k}: {v}" for k, v in self.key_values[:2])
        else:
            free = [ln for ln in self.lines if id(ln) not in self.used]
            detail = next((s for s in _sentences(free) if s.endswith(".") and len(s.split()) >= 6), None)
        parts = [s.rstrip(".") for s in (self.title.text if self.title else None, detail) if s]
        if not parts:
            return None
        question = ("What is this document about, in one sentence?" if self.general
                    else "What is this document about?")
        return question, ". ".join(parts) + "."


def generate_pairs(layout: list[Page], key: str, variant: int) -> list[Pair]:
    """About QA_PER_PAGE pairs per page, one summary pair per document, no question asked twice."""
    name = VARIANTS[variant][0]
    order = PRIORITY[name]
    pairs: list[Pair] = []
    seen: set[str] = set()
    for index, page in enumerate(layout):
        p = PageCandidates(page, index, general=name == "general")
        rng = random.Random(f"{key}:{index}")
        pools = {k: rng.sample(v, len(v)) for k, v in p.candidates.items()}
        chosen: list[Pair] = []
        summary = p.summary() if index == 0 else None
        budget = QA_PER_PAGE - (1 if summary else 0)
        while len(chosen) < budget and any(pools[k] for k in order):
            for kind in order:
                while pools[kind]:
                    q, a = pools[kind].pop()
                    if q.lower() not in seen:
                        seen.add(q.lower())
                        chosen.append(Pair(index, kind, q, a))
                        break
                if len(chosen) == budget:
                    break
        if summary:
            first = Pair(index, "summary", *summary)
            chosen = [first, *chosen] if name in SUMMARY_FIRST else [*chosen, first]
        pairs += chosen
    return pairs
