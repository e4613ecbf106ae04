"""Is a Q/A pair answerable from its page? Checks that hold for any generator, offline or a model.

Docmatix's regex filter never looks at the page, and a grounding score alone (is the answer printed
somewhere?) keeps pairs such as "In the table, what is the 0 value for Arizona?" (the 0 is a data
value read as a header) or "What is the ?" (an empty key): their answers are printed, their
questions point at nothing. Here a pair must pass three tests, each a stored measurement that
`QAFilterRules` judges:

1. The answer is on the page: its tokens, normalised (NFKC, case-folded), appear as a run of page
   tokens; numbers and short tokens must match exactly, longer text fuzzily (rapidfuzz ratio, so
   an OCR slip such as "Lovelace"/"Loveiace" still matches). CJK ideographs, kana and Hangul
   syllables count one token each: Chinese and Japanese put no spaces between words, and Korean
   glues particles to its words ("금액은") and is spaced unreliably by OCR, so a Korean answer is
   found whatever the spacing and particles around it. Lengths in words (a header, a title) still
   count a run of Hangul as one word.
2. The question locates it: the question's content words (its words less function words, template
   words and the answer's own words) are looked for around each place the answer is printed: its
   line, the lines on its baseline (a table row, a key and its value), the header cells above it in
   its column and the lines of its paragraph. The share found is the place's support. The same
   support is computed around every other line of the page, as a question-only extractive reader
   would: when some place without the answer is supported better, the question points elsewhere.
3. Template slots are real keys: a question built from a template (key, table cell, heading) must
   have its slots filled with header text, not with a value (a number, a date, an amount), a line
   number, an unbalanced fragment or a sentence fragment; a title or summary answer must be text,
   not a page number or a row of figures; and the answer must not just repeat the question.

A yes/no answer is not printed; for it, test 1 measures how well the question's own content words
are located on the page (the statement it asks about must be there to be confirmed or denied).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from assets.docmatix.question_forms import STOPWORDS, YES_NO_ANSWERS, question_form, without_korean_template

# question words that say how to ask, not what about
TEMPLATE_WORDS = frozenset([
    "value", "table", "document", "page", "fill", "blank", "heading", "section", "called", "give",
    "given", "tell", "could", "me", "you", "about", "sentence", "title", "one", "according", "can",
    "shown", "listed", "stated", "mentioned", "say", "says", "written", "printed", "please", "find",
    "there", "s", "i", "we", "they", "their", "has", "have", "had", "will", "would", "should", "not",
    "no", "yes", "any", "all", "if", "than", "then", "so", "but", "into", "under", "over", "up",
])
_HAN_KANA = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3"
_CJK = _HAN_KANA + _HANGUL
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+(?:[.,/:'’-][^\W{_CJK}]+)*")
_WORD = re.compile(rf"[{_HAN_KANA}]|[^\W{_HAN_KANA}]+(?:[.,/:'’-][^\W{_HAN_KANA}]+)*")  # a Hangul run is one word
YES_NO = YES_NO_ANSWERS
SHORT_TOKEN = 3  # tokens this short (and numbers) must match exactly
FUZZY_WORD = 85  # rapidfuzz ratio for an OCR-tolerant word match
LONG_ANSWER_WORDS = 12  # longer answers (summaries) are judged by content-word recall
PRINTED = 0.9  # an answer matching this well is printed on the page (QAFilterRules.answer_found_at)
MAX_HEADER_WORDS = 8
MIN_BLANK_CONTEXT = 2  # content words around a blank that pin down where it is
MIN_STATEMENT_WORDS = 2  # content words of a yes/no question
BLANK_CONTEXT_CHARS = 20  # characters each side of a blank that a reader matches to find it
NARROW = 0.35  # a line narrower than this share of the page can be a table cell


# irregular forms a question and its page often differ by ("when was it paid?" / "Pay at ...")
IRREGULAR = {"paid": "pay", "sold": "sell", "bought": "buy", "made": "make", "spent": "spend", "held": "hold",
             "sent": "send", "given": "give", "gave": "give", "taken": "take", "took": "take", "written": "write",
             "wrote": "write", "issued": "issue", "received": "receive", "signed": "sign", "born": "bear",
             "built": "build", "chosen": "choose", "won": "win", "lost": "lose", "met": "meet", "led": "lead"}
_INFLECTION = re.compile(r"(?:ies|es|s|ed|ing|ly)$")


def lemma(word: str) -> str:
    """A crude lemma (irregular forms, then a plural/tense ending off a word of five letters or
    more), so "totals"/"total" and "paid"/"pay" meet; a number is its own lemma."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    return _INFLECTION.sub("", word) if len(word) >= 5 and not _is_number(word) else word


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def word_count(text: str) -> int:
    """Words, for length limits: a Han or kana character is a word, a run of Hangul is one."""
    return len(_WORD.findall(normalise(text)))


