"""Real subtitle files against what their upstream projects publish about them.

For every `<file>.expect.json` under shared/realdata/subtitles, each `published` entry's values are
read as they are written upstream and compared with what `assets.finevideo.subtitles.read_subtitles`
makes of the file: the cue count, each cue's start and end (androidx/media publishes microseconds,
vtt.js and moviepy seconds) and text (androidx/media, webvtt-py and moviepy publish the text without
markup, vtt.js the text as written, tags kept), vtt.js's cue identifiers, and speakers where the
published text shows them: the names of its `<v Name>` voice spans, and one dialogue turn per
leading dash. One `Row` per (file, fact).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assets.finevideo.subtitles import SubtitleCue, SubtitleFile, read_subtitles
from tests.realdata.rowtable import REALDATA, Row

KIND = "subtitles"
SHOWN_CHARS = 100
_VOICE = re.compile(r"<v(?:\.[^\s>]*)*[ \t]+([^>]+)>")  # a voice span's name, as the WebVTT spec writes it
_DASH = re.compile(r"^[-–—]\s*")
_CAPTION = re.compile(r"^captions\[(-?\d+)\]\.(text|lines)$")


def _show(value: Any) -> str:
    text = value if isinstance(value, str) and "\n" not in value else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS - 20]}… ({len(text)} chars)"


class _Checks:
    """The rows of one file: every comparison goes through `check`."""

    def __init__(self, name: str, sub: SubtitleFile):
        self.name, self.sub, self.rows = name, sub, []

    def check(self, what: str, expected: Any, measured: Any, same: bool | None = None) -> None:
        passed = expected == measured if same is None else same
        self.rows.append(Row(self.name, what, _show(expected), _show(measured), bool(passed)))

    def cue(self, i: int) -> SubtitleCue | None:
        return self.sub.cues[i] if -len(self.sub.cues) <= i < len(self.sub.cues) else None

    def count(self, n: int) -> None:
        self.check("cue count", n, len(self.sub.cues))

    def times(self, i: int, start: float, end: float, unit: str) -> None:
        c = self.cue(i)
        if unit == "us":
            got = (round(c.start * 1e6), round(c.end * 1e6)) if c else None
            self.check(f"cue {i} start, end (µs)", [start, end], list(got) if got else "missing")
        else:
            got = (round(c.start, 3), round(c.end, 3)) if c else None
            same = got is not None and abs(got[0] - start) < 5e-4 and abs(got[1] - end) < 5e-4
            self.check(f"cue {i} start, end (s)", [start, end], list(got) if got else "missing", same)

    def text(self, i: int, text: str, raw: bool = False) -> None:
        c = self.cue(i)
        self.check(f"cue {i} text{' as written' if raw else ''}", text, (c.raw if raw else c.text) if c else "missing")
        self.speakers(i, text)

    def speakers(self, i: int, published: str) -> None:
        """Speakers the published text shows: its voice spans' names, or one turn per dashed line."""
        c = self.cue(i)
        voices = [v.strip() for v in _VOICE.findall(published)]
        if voices:
            self.check(f"cue {i} speakers (voice spans)", voices,
                       [t.speaker for t in c.turns if t.speaker] if c else "missing")
        lines = [ln for ln in published.split("\n") if ln.strip()]
        if lines and all(_DASH.match(ln) for ln in lines):
            self.check(f"cue {i} dialogue turns (dashes)", [_DASH.sub("", ln).strip() for ln in lines],
                       [t.text for t in c.turns] if c else "missing")


def _entry(checks: _Checks, values: dict[str, Any]) -> None:
    count = values.get("n_cues", values.get("n_captions"))
    listed = values.get("cues") if isinstance(values.get("cues"), list) else values.get("subtitles")
    if count is None and isinstance(listed, list):
        count = len(listed)  # the whole parse result is published: its length is the cue count
    if count is not None:
        checks.count(int(count))
    for i, cue in enumerate(values["cues"] if isinstance(values.get("cues"), list) else []):
        if "start_us" in cue:  # androidx/media: microseconds, text without markup
            checks.times(i, cue["start_us"], cue["end_us"], "us")
            checks.text(i, cue["text"])
        else:  # vtt.js: seconds, text as written, identifiers
            checks.times(i, cue["startTime"], cue["endTime"], "s")
            checks.text(i, cue["text"], raw=True)
            c = checks.cue(i)
            checks.check(f"cue {i} identifier", cue.get("id", ""), c.identifier if c else "missing")
    for i, ((start, end), text) in enumerate(values.get("subtitles") or []):  # moviepy
        checks.times(i, start, end, "s")
        checks.text(i, text)
    if "cue_text" in values:
        checks.text(0, values["cue_text"])
    for i, text in sorted((values.get("cue_texts") or {}).items(), key=lambda kv: int(kv[0])):
        checks.text(int(i), text)
    for key, value in values.items():  # webvtt-py: captions[i].text / captions[i].lines
        m = _CAPTION.match(key)
        if m and m.group(2) == "text":
            checks.text(int(m.group(1)), value)
        elif m:
            i = int(m.group(1))
            c = checks.cue(i)
            checks.check(f"cue {i} lines", value, c.text.split("\n") if c else "missing")
            checks.speakers(i, "\n".join(value))


def file_rows(path: Path) -> list[Row]:
    """The rows of one subtitle file and its sidecar."""
    checks = _Checks(path.name, read_subtitles(path.read_bytes()))
    for entry in json.loads(path.with_name(path.name + ".expect.json").read_text(encoding="utf-8"))["published"]:
        _entry(checks, entry.get("values") or {})
    return checks.rows


def files(folder: Path | None = None) -> Iterator[Path]:
    folder = REALDATA / KIND if folder is None else folder
    if folder.is_dir():
        yield from sorted(p.with_name(p.name[: -len(".expect.json")]) for p in folder.glob("*.expect.json"))


def rows() -> list[Row]:
    """Every checked fact of every real subtitle file (none when the real data is absent)."""
    return [r for path in files() for r in file_rows(path)]
