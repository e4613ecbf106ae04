"""The answerers of a multiple-choice question: the offline blind answerer and the scene reader.

- The offline blind answerer sees question + options only and combines classic text-only baselines
  into one score per option: option length, lexical overlap with the question, embedding similarity
  to the question, and distinctiveness (dissimilarity to the other options), each as a z-score
  across the options. It answers the top option when it leads by `BlindParams.blind_margin`; with no
  clear cue it answers the first of the near-tied options in the order shown, the position bias LLMs
  have, so a cue-free question is answered correctly in exactly one of its five rotations.
- The offline context-aware answerer reads the scene text (`scenes.scene_text`): it finds the
  moment the question points at (a quoted line or a mm:ss time), locates every option in the scene
  (a line, a speaker, a time, an attribute), and picks the option whose place fits the question's
  relation (who said it, right after, before, at that time, first, the scene's mood...). Options it
  cannot find in the scene get no support.

How options are shown and replies read (rotations, lmms-eval's parser) is `replies.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from assets.cinepile.mcq import norm
from assets.cinepile.replies import format_options, letter, parse_reply
from assets.cinepile.scenes import Entry, parse_scene_text
from assets.cinepile.vectors import Encode
from assets.kit.task import Task

BLIND_WEIGHTS = {"length": 1.0, "overlap": 1.0, "similarity": 1.0, "distinct": 0.5}
STOP = frozenset(["a", "an", "the", "of", "to", "in", "on", "at", "is", "are", "was", "were", "be", "been", "it", "this", "that", "these", "those", "what", "which", "who", "whom", "why", "how", "when", "where", "does", "do", "did", "says", "said", "say", "and", "or", "but", "with", "for", "from", "by", "as", "about", "there", "their", "his", "her", "its", "into", "than", "then", "so", "not", "no", "yes", "i", "you", "he", "she", "we", "they", "me", "him", "us", "them", "my", "your", "our"])
_WORD = re.compile(r"[a-z0-9']+")
_QUOTED = re.compile(r'"([^"]+)"')
_TIME = re.compile(r"\b(\d\d):(\d\d)\b")


class BlindParams(BaseModel):
    """The offline blind answerer's decision parameter. It changes which questions count as
    degenerate, so it enters the code version of every asset that runs the answerer and is run
    config there."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    blind_margin: float = Field(
        default=1.5, gt=0,
        description="Combined z-score lead over the runner-up at which the offline blind answerer takes an "
                    "option as cued; below it, it answers the first near-tied option shown (0.75 measured: "
                    "89% of degenerate questions fixed, blind accuracy 12%; README).")


def words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOP}


def _z(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def blind_scores(question: str, choices: Sequence[str], vectors: dict[str, np.ndarray]
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Combined cue score per option and each baseline's z-scores (position-invariant)."""
    q = words(question)
    length = np.array([len(c) for c in choices], dtype=float)
    overlap = np.array([len(q & words(c)) / max(1, len(words(c) | q)) for c in choices])
    qv = vectors[question]
    cv = np.stack([vectors[c] for c in choices])
    similarity = cv @ qv
    pair = cv @ cv.T
    distinct = 1.0 - (pair.sum(axis=1) - np.diag(pair)) / (len(choices) - 1)
    parts = {"length": _z(length), "overlap": _z(overlap), "similarity": _z(similarity), "distinct": _z(distinct)}
    total = sum(BLIND_WEIGHTS[k] * v for k, v in parts.items())
    return total, parts


def blind_pick(total: np.ndarray, margin: float) -> int:
    """The leader when it leads by `margin`, else the first near-tied option in shown order."""
    best = float(total.max())
    near = [i for i, v in enumerate(total) if best - v < margin]
    return int(np.argmax(total)) if len(near) == 1 else near[0]


class LetterAnswer(BaseModel):
    answer: str = Field(description="the letter of the chosen option, A-E")
    rationale: str = Field(default="", description="why, in one or two sentences")

    @field_validator("answer")
    @classmethod
    def a_letter(cls, v: str) -> str:
        got, _ = parse_reply(v)
        if got is None:
            raise ValueError(f"answer must be one letter A-E, got {v!r}")
        return got


class BlindAnswerTask(Task):
    """CinePile's deaf-blind test. Item: {"question", "choices"} (already rotated)."""

    name = "cinepile_blind_answer"
    version = "1"
    response_model = LetterAnswer
    offline_model = "text-only-baselines"
    temperature = 0.1

    def __init__(self, encode: Encode, *, encoder: str, margin: float = BlindParams().blind_margin):
        self.encode = encode
        self.encoder = encoder
        self.margin = margin

    def config(self) -> dict[str, Any]:
        return {"encoder": self.encoder, "margin": self.margin, "weights": BLIND_WEIGHTS}

    def offline_model_used(self) -> str:
        return f"{self.offline_model}+{self.encoder}"

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"role": "system", "content": (
                "You answer multiple-choice questions about a movie scene you cannot see or hear. Use only "
                "the question and the options. Reply as 'Answer: X' and 'Rationale: ...'.")},
            {"role": "user", "content": format_options(item["question"], item["choices"])},
        ]

    def offline_batch(self, items: Sequence[dict[str, Any]]) -> list[BaseModel | Exception]:
        texts = list(dict.fromkeys([it["question"] for it in items] + [c for it in items for c in it["choices"]]))
        vectors = dict(zip(texts, self.encode(texts), strict=True)) if texts else {}
        out: list[BaseModel | Exception] = []
        for it in items:
            try:
                out.append(self._answer(it, vectors))
            except Exception as e:  # that item's error only
                out.append(e)
        return out

    def offline(self, item: dict[str, Any]) -> LetterAnswer:
        return self.offline_batch([item])[0]

    def _answer(self, item: dict[str, Any], vectors: dict[str, np.ndarray]) -> LetterAnswer:
        total, parts = blind_scores(item["question"], item["choices"], vectors)
        i = blind_pick(total, self.margin)
        cues = sorted(((k, float(v[i])) for k, v in parts.items() if v[i] > 0.5), key=lambda kv: -kv[1])
        why = ", ".join(f"{k} {v:+.1f} sd" for k, v in cues) or "no option stands out"
        lead = float(total[i] - np.max(np.delete(total, i)))
        return LetterAnswer(answer=letter(i), rationale=f"{why}; lead {lead:+.2f}")