def _is_number(token: str) -> bool:
    return bool(re.fullmatch(r"[\d.,/:%-]+", token)) and any(c.isdigit() for c in token)


def _strict(token: str) -> bool:
    return len(token) <= SHORT_TOKEN or _is_number(token)


def content_words(question: str, answer: str = "") -> list[str]:
    """The question's words that say what it is about, in order, each once."""
    drop = STOPWORDS | TEMPLATE_WORDS | set(tokens(answer))
    words = [w for w in tokens(without_korean_template(question)) if w not in drop]
    return list(dict.fromkeys(words))


@dataclass
class PageLayout:
    """One page's lines with their tokens and, when boxes are known, each line's neighbourhood."""

    lines: list[str]
    boxes: list[Sequence[float]] | None = None
    line_tokens: list[list[str]] = field(init=False)
    flat: list[str] = field(init=False)  # the page's tokens in reading order
    owner: list[int] = field(init=False)  # the line of each flat token
    near: list[set[str]] = field(init=False)  # tokens (and their lemmas) around each line
    vocab: set[str] = field(init=False)  # the page's tokens and their lemmas

    def __post_init__(self) -> None:
        self.line_tokens = [tokens(t) for t in self.lines]
        self.flat, self.owner = [], []
        for i, toks in enumerate(self.line_tokens):
            self.flat += toks
            self.owner += [i] * len(toks)
        self.vocab = set(self.flat) | {lemma(t) for t in self.flat}
        self.near = [set().union(*(self.line_tokens[j] for j in self._neighbours(i))) for i in range(len(self.lines))]
        self.near = [n | {lemma(t) for t in n} for n in self.near]

    @classmethod
    def of_page(cls, page: dict[str, Any]) -> PageLayout:
        """A PDFA page; a line whose box has no area (text a PDF carries but never draws, such as
        a printer's proof note) is left out: no reader of the page image can see it."""
        lines = page["lines"]
        texts, boxes = list(lines["text"]), lines.get("bbox")
        if not boxes or len(boxes) != len(texts):
            return cls(texts)
        seen = [i for i, b in enumerate(boxes) if b[2] > 0 and b[3] > 0]
        return cls([texts[i] for i in seen], [boxes[i] for i in seen])

    def _neighbours(self, i: int) -> list[int]:
        """Line i, the lines on its baseline, the narrow cells above it in its column (its headers)
        and, for prose lines, the lines of its paragraph; without boxes, the lines before and after."""
        if self.boxes is None:
            return [j for j in (i - 1, i, i + 1) if 0 <= j < len(self.lines)]
        x, y, w, h = self.boxes[i]
        out = [i]
        for j, (x2, y2, w2, h2) in enumerate(self.boxes):
            if j == i:
                continue
            centre, centre2 = y + h / 2, y2 + h2 / 2
            same_row = abs(centre - centre2) < 0.5 * max(min(h, h2), 1e-6)
            overlap = min(x + w, x2 + w2) - max(x, x2) > 0
            header_above = overlap and y2 < y and w < NARROW and w2 < NARROW
            paragraph = (overlap and abs(x - x2) < 0.02 and max(w, w2) >= NARROW
                         and (0 <= y - (y2 + h2) < 1.5 * h2 or 0 <= y2 - (y + h) < 1.5 * h))
            if same_row or header_above or paragraph:
                out.append(j)
        return out

    @property
    def text(self) -> str:
        """The page's visible lines joined by newlines."""
        return "\n".join(self.lines)

    def found(self, word: str) -> bool:
        return word in self.vocab or lemma(word) in self.vocab or (not _strict(word) and process.extractOne(
            word, self.vocab, scorer=fuzz.ratio, score_cutoff=FUZZY_WORD) is not None)

    def answer_hits(self, answer: str) -> tuple[float, list[set[int]]]:
        """(match score 0-1, the lines of each place the answer is printed at that score)."""
        want = tokens(answer)
        if not want or not self.flat:
            return 0.0, []
        n = len(want)
        exact = [set(self.owner[s:s + n]) for s in range(len(self.flat) - n + 1) if self.flat[s:s + n] == want]
        if exact:
            return 1.0, exact
        if all(_strict(t) for t in want):
            return 0.0, []
        best, hits = 0.0, []
        target = " ".join(want)
        for size in {max(1, n - 1), n, n + 1}:
            for s in range(len(self.flat) - size + 1):
                window = self.flat[s:s + size]
                if any(_strict(a) and a not in window for a in want):
                    continue
                score = fuzz.ratio(target, " ".join(window)) / 100
                if score > best + 1e-9:
                    best, hits = score, [set(self.owner[s:s + size])]
                elif abs(score - best) <= 1e-9 and best > 0:
                    hits.append(set(self.owner[s:s + size]))
        return round(best, 4), hits

    def support(self, words: Sequence[str], lines: set[int]) -> float:
        """Share of `words` printed around the given lines (fuzzily for long words)."""
        if not words:
            return 0.0
        around = set().union(*(self.near[i] for i in lines))
        return sum(w in around or lemma(w) in around or (not _strict(w) and process.extractOne(
            w, around, scorer=fuzz.ratio, score_cutoff=FUZZY_WORD) is not None) for w in words) / len(words)


