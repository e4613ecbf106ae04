"""Question/answer pairs read off a page's layout, for the offline backend of Q/A generation.

Every answer is a string printed on the page, found by the page's geometry: `key: value` lines and
label/value pairs on one baseline, table cells with their row and column headers, the title (the
tallest line) and numbered headings, dates and amounts inside sentences (as fill-in-the-blank), and
one summary question per document. Yes/no questions pair a key with its own value or with another
key's value. The prompt variant of the document orders the question types, as the five prompts steer
a model; about four pairs are taken per page. A Korean page (mostly Hangul) is asked in Korean, with
the particles its words take (은/는, 을/를) and 예/아니요 for yes/no; its keys, dates (2024년 5월
17일) and amounts (3,131,000원) are read as an English page's are.

Only what a reader of the page image can answer is asked: invisible lines (no box area) are skipped,
a table's header cells must be headers (text printed once, not values or sentence fragments) and
its row labels must name one row (not line numbers), keys must be labels, a title must be words at
the top of the page, and a numbered line is a heading only when it stands alone. The same tests
(`answerability`) judge every generator's pairs in `filtered_qa`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from statistics import median

from assets.docmatix.answerability import (
    TOP_OF_PAGE,
    continues,
    is_fragment,
    printed_lines,
    row_label_problem,
    slot_problem,
    title_problem,
    value_like,
)
from assets.docmatix.pdfa import Page
from assets.docmatix.qa_prompts import QA_PER_PAGE, VARIANTS
from assets.docmatix.question_forms import HANGUL, language

MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|December")
DATE = re.compile(
    rf"\b\d{{1,2}} (?:{MONTHS}) \d{{4}}\b|\b(?:{MONTHS}) \d{{4}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{4}}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b|\b(?:19|20)\d{2}년 ?\d{1,2}월(?: ?\d{1,2}일)?|\b(?:19|20)\d{2}\b"
)
# an amount ends where its digits do: a unit glued to it (3,131,000원) is part of it, never a cut
AMOUNT = re.compile(
    r"(?:[£€$₩] ?)?\b\d+(?:\.\d+)? ?(?:euros?|GBP|EUR|USD|units|hours|days|minutes|kilometres|km|%|원)"
    r"|(?:[£€$₩] ?)?\b\d{1,3}(?:,\d{3})+(?:\.\d+)?(?: ?원)?(?!,?\d)|(?:[£€$₩] ?)?\b\d+\.\d+\b"
)
KEY_VALUE = re.compile(r"^(?P<key>[^\W\d_][\w ()%/&'-]{1,40}?):\s+(?P<value>\S.*)$")
HEADING = re.compile(r"^(?P<num>\d+(?:\.\d+)*)\.\s+(?P<title>[A-Z가-힣][^.:,]{1,60})$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9가-힣])")
MAX_CLOZE_WORDS = 30
MIN_SENTENCE_WORDS = {"en": 5, "ko": 3}  # a Korean word carries its particles: fewer words say as much
TITLE_HEIGHT = 1.15  # a title's line is this much taller than the page's median line (OCR'd lines vary more)

# question types in the order each prompt variant favours them (VARIANTS' order)
PRIORITY: dict[str, tuple[str, ...]] = {
    "simple_factual": ("key_value", "table_cell", "amount", "date", "title", "heading", "yes_no"),
    "per_section": ("heading", "table_cell", "key_value", "date", "amount", "title", "yes_no"),
    "critical_thinking": ("yes_no", "table_cell", "amount", "key_value", "date", "heading", "title"),
    "summary_and_detail": ("key_value", "table_cell", "date", "amount", "heading", "title", "yes_no"),
    "general": ("key_value", "title", "table_cell", "heading", "yes_no", "date", "amount"),
}
SUMMARY_FIRST = {"summary_and_detail"}

# (language, question type, general variant) -> question template; {key} etc. are the page's words,
# {eun}/{eul} the particle the Korean word before them takes (은/는, 을/를)
TEMPLATES: dict[tuple[str, str, bool], str] = {
    ("en", "title", False): "What is the title of this document?",
    ("en", "title", True): "What is this document called?",
    ("en", "table_cell", False): "In the table, what is the {col} value for {row}?",
    ("en", "table_cell", True): "What does the table give as the {col} for {row}?",
    ("en", "key_value", False): "What is the {key}?",
    ("en", "key_value", True): "Could you tell me the {key}?",
    ("en", "yes_no", False): "Is the {key} {value}?",
    ("en", "yes_no", True): "Is the {key} {value}?",
    ("en", "heading", False): "What is the heading of section {num}?",
    ("en", "heading", True): "What is section {num} called?",
    ("en", "cloze", False): 'Fill in the blank from the document: "{text}"',
    ("en", "cloze", True): 'Fill in the blank from the document: "{text}"',
    ("en", "summary", False): "What is this document about?",
    ("en", "summary", True): "What is this document about, in one sentence?",
    ("ko", "title", False): "이 문서의 제목은 무엇입니까?",
    ("ko", "title", True): "이 문서는 무엇이라고 불립니까?",
    ("ko", "table_cell", False): "표에서 {row}의 {col} 값은 무엇입니까?",
    ("ko", "table_cell", True): "표에 적힌 {row}의 {col}{eun} 무엇입니까?",
    ("ko", "key_value", False): "문서에 적힌 {key}{eun} 무엇입니까?",
    ("ko", "key_value", True): "문서에 적힌 {key}{eul} 알려 주시겠습니까?",
    ("ko", "yes_no", False): "문서에 적힌 {key}{eun} {value}입니까?",
    ("ko", "yes_no", True): "문서에 적힌 {key}{eun} {value}입니까?",
    ("ko", "heading", False): "{num}절의 제목은 무엇입니까?",
    ("ko", "heading", True): "{num}절은 무엇이라고 불립니까?",
    ("ko", "cloze", False): '다음 문장의 빈칸을 채우십시오: "{text}"',
    ("ko", "cloze", True): '다음 문장의 빈칸을 채우십시오: "{text}"',
    ("ko", "summary", False): "이 문서는 무엇에 관한 것입니까?",
    ("ko", "summary", True): "이 문서의 내용을 한 문장으로 말하면 무엇입니까?",
}
YES_NO_WORDS = {"en": ("Yes", "No"), "ko": ("예", "아니요")}


def _particle(word: str, with_final: str, without_final: str) -> str:
    """The Korean particle `word` takes: its last syllable ends in a consonant or not (은/는);
    after a digit or a bracket, both, as Korean forms print it (은(는))."""
    last = word.strip()[-1:] or " "
    if "가" <= last <= "힣":
        return with_final if (ord(last) - ord("가")) % 28 else without_final
    return f"{with_final}({without_final})"


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
    """The page's visible lines: a line whose box has no area is text the PDF never draws."""
    return [Line(t.strip(), *b) for t, b in zip(page["lines"]["text"], page["lines"]["bbox"], strict=True)
            if t.strip() and b[2] > 0 and b[3] > 0]


