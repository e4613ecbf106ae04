"""Timed speech for the grounded annotator: WebVTT cues, or the transcript spread over the video.

YouTube's VTT files carry styling tags, `align:` settings and, for auto captions, rolling cues that
repeat the previous line; the parser strips tags and drops a line that only repeats the one before.
Without a subtitle file, the transcript's sentences are spread over the duration in proportion to
their length, and the cues say they are `estimated` so nothing downstream mistakes them for timing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIMING = re.compile(
    r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})\s*-->\s*(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{3})"
)
_TAG = re.compile(r"<[^>]+>")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str
    estimated: bool = False


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_vtt(text: str) -> list[Cue]:
    cues: list[Cue] = []
    previous = ""
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [ln.strip() for ln in block.strip().split("\n")]
        at = next((i for i, ln in enumerate(lines) if _TIMING.search(ln)), None)
        if at is None:
            continue
        g = _TIMING.search(lines[at]).groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        body = []
        for ln in (_TAG.sub("", x).strip() for x in lines[at + 1 :]):
            if ln and ln != previous:  # rolling captions repeat the line before
                body.append(ln)
                previous = ln
        if not body or end <= start:
            continue
        cues.append(Cue(start, end, " ".join(body)))
    return sorted(cues, key=lambda c: c.start)


def estimated_cues(transcript: str, duration_s: float) -> list[Cue]:
    """Sentences laid end to end over the video, each as long as its share of the words."""
    sentences = [s.strip() for s in _SENTENCE.split(transcript or "") if s.strip()]
    words = [max(1, len(s.split())) for s in sentences]
    total = sum(words)
    cues, t = [], 0.0
    for s, w in zip(sentences, words, strict=True):
        d = duration_s * w / total
        cues.append(Cue(round(t, 3), round(t + d, 3), s, estimated=True))
        t += d
    return cues


def sentences(cues: list[Cue], max_words: int = 60) -> list[Cue]:
    """Cues joined into whole sentences (captions break lines mid-sentence), timed from the first
    cue's start to the last one's end; a run without final punctuation stops at `max_words`."""
    out: list[Cue] = []
    run: list[Cue] = []
    for c in cues:
        run.append(c)
        text = " ".join(x.text for x in run)
        if text.rstrip().endswith((".", "!", "?", '"')) or len(text.split()) >= max_words:
            out.append(Cue(run[0].start, run[-1].end, text, any(x.estimated for x in run)))
            run = []
    if run:
        out.append(Cue(run[0].start, run[-1].end, " ".join(x.text for x in run), any(x.estimated for x in run)))
    return out