# template questions (the offline generator's and the common phrasings of a model) and their slots
TABLE_CELL = (re.compile(r"^(?:in the table, )?what is the (?P<col>.*?) value for (?P<row>.*?)\?$", re.I),
              re.compile(r"^what does the table give as the (?P<col>.*?) for (?P<row>.*?)\?$", re.I),
              re.compile(r"^표에서 (?P<row>.+?)의 (?P<col>.+?) 값은 무엇입니까\?$"),
              re.compile(r"^표에 적힌 (?P<row>.+?)의 (?P<col>.+?)(?:은|는|은\(는\)) 무엇입니까\?$"))
KEY = re.compile(r"^(?:(?:what is|what's|could you tell me) the (?P<key>.*?)"
                 r"|문서에 적힌 (?P<ko_key>.+?)(?:은|는|은\(는\)|을|를|을\(를\)) (?:무엇입니까|알려 주시겠습니까))\?$", re.I)
SECTION = re.compile(r"\bsection (?P<num>\S*?)(?: called)?\?$|^(?P<ko_num>[\d.]+)절(?:의 제목은|은) ", re.I)
FIXED = re.compile(r"^(?:what is (?:the title of )?this document(?: called| about)?(?:, in one sentence)?\?"
                   r"|이 문서의 제목은 무엇입니까\?|이 문서는 무엇이라고 불립니까\?|이 문서는 무엇에 관한 것입니까\?"
                   r"|이 문서의 내용을 한 문장으로 말하면 무엇입니까\?)$", re.I)
_FRAGMENT_END = STOPWORDS | {"if", "than", "because", "when", "while", "your", "you", "not", "but", "so", "has",
                              "have", "had", "will", "would", "can", "could", "should", "been", "being", "may",
                              "must", "shall", "into", "upon", "our", "my", "his", "her", "their", "them"}
MAX_TITLE_WORDS = 16  # a longer printed "title" is a sentence of running text


def value_like(text: str) -> bool:
    """A number, date or amount: no letter at all ("Q1" and "FY2023" are labels, "2,366,592",
    "08/04/2015" and "$8,500" are values)."""
    return not re.search(r"[^\W\d_]", unicodedata.normalize("NFKC", text))


def _unbalanced(text: str) -> bool:
    return any(text.count(a) != text.count(b) for a, b in ("()", "[]", "{}"))


def slot_problem(slot: str, what: str) -> str | None:
    """Why a template slot is not a real header or key, or None."""
    s = slot.strip()
    if not tokens(s):
        return f"empty {what}"
    if value_like(s):
        return f"{what} is a value: {s!r}"
    if _unbalanced(s):
        return f"{what} is a fragment: {s!r}"
    if is_fragment(s):
        return f"{what} is a sentence fragment: {s!r}"
    return None


