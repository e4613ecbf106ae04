"""Scenes for question writing: FineVideo's aligned annotation of a video plus its subtitles.

CinePile writes questions from scene text = the scene's subtitles (timestamped dialogue) and its
timestamped visual descriptions. Here a scene is one `Scene` of FineVideo's schema; its dialogue is
the subtitle sentences whose middle falls inside it, each one speaker's turn (from voice tags, dialogue
dashes, `Name:` and `[Name]` labels: assets/finevideo/speakers.py),
and its visual descriptions are the schema's timed fields (activities, props, editing details, mood
key moments) plus the measured scene attributes (mood, on-screen motion, speech coverage, theme).
`scene_text` is exactly what a context-aware answerer is shown, and `parse_scene_text` reads it back,
so the offline reader sees nothing the text does not say.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from assets.finevideo.speakers import label
from assets.finevideo.subtitles import Cue, clip_cues, parse_subtitles, sentences
from assets.finevideo.timestamps import TimestampError, parse_range

MOTION_LEVELS = ("almost no motion", "little motion", "moderate motion", "a lot of motion", "constant motion")
SPEECH_LEVELS = ("almost no speech", "little speech", "speech half of the time", "mostly speech",
                 "speech throughout")


@dataclass(frozen=True)
class Line:
    start: float
    end: float
    speaker: str | None
    text: str  # without the speaker prefix


@dataclass(frozen=True)
class Event:
    time: float
    text: str
    source: str  # activity | prop | editing | mood_moment


@dataclass
class SceneClip:
    video_record_id: str
    video_id: str
    scene_id: int
    start: float
    end: float
    title: str = ""
    lines: list[Line] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    mood: str = ""
    motion: str = ""  # one of MOTION_LEVELS, from dynamismScore
    speech: str = ""  # one of SPEECH_LEVELS, from audioVisualCorrelation
    theme: str = ""


def mmss(seconds: float) -> str:
    """`mm:ss` of the second the time falls in (rounded down, as a player's clock shows it: 24.6 s
    into a 24.6 s video is 00:24, never a 00:25 past its end)."""
    s = max(0, int(seconds + 1e-6))
    return f"{s // 60:02d}:{s % 60:02d}"


def level(value: float | None, names: tuple[str, ...]) -> str:
    """The quintile name of a 0-1 score."""
    if value is None:
        return ""
    return names[min(len(names) - 1, max(0, int(float(value) * len(names))))]


def split_speaker(text: str) -> tuple[str | None, str]:
    """(speaker, line) of a `Speaker: line` (or `[Speaker] line`) as `scene_text` writes it."""
    who, rest, labelled = label(text.strip())
    return (who, rest) if labelled and rest else (None, text.strip())


def cues_from(subtitles: str | None) -> list[Cue]:
    """The speech turns of WebVTT or SubRip text, or nothing."""
    return parse_subtitles(subtitles) if subtitles and "-->" in subtitles else []


def _time(text: str | None, duration: float) -> float | None:
    try:
        return parse_range(text, end_s=duration)[0]
    except TimestampError:
        return None


def scenes_of(video_record_id: str, video_id: str, content_metadata: str, duration_s: float,
              cues: list[Cue]) -> list[SceneClip]:
    """The scenes of one aligned annotation with their dialogue and timed descriptions."""
    content = json.loads(content_metadata)
    said = sentences(clip_cues(cues, duration_s))  # a cue past the video's end is cut there
    out: list[SceneClip] = []
    timed = []
    for sc in content.get("scenes") or []:
        ts = sc.get("timestamps") or {}
        a, b = _time(ts.get("start_timestamp"), duration_s), _time(ts.get("end_timestamp"), duration_s)
        if a is not None and b is not None and b > a:
            timed.append((sc, a, b))
    for k, (sc, a, b) in enumerate(timed):
        # an aligned scene ends at its last frame's timestamp and the next starts one frame later: the
        # time between belongs to this scene (it is showing its last frame), the video's tail to the last
        last = k + 1 == len(timed)
        until = max(b, duration_s) if last else max(b, timed[k + 1][1])

        def inside(t: float, a=a, until=until, last=last) -> bool:
            return a <= t < until or (last and t == until)

        lines = []
        for c in said:
            if inside((c.start + c.end) / 2):
                lines.append(Line(c.start, c.end, c.speaker, c.text))
        events: list[Event] = []
        for act in sc.get("activities") or []:
            events.append(Event(_time((act.get("timestamp") or {}).get("start_timestamp"), duration_s),
                                act.get("description") or "", "activity"))
        for prop in sc.get("props") or []:
            events.append(Event(_time((prop.get("timestamp") or {}).get("start_timestamp"), duration_s),
                                f"{prop.get('name') or ''} is seen", "prop"))
        for ed in sc.get("videoEditingDetails") or []:
            events.append(Event(_time((ed.get("timestamps") or {}).get("start_timestamp"), duration_s),
                                ed.get("description") or "", "editing"))
        for km in (sc.get("mood") or {}).get("keyMoments") or []:
            events.append(Event(_time(km.get("timestamp"), duration_s), km.get("changeDescription") or "",
                                "mood_moment"))
        events = sorted((e for e in events if e.time is not None and e.text.strip() and inside(e.time)),
                        key=lambda e: (e.time, e.text))
        out.append(SceneClip(
            video_record_id=video_record_id, video_id=video_id, scene_id=int(sc.get("sceneId") or len(out) + 1),
            start=a, end=b, title=sc.get("title") or "", lines=lines, events=events,
            mood=(sc.get("mood") or {}).get("description") or "",
            motion=level(sc.get("dynamismScore"), MOTION_LEVELS),
            speech=level(sc.get("audioVisualCorrelation"), SPEECH_LEVELS),
            theme=(sc.get("thematicElements") or "").split(" > ")[-1],
        ))
    return out


def subtitles_text(scene: SceneClip) -> str:
    """The scene's subtitles as CinePile's `subtitles` field: one timed line per sentence."""
    return "\n".join(f"{mmss(ln.start)} --> {mmss(ln.end)}\n{ln.speaker + ': ' if ln.speaker else ''}{ln.text}"
                     for ln in scene.lines)


def visual_text(scene: SceneClip) -> str:
    """CinePile's `movie_scene`: the timed descriptions and the scene's measured attributes."""
    out = [f"[{mmss(e.time)}] (seen) {e.text}" for e in scene.events]
    for name, value in (("Mood", scene.mood), ("Motion", scene.motion), ("Speech", scene.speech),
                        ("Theme", scene.theme)):
        if value:
            out.append(f"{name}: {value}")
    return "\n".join(out)


def scene_text(scene: SceneClip) -> str:
    """Everything a context-aware answerer sees: dialogue and descriptions in time order, then the
    scene's attributes."""
    timed = [(ln.start, f"[{mmss(ln.start)}-{mmss(ln.end)}] {ln.speaker + ': ' if ln.speaker else ''}{ln.text}")
             for ln in scene.lines]
    timed += [(e.time, f"[{mmss(e.time)}] (seen) {e.text}") for e in scene.events]
    head = f"Scene {scene.scene_id} ({mmss(scene.start)}-{mmss(scene.end)})"
    attrs = [f"{n}: {v}" for n, v in (("Mood", scene.mood), ("Motion", scene.motion), ("Speech", scene.speech),
                                      ("Theme", scene.theme)) if v]
    return "\n".join([head, *(t for _, t in sorted(timed, key=lambda x: x[0])), *attrs])


_TIMED = re.compile(r"^\[(\d\d):(\d\d)(?:-(\d\d):(\d\d))?\]\s+(.*)$")
_ATTR = re.compile(r"^(Mood|Motion|Speech|Theme):\s+(.*)$")


@dataclass(frozen=True)
class Entry:
    """One line of scene text as a reader sees it."""
    time: float
    speaker: str | None
    text: str
    seen: bool


def parse_scene_text(text: str) -> tuple[list[Entry], dict[str, str]]:
    """Timed entries (in order) and attributes of a `scene_text`."""
    entries, attrs = [], {}
    for raw in text.splitlines():
        m = _TIMED.match(raw.strip())
        if m:
            t = int(m.group(1)) * 60 + int(m.group(2))
            body = m.group(5)
            if body.startswith("(seen) "):
                entries.append(Entry(t, None, body[len("(seen) "):], True))
            else:
                who, said = split_speaker(body)
                entries.append(Entry(t, who, said, False))
            continue
        a = _ATTR.match(raw.strip())
        if a:
            attrs[a.group(1).lower()] = a.group(2)
    return entries, attrs