def _runs_on(line: Line, lines: list[Line]) -> bool:
    """A line right below starts at this line's left edge: this is a paragraph's first line (a
    numbered list item, a sentence under a drop cap), not a title or a heading."""
    return any(continues((line.x, line.y, line.w, line.h), (o.x, o.y, o.w, o.h)) and not HEADING.match(o.text)
               for o in lines if o is not line)


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


MAX_CELL_WORDS = 8
SHORT_CELL_WORDS = 3


def _is_table(run: list[list[Line]]) -> bool:
    """Cells of a table are values or short labels; the lines of a multi-column page are prose
    (longer runs of words), though they share baselines as table rows do."""
    body = [c.text for row in run[1:] for c in row[1:]]
    values = sum(value_like(t) for t in body)
    short = sorted(len(t.split()) for t in body)
    return bool(body) and (values >= len(body) / 2 or short[len(short) // 2] <= SHORT_CELL_WORDS)


def _tables(rows: list[list[Line]]) -> list[list[list[Line]]]:
    """Runs of >= 3 consecutive rows with the same number (>= 3) of short cells, header row first."""
    tables, run = [], []
    for row in rows + [[]]:
        cells = len(row) >= 3 and all(len(c.text.split()) <= MAX_CELL_WORDS for c in row)
        if cells and (not run or len(row) == len(run[0])):
            run.append(row)
            continue
        if len(run) >= 3 and _is_table(run):
            tables.append(run)
        run = [row] if cells else []
    return tables


def _sentences(lines: list[Line], min_words: int = MIN_SENTENCE_WORDS["en"]) -> list[str]:
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
        out += [s.strip() for s in SENTENCE_END.split(text) if len(s.split()) >= min_words]
    return out


def _value_kind(value: str) -> str:
    if DATE.search(value):
        return "date"
    return "number" if re.fullmatch(r"[£€$₩]?\s?\d[\d,.]*\s?원?", value) else "text"


def _stands_alone(sentence: str, m: re.Match) -> bool:
    """False for a match inside a link, an e-mail address or an identifier ('inv-2024-6631')."""
    before = sentence[m.start() - 1] if m.start() else " "
    after = sentence[m.end()] if m.end() < len(sentence) else " "
    start = sentence.rfind(" ", 0, m.start()) + 1
    end = sentence.find(" ", m.end())
    token = sentence[start : end if end >= 0 else len(sentence)]
    # a Korean particle glued after a date or an amount ("17일에", "850원입니다") leaves it whole
    glued = before.isalnum() or before in "-/" or after in "-/" or (after.isalnum() and not HANGUL.match(after))
    return not (glued or "://" in token or "@" in token)


def _cloze(sentence: str, match: re.Match) -> str:
    """The sentence with the match blanked out, cut to MAX_CLOZE_WORDS around the blank (the text
    of the question's template)."""
    half = MAX_CLOZE_WORDS // 2
    left, right = sentence[: match.start()], sentence[match.end():]
    if len(left.split()) > half:
        left = " ".join(left.split()[-half:]) + " "
    if len(right.split()) > half:
        right = " " + " ".join(right.split()[:half])
    return f"{left}___{right}"


class PageCandidates:
    """The candidate pairs of one page, by question type."""

    def __init__(self, page: Page, index: int, general: bool):
        self.index, self.general = index, general
        self.lines = _lines(page)
        self.lang = language([ln.text for ln in self.lines])
        self.rows = _rows(self.lines)
        heights = [ln.h for ln in self.lines]
        tallest = max(self.lines, key=lambda ln: ln.h, default=None)
        self.title = tallest if (tallest and len(heights) > 1 and tallest.h >= TITLE_HEIGHT * median(heights)
                                 and title_problem(tallest.text, None) is None and not is_fragment(tallest.text)
                                 and tallest.y <= TOP_OF_PAGE and not _runs_on(tallest, self.lines)) else None
        self.used: set[int] = set()  # ids of lines a structural reading has claimed
        self.key_values: list[tuple[str, str]] = []
        self.candidates: dict[str, list[tuple[str, str]]] = {k: [] for k in PRIORITY["simple_factual"]}
        if self.title is not None:
            self.used.add(id(self.title))
            self._add("title", self.ask("title"), self.title.text)
        self._tables()
        self._key_values()
        self._headings()
        self._dates_and_amounts()

    def _add(self, kind: str, question: str, answer: str) -> None:
        self.candidates[kind].append((question, answer.strip()))

    def ask(self, template: str, **slots: str) -> str:
        """The question of a template in the page's language, its slots filled (and, in Korean, the
        particle after the slot it follows)."""
        last = slots.get("key") or slots.get("col") or ""
        return TEMPLATES[self.lang, template, self.general].format(
            **slots, eun=_particle(last, "은", "는"), eul=_particle(last, "을", "를"))

    def _tables(self) -> None:
        """Cells under a header row whose cells are headers (text, not values or fragments), in rows
        whose first cell names that row alone (not a line number, not repeated on the page)."""
        texts = [ln.text for ln in self.lines]
        for table in _tables(self.rows):
            header = table[0]
            for row in table:
                self.used.update(id(c) for c in row)
            if any(slot_problem(c.text, "header") or printed_lines(c.text, texts) > 1 for c in header[1:]):
                continue
            for row in table[1:]:
                if row_label_problem(row[0].text, texts):
                    continue
                for col, cell in zip(header[1:], row[1:], strict=True):
                    if cell.text.strip().lower() in (col.text.strip().lower(), row[0].text.strip().lower()):
                        continue
                    self._add("table_cell", self.ask("table_cell", col=col.text, row=row[0].text), cell.text)

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
        pairs = [(k, v) for k, v in pairs if not slot_problem(k, "key") and v.strip()]
        self.key_values = pairs
        yes, no = YES_NO_WORDS[self.lang]
        for key, value in pairs:
            self._add("key_value", self.ask("key_value", key=_phrase(key)), value)
        for i, (key, value) in enumerate(pairs):
            key_p = _phrase(key)
            if i % 2 == 0:
                self._add("yes_no", self.ask("yes_no", key=key_p, value=value), yes)
                continue
            same_kind = [v for _, v in pairs if v != value and _value_kind(v) == _value_kind(value)]
            if same_kind:
                self._add("yes_no", self.ask("yes_no", key=key_p, value=same_kind[i % len(same_kind)]), no)

    def _headings(self) -> None:
        """Numbered lines that stand alone (a numbered item whose text runs on is a list, not a
        section) and end on a word that can end a heading."""
        for line in self.lines:
            m = HEADING.match(line.text)
            if m and id(line) not in self.used and not _runs_on(line, self.lines) and not is_fragment(m["title"]):
                self.used.add(id(line))
                self._add("heading", self.ask("heading", num=m["num"]), m["title"].strip())

    def _dates_and_amounts(self) -> None:
        free = [ln for ln in self.lines if id(ln) not in self.used]
        for sentence in _sentences(free, MIN_SENTENCE_WORDS[self.lang]):
            for kind, pattern in (("date", DATE), ("amount", AMOUNT)):
                m = next((m for m in pattern.finditer(sentence) if _stands_alone(sentence, m)), None)
                if m:
                    self._add(kind, self.ask("cloze", text=_cloze(sentence, m)), m.group(0))
                    break

    def summary(self) -> tuple[str, str] | None:
        """The title with the first two key-value lines (a form, an invoice) or, failing those, the
        first full sentence of the running text (a report, a policy). Without a title there is no
        summary: a page's first sentence alone rarely says what the document is about."""
        if self.title is None:
            return None
        if len(self.key_values) >= 2:
            detail = "; ".join(f"{k}: {v}" for k, v in self.key_values[:2])
        else:
            free = [ln for ln in self.lines if id(ln) not in self.used]
            detail = next((s for s in _sentences(free, MIN_SENTENCE_WORDS[self.lang])
                           if s.endswith(".") and len(s.split()) > MIN_SENTENCE_WORDS[self.lang]), None)
        parts = [s.rstrip(".") for s in (self.title.text if self.title else None, detail) if s]
        if not parts:
            return None
        return self.ask("summary"), ". ".join(parts) + "."


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
