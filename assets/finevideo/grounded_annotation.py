"""FineVideo's annotation schema filled from what was measured, without a model.

Every field comes from a signal: scenes from the detected cuts, cast and characters from the speaker
names in the transcript, narrative moments and Q/A pairs from the timed subtitle cues,
`dynamismScore` from the dynamism screen's per-second motion, `audioVisualCorrelation` from how much
of a scene is covered by speech, the mood from embedding similarity of the scene's speech to the 15
moods, trimming suggestions from long silences (frozen or not). A field nothing grounds (props,
activities, what a character looks like) stays empty rather than invented.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assets.finevideo.annotation_schema import (
    MOODS,
    QA_PAIRS,
    Character,
    CharacterInteraction,
    Climax,
    KeyMoment,
    Mood,
    NarrativeProgression,
    QAndA,
    Scene,
    Schema,
    Storyline,
    Timestamps,
    TrimmingSuggestion,
    VideoEditingDetail,
)
from assets.finevideo.shot_frames import scene_spans
from assets.finevideo.subtitles import Cue, sentences
from assets.finevideo.timestamps import format_timestamp

Encode = Callable[[list[str]], np.ndarray]

MOTION_SCALE = 0.01  # per-second mean absolute luma change (0-1) at which dynamism reaches 1 - 1/e
SILENCE_S = 5.0  # a stretch without speech this long is a trimming candidate
MOOD_CHANGE_MARGIN = 0.05  # a cue's mood must beat the running mood by this much to count as a change
NARRATIVE_PER_SCENE = 3
KEY_MOMENTS_PER_SCENE = 3
_NUMBER = re.compile(
    r"\b(\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|sixty|hundred|thousand|half)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class VideoSignals:
    title: str
    duration_s: float
    cues: Sequence[Cue]
    cuts_s: Sequence[float]
    motion_per_second: Sequence[float]
    freeze_intervals: Sequence[tuple[float, float]] = ()
    category: str = ""  # the taxonomy leaf, the one theme that is grounded
    transcript: str = ""


def speaker(c: Cue) -> str | None:
    """Who says the cue: its turn's speaker (voice tag, dash turn, `Name:` or `[Name]` label; see
    speakers.py), never guessed from the words."""
    return c.speaker


def covered_fraction(intervals: Sequence[tuple[float, float]], a: float, b: float) -> float:
    """Share of [a, b] inside the union of `intervals`."""
    if b <= a:
        return 0.0
    clipped = sorted((max(s, a), min(e, b)) for s, e in intervals if min(e, b) > max(s, a))
    total, cur_s, cur_e = 0.0, None, None
    for s, e in clipped:
        if cur_e is None or s > cur_e:
            total += (cur_e - cur_s) if cur_e is not None else 0.0
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    total += (cur_e - cur_s) if cur_e is not None else 0.0
    return total / (b - a)


def dynamism(motion: Sequence[float], a: float, b: float) -> float:
    """1 - exp(-m / MOTION_SCALE) for the median per-second motion m of the seconds in [a, b): the
    median, because the second holding a cut carries the cut's jump, which is not motion."""
    seconds = [m for i, m in enumerate(motion) if a - 1 < i < b and m is not None]
    typical = float(np.median(seconds)) if seconds else 0.0
    return round(1.0 - math.exp(-typical / MOTION_SCALE), 3)


def silences(cues: Sequence[Cue], duration_s: float) -> list[tuple[float, float]]:
    out, t = [], 0.0
    for c in sorted(cues, key=lambda c: c.start):
        if c.start - t >= SILENCE_S:
            out.append((t, c.start))
        t = max(t, c.end)
    if duration_s - t >= SILENCE_S:
        out.append((t, duration_s))
    return out


def cloze(text: str) -> tuple[str, str] | None:
    """(sentence with its first number blanked, the number), or None without a number."""
    m = _NUMBER.search(text)
    if not m:
        return None
    return text[: m.start()] + "___" + text[m.end() :], m.group(0)


def qa_pairs(cues: Sequence[Cue]) -> list[QAndA]:
    """Up to five checkable pairs spread over the video: numbers first, then who said what."""
    def when(c: Cue) -> str:
        return "" if c.estimated else f" (at {format_timestamp(c.start)[3:8]})"

    numbers = [(c, q) for c in cues if (q := cloze(c.text))]
    pairs = [
        QAndA(question=f'What number completes what is said in the video{when(c)}: "{blank}"?', answer=n)
        for c, (blank, n) in _spread(numbers, QA_PAIRS)
    ]
    said = [c for c in cues if speaker(c)]
    for c in _spread(said, QA_PAIRS - len(pairs)):
        pairs.append(QAndA(question=f'Who says "{c.text}"{when(c)}?', answer=speaker(c)))
    return pairs


def _spread(items: list, n: int) -> list:
    if n <= 0 or not items:
        return []
    if len(items) <= n:
        return list(items)
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)] if n > 1 else [items[0]]


