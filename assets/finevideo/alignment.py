"""Fine alignment: an annotation's scene boundaries moved onto the video's real cuts.

RECIPES section 1: snap each annotated boundary to a content-detector cut within +-2 s; the scenes
then tile the video (the first starts at frame 0, scene i starts one frame after scene i-1 ends,
the last ends on the last frame); a start moved by more than 25 frames is a warning and by more than
125 frames rejects the video; every timestamp inside a scene is clamped into it. Times are handled
in frames on the video's own clock (`Timeline`: the frames' presentation timestamps, so a
variable-frame-rate video is not misplaced by frame index x fps): a cut at time c is the first frame
of the new scene, the frame at a time is the one whose timestamp is nearest, and a scene is written
as `HH:MM:SS.mmm` from its first frame's timestamp (rounded down) to its last frame's (rounded up),
so every frame, the one at each cut included, lies in exactly one scene.

Departures from FineVideo's script, on purpose: the first scene is made to start at frame 0 so the
scenes cover the whole video; the video's own ends are not snapped (a first scene annotated at 00:00
starts at frame 0 whatever cut lies within 2 s, so it never counts as moved, and likewise a last scene
that ends with the video); trimming suggestions are clamped to the video (the script clamped them
to whichever scene its loop ended on); an unreadable timestamp is a rejection with its text, not an
exception that loses the video's error in a side file.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from assets.finevideo.timeline import Timeline, ceil_ms, floor_ms
from assets.finevideo.timestamps import TimestampError, format_timestamp, parse_range

SNAP_WINDOW_S = 2.0
WARN_FRAMES = 25
REJECT_FRAMES = 125


@dataclass
class Alignment:
    content: dict[str, Any] | None  # the aligned annotation (None when rejected)
    fps: float
    timeline: str = ""  # where frame times came from: "timestamps" or "constant_rate"
    shifts_frames: list[int] = field(default_factory=list)  # per scene start, after snapping
    snapped: int = 0  # boundaries moved onto a cut
    clamped: int = 0  # inner timestamps moved into their scene
    last_end_shift_frames: int = 0
    warnings: list[str] = field(default_factory=list)
    rejection: str | None = None  # reason code
    detail: str | None = None

    @property
    def max_shift_frames(self) -> int:
        return max(self.shifts_frames, default=0)


def snap(t: float, cuts_s: Sequence[float], window_s: float = SNAP_WINDOW_S) -> tuple[float, bool]:
    """The nearest cut within the window, or `t` itself."""
    near = [c for c in cuts_s if abs(c - t) <= window_s]
    if not near:
        return t, False
    return min(near, key=lambda c: (abs(c - t), c)), True


def align(content: dict[str, Any], cuts_s: Sequence[float], fps: float, duration_s: float,
          warn_frames: int = WARN_FRAMES, reject_frames: int = REJECT_FRAMES,
          frame_times: Sequence[float] | None = None) -> Alignment:
    """`frame_times`: every frame's presentation timestamp (s); without them frames are taken at
    i / fps (exact only for a constant-rate video). `fps` is what the release records."""
    out = Alignment(content=None, fps=fps)
    try:
        timeline = (Timeline.from_times(frame_times, end_s=duration_s) if frame_times is not None and len(frame_times)
                    else Timeline.constant_rate(fps, duration_s))
        out.timeline = timeline.source
        return _align(copy.deepcopy(content), sorted(cuts_s), timeline, warn_frames, reject_frames, out)
    except TimestampError as e:
        out.rejection, out.detail = "unreadable_timestamp", str(e)
        return out


def _align(data: dict[str, Any], cuts: list[float], tl: Timeline, warn_frames: int, reject_frames: int,
           out: Alignment) -> Alignment:
    duration_s, last = tl.end_s, tl.last

    def end_frame(t: float) -> int:
        """The last frame of a scene annotated to end at `t`: the one before the frame at `t`, or the
        video's last frame when `t` is at or past the last frame."""
        return last if t >= tl.time(last) else max(0, tl.frame_at(t) - 1)

    scenes = data.get("scenes") or []
    if not scenes:
        out.rejection, out.detail = "no_scenes", "the annotation has no scenes"
        return out
    bounds: list[tuple[int, int]] = []  # (start frame, end frame inclusive) after snapping
    for i, sc in enumerate(scenes):
        ts = sc["timestamps"]
        start = parse_range(ts["start_timestamp"], end_s=duration_s)[0]
        end = parse_range(ts["end_timestamp"], end_s=duration_s)[1]
        if start is None or end is None:
            raise TimestampError(f"scene {sc.get('sceneId')} has no start or end time")
        # the video's own ends are where the first scene starts and the last one ends: never snapped
        s, moved_s = (start, False) if i == 0 else snap(start, cuts)
        e, moved_e = (end, False) if i == len(scenes) - 1 else snap(end, cuts)
        out.snapped += moved_s + moved_e
        bounds.append((tl.frame_at(s), end_frame(e)))

    starts: list[int] = []
    ends: list[int] = []
    for i, (s, e) in enumerate(bounds):
        new_start = 0 if i == 0 else ends[-1] + 1
        shift = abs(s - new_start)
        out.shifts_frames.append(shift)
        if shift > warn_frames:
            out.warnings.append(f"scene {i + 1} start moved {shift} frames")
        starts.append(new_start)
        ends.append(last if i == len(bounds) - 1 else min(e, last))
        if ends[-1] < new_start:
            out.rejection = "scene_collapsed"
            out.detail = f"scene {i + 1} would end (frame {ends[-1]}) before it starts (frame {new_start})"
            return out
    out.last_end_shift_frames = abs(bounds[-1][1] - last)
    if out.max_shift_frames > reject_frames:
        worst = out.shifts_frames.index(out.max_shift_frames) + 1
        out.rejection = "misaligned"
        out.detail = (f"scene {worst} start moved {out.max_shift_frames} frames "
                      f"(more than {reject_frames}; frame {bounds[worst - 1][0]} at "
                      f"{format_timestamp(tl.time(bounds[worst - 1][0]))} to frame {starts[worst - 1]})")
        return out

    for sc, a, b in zip(scenes, starts, ends, strict=True):
        lo, hi = floor_ms(tl.time(a)), ceil_ms(tl.time(b))
        sc["timestamps"] = {"start_timestamp": format_timestamp(lo), "end_timestamp": format_timestamp(hi)}
        for item, key in _inner(sc):
            item[key] = _clamped(item[key], lo, hi, out)
    video_end = ceil_ms(tl.time(last))
    climax = data.get("storylines", {}).get("climax")
    if climax:
        climax["timestamp"] = _clamped(climax["timestamp"], 0.0, video_end, out)
    for t in data.get("trimmingSuggestions") or []:
        for key in ("start_timestamp", "end_timestamp"):
            t["timestamps"][key] = _clamped(t["timestamps"][key], 0.0, video_end, out)
    data["fps"] = out.fps
    out.content = data
    return out


def _inner(scene: dict[str, Any]):
    """(container, key) of every timestamp inside a scene, to rewrite in place."""
    for a in scene.get("activities") or []:
        yield a["timestamp"], "start_timestamp"
        yield a["timestamp"], "end_timestamp"
    for p in scene.get("props") or []:
        yield p["timestamp"], "start_timestamp"
        yield p["timestamp"], "end_timestamp"
    for e in scene.get("videoEditingDetails") or []:
        yield e["timestamps"], "start_timestamp"
        yield e["timestamps"], "end_timestamp"
    for k in (scene.get("mood") or {}).get("keyMoments") or []:
        yield k, "timestamp"
    for n in scene.get("narrativeProgression") or []:
        yield n, "timestamp"


def _clamped(text: str, lo: float, hi: float, out: Alignment) -> str:
    """A time moved into [lo, hi] and written as a timecode; 'no time' phrases are kept as written."""
    t = parse_range(text, end_s=hi)[0]
    if t is None:
        return text
    c = min(max(t, lo), hi)
    out.clamped += c != t
    return format_timestamp(c)