def is_fragment(text: str) -> bool:
    """Text cut out of running prose: too long for a label, ending on a function word or a comma,
    or holding a sentence end followed by more words."""
    words = tokens(text)
    s = text.strip()
    return (word_count(s) > MAX_HEADER_WORDS or not words or words[-1] in _FRAGMENT_END or s.endswith((",", ";"))
            or (s.endswith(".") and len(words) > 2) or bool(re.search(r"[a-z]{2,}\. \w", s)))


LABEL_ONLY = re.compile(r"^(?:table|figure|fig\.?|page|chart|exhibit)\s*[:.#]?\s*[\w.-]{1,6}\.?$", re.I)
TOP_OF_PAGE = 0.35  # a title is printed in the top third of its page
MAX_LINES_ABOVE_TITLE = 3  # ... under a running head at most, not under the body text
RUN_ON_INDENT = 0.05  # a line this close to a heading's left edge, right below it, continues it
FILLED = 0.6  # ... when the heading line is at least this share of the next line's width (wrapped text)


def title_problem(answer: str, page: PageLayout | None) -> str | None:
    """Why a title or a summary's opening is no title: figures, a bare caption label, a fragment,
    printed below the top of the page, or the first line of a paragraph."""
    a = answer.strip()
    first = re.split(r"(?<=[.!?])\s", a, maxsplit=1)[0].rstrip(".")
    if letter_share(first) < 0.5:
        return f"not text: {first[:80]!r}"
    if re.search(r"(\w{3,})\1", first):
        return f"text printed twice in place (overprinted or garbled text layer): {first[:80]!r}"
    if first[:1].islower() or _unbalanced(first):
        return f"starts mid-sentence: {first[:80]!r}"
    if LABEL_ONLY.match(first):
        return f"a caption label, not a title: {first!r}"
    if page is not None and page.boxes is not None:
        _, hits = page.answer_hits(first)
        top = min((min(page.boxes[i][1] for i in h) for h in hits), default=None)
        above = sum(b[1] + b[3] <= top for b in page.boxes) if top is not None else 0
        if top is not None and (top > TOP_OF_PAGE or above > MAX_LINES_ABOVE_TITLE):
            return f"printed below other text ({above} lines above): {first[:80]!r}"
        if top is not None and word_count(first) > MAX_TITLE_WORDS:
            return f"a sentence of running text, not a title: {first[:80]!r}"
        if runs_on(page, first):
            return f"the first line of a paragraph, not a title: {first[:80]!r}"
    return None


def row_label_problem(row: str, page_lines: Sequence[str] | None) -> str | None:
    """A row label must name one row: not a bare line number, not printed on several rows."""
    r = row.strip()
    if not tokens(r):
        return "empty row label"
    if re.fullmatch(r"\d{1,3}\.?", r):
        return f"row label is a line number: {r!r}"
    if _unbalanced(r) or (not value_like(r) and is_fragment(r)):
        return f"row label is a fragment: {r!r}"
    printed = printed_lines(r, page_lines)
    if printed > 1:
        return f"row label {r!r} is printed on {printed} lines"
    return None


def printed_lines(text: str, page_lines: Sequence[str] | None) -> int:
    """How many of the page's lines read exactly `text` (a header or label names one place)."""
    want = normalise(text)
    return sum(normalise(t) == want for t in page_lines or ())


def letter_share(text: str) -> float:
    chars = [c for c in text if not c.isspace()]
    return sum(c.isalpha() for c in chars) / len(chars) if chars else 0.0


@dataclass(frozen=True)
class Answerability:
    """What the answerability rules read, for one pair on its best page."""

    answer_match: float  # 0-1: the answer printed on the page (yes/no: the question's statement)
    context_support: float  # 0-1: question content words found around the answer
    context_margin: float  # support at the answer minus the best support anywhere else (<= 0 when elsewhere wins)
    empty_slot: str | None
    slot_not_a_key: str | None
    row_label_problem: str | None
    answer_not_text: str | None  # a title/summary answer that is no title (see `title_problem`)
    answer_echoes_question: bool
    page: int | None