def mood_vectors(encode: Encode) -> np.ndarray:
    return encode([f"{name}: {text}" for name, text in MOODS.items()])


def scene_mood(scores: np.ndarray, said: Sequence[Cue]) -> Mood:
    """The mood closest on average to the scene's sentences (`scores`: sentences x moods), and the
    moments where two sentences in a row agree on another mood by at least MOOD_CHANGE_MARGIN."""
    names = list(MOODS)
    if not said:
        return Mood(description="", keyMoments=[])
    running, moments = int(np.argmax(scores[0])), []
    for k in range(1, len(said) - 1):
        now = scores[k]
        best = int(np.argmax(now))
        if (best != running and int(np.argmax(scores[k + 1])) == best
                and now[best] - now[running] >= MOOD_CHANGE_MARGIN and len(moments) < KEY_MOMENTS_PER_SCENE):
            moments.append(KeyMoment(timestamp=format_timestamp(said[k].start),
                                     changeDescription=f"speech turns from {names[running]} to {names[best]}"))
            running = best
    return Mood(description=names[int(np.argmax(scores.mean(axis=0)))], keyMoments=moments)


def annotate(v: VideoSignals, encode: Encode, moods: np.ndarray | None = None) -> Schema:
    if not v.motion_per_second:
        raise ValueError("no per-second motion measured for this video; dynamism cannot be grounded")
    moods = mood_vectors(encode) if moods is None else moods
    spans = scene_spans(v.cuts_s, v.duration_s)
    said_in: list[list[Cue]] = [[] for _ in spans]
    for c in sentences(list(v.cues)):
        mid = (c.start + c.end) / 2
        k = next((k for k, (a, b) in enumerate(spans) if a <= mid < b), len(spans) - 1)
        said_in[k].append(c)
    # one encode call for every sentence (short texts: a scene's whole speech would cost 10x more)
    texts = [c.text for said in said_in for c in said]
    scores = encode(texts) @ moods.T if texts else np.zeros((0, len(MOODS)), dtype=np.float32)
    speech = [(c.start, c.end) for c in v.cues]

    scenes: list[Scene] = []
    at = 0
    for i, ((a, b), said) in enumerate(zip(spans, said_in, strict=True), start=1):
        mood = scene_mood(scores[at : at + len(said)], said)
        at += len(said)
        cast = list(dict.fromkeys(n for c in said if (n := speaker(c))))
        turns = sum(1 for c in said if speaker(c))
        scenes.append(Scene(
            sceneId=i,
            title=" ".join(said[0].text.split()[:8]) if said else "",
            timestamps=Timestamps(start_timestamp=format_timestamp(a), end_timestamp=format_timestamp(b)),
            cast=cast,
            videoEditingDetails=[] if i == 1 else [VideoEditingDetail(
                description="hard cut (content detector)",
                timestamps=Timestamps(start_timestamp=format_timestamp(a), end_timestamp=format_timestamp(a)))],
            mood=mood,
            narrativeProgression=[
                NarrativeProgression(description=c.text, timestamp=format_timestamp(c.start))
                for c in _spread(said, NARRATIVE_PER_SCENE)
            ],
            characterInteraction=[CharacterInteraction(
                characters=cast,
                description=f"{', '.join(cast[:-1])} and {cast[-1]} speak in turn ({turns} turns)",
            )] if len(cast) > 1 else [],
            thematicElements=v.category,
            dynamismScore=dynamism(v.motion_per_second, a, b),
            audioVisualCorrelation=round(covered_fraction(speech, a, b), 3),
        ))

    speakers = list(dict.fromkeys(n for sc in scenes for n in sc.cast))
    characters = [
        Character(characterId=f"speaker_{k}", name=n,
                  description="named speaker in the transcript, heard in scenes "
                  + ", ".join(str(sc.sceneId) for sc in scenes if n in sc.cast))
        for k, n in enumerate(speakers, start=1)
    ]
    peak = int(np.argmax(v.motion_per_second))
    told = [s for s in _SENTENCE.split(v.transcript.strip()) if s] or [c.text for c in v.cues]
    return Schema(
        title=v.title,
        description=" ".join(told[:2])[:400],
        characterList=characters,
        scenes=scenes,
        storylines=Storyline(
            description=" ... ".join(dict.fromkeys([told[0], told[-1]]))[:400] if told else "",
            scenes=[sc.sceneId for sc in scenes],
            climax=Climax(description=f"peak of on-screen motion ({v.motion_per_second[peak]:.3f})",
                          timestamp=format_timestamp(min(peak + 0.5, v.duration_s))),
        ),
        qAndA=qa_pairs([c for said in said_in for c in said]),
        trimmingSuggestions=[
            TrimmingSuggestion(
                timestamps=Timestamps(start_timestamp=format_timestamp(a), end_timestamp=format_timestamp(b)),
                description=f"{b - a:.0f} s without speech"
                + (" on a frozen picture" if covered_fraction(v.freeze_intervals, a, b) >= 0.5 else ""),
            )
            for a, b in silences(v.cues, v.duration_s)
        ],
    )