# -- the context-aware reader ---------------------------------------------------------------------

def _match(text: str, entries: Sequence[Entry]) -> tuple[int | None, float]:
    """The entry whose text best matches `text` (token F1) and the score."""
    t = words(text)
    best, score = None, 0.0
    for i, e in enumerate(entries):
        w = words(e.text)
        common = len(t & w)
        if not common:
            continue
        f1 = 2 * common / (len(t) + len(w))
        if f1 > score:
            best, score = i, f1
    return best, score


def _seconds(m: re.Match) -> int:
    return int(m.group(1)) * 60 + int(m.group(2))


def read_scene(question: str, choices: Sequence[str], text: str) -> tuple[int, list[float], str]:
    """(chosen index, support per option, what the reader found)."""
    entries, attrs = parse_scene_text(text)
    q = question.lower()
    anchor: int | None = None
    quoted = _QUOTED.search(question)
    body = quoted.group(1) if quoted else question.split(": ", 1)[1] if "seen: " in question else None
    if body:
        anchor, s = _match(body, entries)
        anchor = anchor if s >= 0.6 else None
    qtime = _TIME.search(question)
    if anchor is None and qtime:
        t = _seconds(qtime)
        at = [i for i, e in enumerate(entries) if e.time == t]
        want_seen = "seen" in q
        at = [i for i in at if entries[i].seen == want_seen] or at
        anchor = at[0] if at else None
    support = []
    for c in choices:
        s = 0.0
        ctime = _TIME.fullmatch(c.strip())
        where, fit = _match(c, entries)
        if ctime is not None:  # a time: right when it names the anchor's time
            s = 1.0 if anchor is not None and entries[anchor].time == _seconds(ctime) else 0.0
        elif any(v and norm(v) == norm(c) for v in attrs.values()):  # an attribute value
            s = 1.0 if any(k in q for k, v in attrs.items() if norm(v) == norm(c)) or "about" in q else 0.5
        elif any(e.speaker and norm(e.speaker) == norm(c) for e in entries):  # a speaker
            if "first" in q:
                named = [e for e in entries if e.speaker]
                s = 1.0 if named and norm(named[0].speaker) == norm(c) else 0.0
            else:
                s = 1.0 if anchor is not None and norm(entries[anchor].speaker or "") == norm(c) else 0.1
        elif where is not None and fit >= 0.6:  # a line or a description of this scene
            if anchor is None:
                s = fit
            elif "after" in q or "next" in q:
                s = 1.0 if where == _next_said(entries, anchor) else 0.0
            elif "before" in q:
                s = 1.0 if entries[where].time <= entries[anchor].time and where != anchor else 0.0
            else:
                s = 1.0 if where == anchor else 0.0
        support.append(s)
    best = max(support)
    chosen = support.index(best)
    found = "no option found in the scene" if best == 0 else (
        f"anchor at {entries[anchor].time // 60:02d}:{entries[anchor].time % 60:02d}" if anchor is not None
        else "matched an option in the scene")
    return chosen, support, found


def _next_said(entries: Sequence[Entry], i: int) -> int | None:
    for j in range(i + 1, len(entries)):
        if not entries[j].seen:
            return j
    return None


class ContextAnswerTask(Task):
    """A context-aware answerer that sees the full scene text. Item: {"question", "choices", "scene_text"}."""

    name = "cinepile_context_answer"
    version = "1"
    response_model = LetterAnswer
    offline_model = "scene-text-reader"
    temperature = 0.0

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"role": "system", "content": (
                "You answer multiple-choice questions about a movie scene from its subtitles and visual "
                "descriptions. Reply as 'Answer: X' and 'Rationale: ...'.")},
            {"role": "user", "content": f"Scene:\n{item['scene_text']}\n\n"
                                        + format_options(item["question"], item["choices"])},
        ]

    def offline(self, item: dict[str, Any]) -> LetterAnswer:
        i, support, found = read_scene(item["question"], item["choices"], item["scene_text"])
        return LetterAnswer(answer=letter(i), rationale=f"{found}; support {support[i]:.2f}")