def _slots(question: str, answer: str, page: PageLayout | None) -> tuple[str | None, str | None, str | None]:
    """(empty slot, slot that is no key, row-label problem) of a template question."""
    for pattern in TABLE_CELL:
        m = pattern.match(question.strip())
        if m:
            col = slot_problem(m["col"], "column header")
            if col is None and page is not None and printed_lines(m["col"], page.lines) > 1:
                col = f"column header {m['col'].strip()!r} is printed on {printed_lines(m['col'], page.lines)} lines"
            row = row_label_problem(m["row"], page.lines if page is not None else None)
            empty = next((p for p in (col, row) if p and p.startswith("empty")), None)
            return empty, col if col and not col.startswith("empty") else None, \
                row if row and not row.startswith("empty") else None
    if SECTION.search(question.strip()):
        return None, heading_problem(answer, page), None
    m = KEY.match(question.strip())
    if m and not FIXED.match(question.strip()):
        key = m["key"] if m["key"] is not None else m["ko_key"]
        problem = slot_problem(key, "key") or (None if content_words(key) else f"key {key!r} names nothing")
        if problem and problem.startswith("empty"):
            return problem, None, None
        return None, problem, None
    return None, None, None


def heading_problem(answer: str, page: PageLayout | None) -> str | None:
    """A section heading stands on its own line: it is no sentence fragment, and where the page
    has boxes no paragraph line continues it at the same left edge (that is a numbered item)."""
    if is_fragment(answer):
        return f"heading is a sentence fragment: {answer.strip()[:80]!r}"
    if page is not None and runs_on(page, answer):
        return f"heading runs on into a paragraph (a numbered item, not a section): {answer.strip()[:80]!r}"
    return None


def runs_on(page: PageLayout, text: str) -> bool:
    """Every place `text` is printed is the first line of a paragraph: a line right below it
    starts at its left edge (and is not the next numbered heading)."""
    if page.boxes is None:
        return False
    _, hits = page.answer_hits(text)
    for hit in hits:
        x, y, w, h = page.boxes[max(hit, key=lambda i: page.boxes[i][1])]
        if not any(continues((x, y, w, h), b) and j not in hit and not re.match(r"\d+(?:\.\d+)*\.\s", page.lines[j])
                   for j, b in enumerate(page.boxes)):
            return False
    return bool(hits)


def continues(line: Sequence[float], below: Sequence[float]) -> bool:
    """`below` is the next line of `line`'s paragraph: right under it, and either starting at its
    left edge with `line` filled (text wrapped there; a short heading over a wider paragraph stands
    alone) or, in justified text (a first line beside a drop cap), ending at its right edge."""
    x, y, w, h = line
    x2, y2, w2, _ = below
    if not 0 <= y2 - (y + h) < 0.6 * h:
        return False
    return (abs(x2 - x) < RUN_ON_INDENT and w >= FILLED * w2) or (abs(x2 + w2 - x - w) < RUN_ON_INDENT / 5
                                                                  and w2 > w / 2)


def _short_answer_place(page: PageLayout, answer: str, words: list[str]) -> tuple[float, float, float]:
    """(answer match, support at the answer, margin over the best place without it)."""
    match, hits = page.answer_hits(answer)
    if not hits:
        return match, 0.0, 0.0
    if not words:
        return match, 1.0, 0.0
    at = max(page.support(words, h) for h in hits)
    holding = set().union(*hits)
    elsewhere = max((page.support(words, {i}) for i in range(len(page.lines))
                     if i not in holding and not (page.near[i] >= set(tokens(answer)))), default=0.0)
    return match, at, round(at - elsewhere, 4)


def _near(toks: list[str]) -> list[str]:
    """The tokens next to a blank, up to BLANK_CONTEXT_CHARS characters (CJK tokens are single
    characters, so a token count alone would be too little context in those scripts)."""
    out, size = [], 0
    for t in toks:
        if size >= BLANK_CONTEXT_CHARS:
            break
        out.append(t)
        size += len(t)
    return out


def blank_fillings(page: PageLayout, text: str, answer: str) -> set[str]:
    """What the page prints in the blank of `text` (left ___ right): a question-only extractive
    reading. Every place the words around the blank are printed gives one filling."""
    left, _, right = text.partition("___")
    lt, rt = _near(tokens(left)[::-1])[::-1], _near(tokens(right))
    width = len(tokens(answer)) + 3
    joined = " " + " ".join(page.flat) + " "
    gap = rf"((?:\S+ ){{1,{width}}}?)"
    if lt and rt:
        pattern = rf" {re.escape(' '.join(lt))} {gap}{re.escape(' '.join(rt))} "
    elif lt:
        pattern = rf" {re.escape(' '.join(lt))} ((?:\S+ ){{{len(tokens(answer))}}})"
    elif rt:
        pattern = rf" ((?:\S+ ){{{len(tokens(answer))}}}){re.escape(' '.join(rt))} "
    else:
        return set()
    return {m.strip() for m in re.findall(f"(?={pattern})", joined)}


