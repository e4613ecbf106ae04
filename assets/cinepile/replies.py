"""Options and replies the way lmms-eval's CinePile task shows and reads them (no model here).

- Rotation k shows `choices[-k:] + choices[:-k]`, so over k = 0..4 the key visits every slot once.
- `parse_reply` / `score_reply` follow lmms-eval: strip `*`; a bare letter A-E is the answer; else
  `Answer: X` (optionally `X)` or `X.` and the option's text, which must then match the key's text);
  with no letter, the reply's text must equal the key's text. Unparseable = wrong.

Kept apart from the answerers (`answering.py`), so the tables that score replies do not depend on
how an offline answerer picks an option.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assets.cinepile.mcq import LETTERS, N_CHOICES


def rotate(choices: Sequence[str], k: int) -> list[str]:
    """Rotation k: choices[-k:] + choices[:-k] (k = 0 is the original order)."""
    k %= len(choices)
    return list(choices[-k:]) + list(choices[:-k]) if k else list(choices)


def rotated_key(position: int, k: int, n: int = N_CHOICES) -> int:
    """Where the key at `position` sits in rotation k."""
    return (position + k) % n


def letter(position: int) -> str:
    return LETTERS[position]


def parse_reply(reply: str | None) -> tuple[str | None, str]:
    """(letter or None, option text) the way lmms-eval's CinePile task reads a reply."""
    s = (reply or "").replace("*", "").strip()
    if re.match(r"^[A-E]$", s, re.IGNORECASE):
        return s.upper(), ""
    # lmms-eval's pattern, except that the option text must be on the answer's own line: its `\s*`
    # crosses the newline, so the recipe's own "Answer: B\nRationale: ..." format scored as wrong
    m = re.search(r"Answer:\s*([A-E])\)?\.?[ \t]*(.*)", s, re.IGNORECASE)
    if m:
        return m.group(1).upper(), m.group(2).strip()
    return None, s


def score_reply(reply: str | None, key_position: int, key_text: str) -> tuple[bool, str | None]:
    """(correct, parsed letter): lmms-eval's rule, including the text checks."""
    got, text = parse_reply(reply)
    want = letter(key_position)
    if got is not None:
        if got != want:
            return False, got
        return (text.lower() == key_text.lower()) if text else True, got
    return text.lower() == key_text.lower() and bool(text), None


def format_options(question: str, choices: Sequence[str]) -> str:
    """lmms-eval's layout: the question, then `- A) option` lines."""
    return f"{question}\n" + "".join(f"- {letter(i)}) {c}\n" for i, c in enumerate(choices))
