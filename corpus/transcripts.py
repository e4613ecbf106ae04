"""Transcripts and their WebVTT subtitles.

The contract the pipeline relies on: the cue texts of `<video_id>.en.vtt`, joined with single spaces,
are exactly the row's `text`, and `word_count == len(text.split())`. Cue times are what a
question writer cites as timestamps, and the audio track carries a tone exactly while a cue is open.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from corpus.topics import ForeignText, Topic

MAX_CUE_WORDS = 12
SPEECH_RATE = 2.6  # words per second while someone is talking


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def word_count(text: str) -> int:
    return len(text.split())


def _words(sentences: list[str]) -> int:
    return sum(word_count(s) for s in sentences)


def compose(topic: Topic, channel: str, rng: random.Random, n_words: int, exact: bool = False) -> list[str]:
    """Sentences for one talk: intro, an ordered random subset of the pool, outro.

    The subset keeps the pool's order so the talk still reads in sequence; a talk longer than the
    pool goes round it again (only the > 10 min videos need that). `exact` cuts the talk at
    `n_words` words, for rows whose point is their word count (the `> 50` boundary, speech-light).
    """
    intro = topic.intro.format(channel=channel)
    body: list[str] = []
    budget = n_words - word_count(intro) - word_count(topic.outro)
    pool = list(topic.sentences)
    while _words(body) < budget:
        order = rng.sample(range(len(pool)), len(pool))
        taken: list[int] = []
        for i in order:
            if _words(body) + sum(word_count(pool[j]) for j in taken) >= budget:
                break
            taken.append(i)
        body.extend(pool[i] for i in sorted(taken))
        if len(taken) < len(pool):
            break
    sentences = [intro, *body, topic.outro]
    if exact:
        sentences = _cut(sentences, n_words)
    return sentences


def compose_foreign(text: ForeignText, n_words: int) -> list[str]:
    out: list[str] = []
    while _words(out) < n_words:
        out.extend(text.sentences)
    return _cut(out, n_words)


def _cut(sentences: list[str], n_words: int) -> list[str]:
    out: list[str] = []
    left = n_words
    for s in sentences:
        w = s.split()
        if len(w) >= left:
            last = " ".join(w[:left])
            out.append(last if last[-1] in ".?!" else last.rstrip(",;:") + ".")
            return out
        out.append(s)
        left -= len(w)
    return out


def join(sentences: list[str]) -> str:
    return " ".join(" ".join(s.split()) for s in sentences)


def layout_cues(
    sentences: list[str], duration_s: float, rate: float = SPEECH_RATE, lead_in: float = 0.6
) -> list[Cue]:
    """Spread cues over the video: each sentence split into cues of at most 12 words, each cue as
    long as it takes to say at `rate`, the silence shared out between cues (so a speech-light video
    has long pauses, not slow speech)."""
    chunks: list[str] = []
    for s in sentences:
        w = s.split()
        for i in range(0, len(w), MAX_CUE_WORDS):
            chunks.append(" ".join(w[i : i + MAX_CUE_WORDS]))
    if not chunks:
        return []
    available = max(duration_s - 2 * lead_in, 1.0)
    talk = [max(word_count(c) / rate, 0.8) for c in chunks]
    scale = min(1.0, available / sum(talk))
    talk = [t * scale for t in talk]
    gap = (available - sum(talk)) / len(chunks)
    cues, t = [], lead_in + gap / 2
    for c, d in zip(chunks, talk, strict=True):
        cues.append(Cue(round(t, 3), round(t + d, 3), c))
        t += d + gap
    return cues


def _ts(t: float) -> str:
    ms = round(t * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


_LABEL = re.compile(r"^((?:[A-Z][\w.]*)(?: [A-Z][\w.]*){0,2}): (.*)$")


def mark_speaker(text: str, style: str) -> str:
    """A cue's `Name: text` as subtitle files write turns: kept as a label, a WebVTT voice tag
    (`<v Name>text`), or a dialogue dash (`- text`, the name left to the listener)."""
    m = _LABEL.match(text)
    if m is None or style == "label":
        return text
    if style == "voice":
        return f"<v {m[1]}>{m[2]}"
    if style == "dash":
        return f"- {m[2]}"
    raise ValueError(f"unknown speaker style {style!r}")


def write_vtt(cues: list[Cue], path: Path, language: str = "en", speaker_style: str = "label") -> None:
    parts = [f"WEBVTT\nKind: captions\nLanguage: {language}\n"]
    parts += [f"{_ts(c.start)} --> {_ts(c.end)}\n{mark_speaker(c.text, speaker_style)}\n" for c in cues]
    path.write_text("\n".join(parts), encoding="utf-8")


_TIME = re.compile(r"(\d+):(\d\d):(\d\d)\.(\d{3})")


def read_vtt(path: Path) -> list[Cue]:
    """Inverse of `write_vtt`, enough for checks; the pipeline has its own parser."""
    cues: list[Cue] = []
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    for block in blocks:
        lines = block.strip().splitlines()
        if len(lines) < 2 or "-->" not in lines[0]:
            continue
        a, b = (_TIME.search(x) for x in lines[0].split("-->"))
        start, end = (int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]) + int(m[4]) / 1000 for m in (a, b))
        cues.append(Cue(start, end, " ".join(lines[1:])))
    return cues