def _blank_place(page: PageLayout, question: str, answer: str) -> tuple[float, float, float]:
    """A fill-in-the-blank pair: the sentence with the answer filled in must be printed, the words
    around the blank must pin it down, and reading the blank off the page must give the answer
    alone (margin -1 when the same words surround another filling elsewhere)."""
    m = re.search(r'"(?P<text>.*)"', question, re.S)
    if not m or "___" not in m["text"]:
        return 0.0, 0.0, 0.0
    match, _ = page.answer_hits(m["text"].replace("___", answer))
    context = content_words(m["text"].replace("___", " "), answer)
    support = match if len(context) >= MIN_BLANK_CONTEXT else match * len(context) / MIN_BLANK_CONTEXT
    fillings = blank_fillings(page, m["text"], answer)
    agrees = fillings <= {" ".join(tokens(answer))}
    return match, round(support, 4), 0.0 if agrees else -1.0


def assess_page(question: str, answer: str, page: PageLayout) -> tuple[float, float, float]:
    """(answer match, context support, context margin) of a pair on one page."""
    form = question_form(question)
    ans = normalise(answer).strip(".! ")
    if ans in YES_NO:  # a statement needs a subject and a claim: two content words at least
        words = content_words(question)
        best = max((page.support(words, {i}) for i in range(len(page.lines))), default=0.0)
        return best, best if len(words) >= MIN_STATEMENT_WORDS else 0.0, 0.0
    if form == "fill_blank":
        return _blank_place(page, question, answer)
    words = content_words(question, answer)
    if word_count(answer) > LONG_ANSWER_WORDS or form == "summary":  # composed, not a printed span
        recall_words = [w for w in dict.fromkeys(tokens(answer)) if w not in STOPWORDS]
        recall = sum(page.found(w) for w in recall_words) / len(recall_words) if recall_words else 0.0
        return round(recall, 4), 1.0 if not words else max(
            (page.support(words, {i}) for i in range(len(page.lines))), default=0.0), 0.0
    place = _short_answer_place(page, answer, words)
    core = answer_core(question, answer)
    if place[0] < 1.0 and core and core != normalise(answer):  # "The subtotal is 3,207.80": judge "3,207.80"
        place = max(place, _short_answer_place(page, core, content_words(question, core)))
    return place


def answer_core(question: str, answer: str) -> str:
    """The answer less the words it repeats from its question, so a full-sentence answer is judged
    by the span it adds ("The subtotal is 3,207.80" -> "3,207.80"); numbers always stay."""
    asked = set(tokens(question))
    return " ".join(t for t in tokens(answer) if t not in asked or _is_number(t))


def assess(question: str, answer: str, pages: Sequence[PageLayout]) -> Answerability:
    """The pair measured on each page; the page kept is the one that prints the answer (match >=
    PRINTED) with the best-supported context."""
    best: tuple[tuple[float, float, float], int | None] = ((0.0, 0.0, 0.0), None)
    for i, page in enumerate(pages):
        got = assess_page(question, answer, page)
        if (got[0] >= PRINTED, got[1], got[2], got[0]) > (best[0][0] >= PRINTED, *best[0][1:], best[0][0]):
            best = (got, i)
    (match, support, margin), page_no = best
    page = pages[page_no] if page_no is not None else None
    empty, not_key, row_problem = _slots(question, answer, page)
    if not_key is None and question_form(question) != "fill_blank" and _unbalanced(question):
        not_key = f"question has unbalanced brackets: {question.strip()[:80]!r}"
    form = question_form(question)
    ans = normalise(answer).strip(".! ")
    not_text = title_problem(answer, page) if form == "summary" or FIXED.match(question.strip()) else None
    q_norm = f" {' '.join(tokens(question))} "
    echoes = ans not in YES_NO and form != "fill_blank" and bool(tokens(answer)) and \
        f" {' '.join(tokens(answer))} " in q_norm
    return Answerability(round(match, 4), round(support, 4), round(margin, 4), empty, not_key, row_problem,
                         not_text, echoes, page_no)
