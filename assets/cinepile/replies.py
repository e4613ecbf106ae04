"""Options and replies the way lmms-eval's CinePile task shows and reads them (no model here), and a
lenient reading next to it.

- Rotation k shows `choices[-k:] + choices[:-k]`, so over k = 0..4 the key visits every slot once.
- `parse_reply` / `score_reply` are lmms-eval's reading, unchanged (`lmms_eval_scoring.py`): strip
  `*`; a bare letter A-E is the answer; else `Answer: X` anywhere (optionally `X)` or `X.` and the
  rest of the line, which must then match the key's text: past `Answer: X` and a line break, the
  next line is that text, so "Answer: B\nRationale: ..." is wrong); with no letter the reply's text
  must equal the key's. Unparseable = wrong. "B.", "(B)" and "The answer is B" are unparseable there.
- `parse_lenient` reads what a person would read as a choice (grammar in its docstring). It is a
  second column; the leaderboard's headline stays lmms-eval's.

Kept apart from the answerers (`answering.py`), so the tables that score replies do not depend on
how an offline answerer picks an option.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assets.cinepile.lmms_eval_scoring import evaluate_semantic_similarity, normalize_string
from assets.cinepile.mcq import LETTERS, N_CHOICES, norm


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
    """(letter or None, option text) the way lmms-eval's CinePile task reads a reply (no reply: none)."""
    return normalize_string(reply or "")


def score_reply(reply: str | None, key_position: int, key_text: str) -> tuple[bool, str | None]:
    """(correct, parsed letter): lmms-eval's rule, including the text checks. No reply (a failed
    call) is wrong; lmms-eval never sees one."""
    if reply is None:
        return False, None
    correct, got, _ = evaluate_semantic_similarity(reply, letter(key_position), key_text)
    return bool(correct), got


# A choice named as a token: "(B)" or "(b)", "B)", or a bare capital B that ends there (end, punctuation,
# a line break, a verb or a conjunction: "Option B is right"). A bare capital A before any other word is
# the article ("A dog").
_TOKEN = (r"(?:\((?P<paren>[A-Ea-e])\)|(?P<closed>[A-E])\)"
          r"|(?P<bare>[A-E])(?=[ \t]*(?:$|\n|[^\w\s]|(?:is|was|would|seems|since|because|or|and)\b)))")
_CUES = [re.compile(r"(?i:\b" + cue + r")\s*[:\-]?\s*" + _TOKEN + r"(?=(?P<rest>[^\n]*))")
         for cue in (r"answer(?:\s+is)?", r"(?:option|choice)")]
_ALONE = re.compile(r"\(?([A-Ea-e])\)?[.:)]?")
_LABELLED = re.compile(r"(?:\((?P<paren>[A-Ea-e])\)|(?P<label>[A-E])[).:](?=\s|$))\s*(?P<rest>.*)", re.DOTALL)
_SAID = re.compile(r"(?i:\banswer(?:\s+is)?)\s*[:\-]?\s*(?P<rest>[^\n]+)")


def _text_key(text: str) -> str:
    """An option's text for comparison: `mcq.norm` (case and punctuation folded), a leading article dropped."""
    words = norm(text).split()
    return " ".join(words[1:] if len(words) > 1 and words[0] in ("a", "an", "the") else words)


def _option_named(text: str, choices: Sequence[str]) -> int | None:
    """The one option whose text `text` is (case-insensitively, then after `_text_key`), else None."""
    for key in (lambda t: t.strip().lower(), _text_key):
        hits = [i for i, c in enumerate(choices) if key(c) == key(text)]
        if hits:
            return hits[0] if len(hits) == 1 else None
    return None


def _consistent(got: str, rest: str, choices: Sequence[str]) -> str | None:
    """`got`, unless the text after it names another option (a reply that contradicts itself)."""
    named = _option_named(rest, choices) if rest.strip() else None
    return got if named is None or LETTERS[named] == got else None


def parse_lenient(reply: str | None, choices: Sequence[str]) -> str | None:
    """The letter of the option a reply chooses, read leniently, or None. In order:
    1. lmms-eval's letter, when the text it read after it is empty or that option's text;
    2. the whole reply is one option's text ("the red car" for "The red car");
    3. the whole reply is a letter: "B", "b", "B.", "(B)", "B)";
    4. the reply starts with a labelled option: "B) a dog", "(B) a dog", "B. a dog", "B: a dog";
    5. a cue and a choice token anywhere: "The answer is (B).", "Answer: B\nRationale: ...", "**Answer:** B",
       else "Option B", "choice (b)"; cues of one kind naming different letters are no answer;
    6. the text after "Answer:" / "The answer is" is one option's text.
    A letter is read only from a token (capital, in parentheses, or with its closing bracket or full
    stop), never from a word: "a dog" and "each of them" are not A and E, and "A dog" is the article,
    so they count only as option texts (2, 6). In 4 and 5, text after the letter that is another
    option's text makes the reply contradict itself: no answer. Whatever lmms-eval scores right,
    this reads as the same option."""
    if not reply or not reply.strip():
        return None
    s = reply.replace("*", "").strip()
    got, text = normalize_string(reply)
    if got is not None and (not text or _text_key(text) == _text_key(choices[LETTERS.index(got)])):
        return got
    named = _option_named(s, choices)
    if named is not None:
        return LETTERS[named]
    if m := _ALONE.fullmatch(s):
        return m.group(1).upper()
    if m := _LABELLED.match(s):
        return _consistent((m["paren"] or m["label"]).upper(), m["rest"], choices)
    for cue in _CUES:
        cued = [((m["paren"] or m["closed"] or m["bare"]).upper(), m["rest"]) for m in cue.finditer(s)]
        if cued:
            return _consistent(*cued[-1], choices) if len({g for g, _ in cued}) == 1 else None
    said = _SAID.findall(s)
    named = _option_named(said[-1], choices) if said else None
    return LETTERS[named] if named is not None else None


def format_options(question: str, choices: Sequence[str]) -> str:
    """lmms-eval's layout: the question, then `- A) option` lines."""
    return f"{question}\n" + "".join(f"- {letter(i)}) {c}\n" for i, c in enumerate(choices))
