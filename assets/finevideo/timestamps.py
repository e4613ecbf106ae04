"""Timestamps as annotators write them, read into seconds.

Models write `01:23`, `1:02:03`, `83s`, `~01:23`, `around 1:23`, `01:23-01:30`, `end`, `n/a`,
`throughout the scene`. FineVideo's parser cut strings at the first `-`, `+` or space and dropped
fractions; this one reads every form in RECIPES section 1, keeps fractions and frame timecodes
(`00:01:23.400`), and says exactly which input it could not read instead of guessing.
"""

from __future__ import annotations

import re

# strings that mean "no particular time": the field stays None
NOT_A_TIME = {
    "", "n/a", "na", "none", "null", "-", "varies", "various", "throughout", "throughout scene",
    "throughout the scene", "throughout the video", "not present", "not applicable", "unknown",
}
_SCENE_REF = re.compile(r"^scene\s*\d+$")
_APPROX = re.compile(r"^(?:~|≈|approximately|approx\.?|about|around|at|circa|ca\.)\s*")
_CLOCK = re.compile(r"^(\d+):(\d{1,2})(?::(\d{1,2}))?(?:[.,](\d+))?$")
_SECONDS = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)?$")
_RANGE = re.compile(r"\s*(?:-|–|—|\bto\b|\buntil\b)\s*")
_END = {"end", "the end", "end of video", "end of the video", "video end"}


class TimestampError(ValueError):
    """A string that is neither a time nor a recognised 'no time' phrase."""


def _one(text: str, end_s: float | None) -> float | None:
    s = _APPROX.sub("", text.strip().lower()).strip().rstrip(".")
    if s in NOT_A_TIME or _SCENE_REF.match(s):
        return None
    if s in _END:
        if end_s is None:
            raise TimestampError(f"{text!r} refers to the end but no end time is known")
        return float(end_s)
    if m := _CLOCK.match(s):
        a, b, c, frac = m.groups()
        h, mnt, sec = (0, int(a), int(b)) if c is None else (int(a), int(b), int(c))
        if (c is not None and mnt >= 60) or sec >= 60:
            raise TimestampError(f"{text!r} has minutes or seconds of 60 or more")
        # one decimal string, so "00:00:03.720" is exactly the float nearest 3.72 (the one a frame's
        # timestamp 3.72 s is), not 3 + 0.72 one rounding error below it
        return float(f"{h * 3600 + mnt * 60 + sec}.{frac or 0}")
    if m := _SECONDS.match(s):
        return float(m.group(1))
    raise TimestampError(f"unreadable timestamp {text!r}")


def parse_range(text: str | None, end_s: float | None = None) -> tuple[float | None, float | None]:
    """`01:23-01:30` -> (83, 90); a single time t -> (t, t); a 'no time' phrase -> (None, None)."""
    if text is None:
        return None, None
    s = str(text).strip()
    core = _APPROX.sub("", s.lower()).strip()
    if core in NOT_A_TIME:
        return None, None
    parts = _RANGE.split(core, maxsplit=1)
    if len(parts) == 2 and parts[0] and parts[1]:
        return _one(parts[0], end_s), _one(parts[1], end_s)
    t = _one(s, end_s)
    return t, t


def parse_timestamp(text: str | None, end_s: float | None = None) -> float | None:
    """Seconds from the start, None for 'no particular time'; a range gives its start."""
    return parse_range(text, end_s)[0]


def format_timestamp(seconds: float) -> str:
    """`HH:MM:SS.mmm`, the frame-timecode form the aligned release uses."""
    ms = max(0, round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
