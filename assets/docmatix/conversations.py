"""Grounding pairs and page dialogues: the two VARCO-MLLM abilities a document page can teach.

Grounding asks where a text is (answer: its box) and, the other way round, what a box says (referring);
the boxes are PDFA's word and line boxes, so the answer is exact geometry, not a model's guess. Only
texts printed once on the page are used: a repeated text has no single right box. A dialogue is a
page's kept Q/A pairs as one multi-turn conversation, in the order they were generated.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass

from assets.docmatix.pdfa import Box, Page

LINES_PER_PAGE = 4
WORDS_PER_PAGE = 2
_DISTINCT_WORD = re.compile(r"^(?=.*\d)[\w,.:/-]{4,}$|^[A-Z][a-z]{5,}$")


def box_text(box: Box) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in box) + "]"


@dataclass(frozen=True)
class GroundingPair:
    page: int
    kind: str  # "grounding": text -> box, "referring": box -> text
    unit: str  # "line" | "word"
    text: str
    bbox: Box
    user: str
    assistant: str


def _targets(page: Page, rng: random.Random) -> list[tuple[str, str, Box]]:
    lines = list(zip(page["lines"]["text"], page["lines"]["bbox"], strict=True))
    words = list(zip(page["words"]["text"], page["words"]["bbox"], strict=True))
    line_counts = Counter(t.strip() for t, _ in lines)
    word_counts = Counter(t for t, _ in words)
    line_pool = [(t.strip(), b) for t, b in lines
                 if line_counts[t.strip()] == 1 and len(t.split()) >= 2 and b[2] > 0 and b[3] > 0]
    word_pool = [(t, b) for t, b in words if word_counts[t] == 1 and _DISTINCT_WORD.match(t) and b[2] > 0]
    chosen = [("line", t, b) for t, b in rng.sample(line_pool, min(LINES_PER_PAGE, len(line_pool)))]
    taken = {t for _, t, _ in chosen}
    word_pool = [(t, b) for t, b in word_pool if not any(t in line for line in taken)]
    chosen += [("word", t, b) for t, b in rng.sample(word_pool, min(WORDS_PER_PAGE, len(word_pool)))]
    return chosen


def grounding_pairs(layout: list[Page], key: str) -> list[GroundingPair]:
    """Up to LINES_PER_PAGE lines and WORDS_PER_PAGE words per page, each asked both ways."""
    out = []
    for index, page in enumerate(layout):
        rng = random.Random(f"grounding:{key}:{index}")
        for unit, text, box in _targets(page, rng):
            where = box_text(box)
            out.append(GroundingPair(
                index, "grounding", unit, text, box,
                f'Where is the text "{text}" on this page? Give its box as [x, y, w, h] in page units (0-1).',
                where,
            ))
            out.append(GroundingPair(
                index, "referring", unit, text, box,
                f"What text is printed in the box {where} (x, y, width, height in page units)?",
                text,
            ))
    return out
