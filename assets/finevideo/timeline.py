"""A video's frames on its clock: presentation timestamps in seconds, and the frame at a time.

Frame i of a variable-frame-rate video is not at i / fps for any fps: a phone clip that records its
average rate (16.05) instead of its nominal one (23.976) puts frame-index arithmetic 16-25 ms off
its cuts. So times map to frames through the real timestamps (`resources.frames.frame_times`, read
from the packets): the frame at time t is the frame whose timestamp is nearest to t, and frame i is
at `times[i]`. A constant-rate timeline is only the fallback for a video whose file is not at hand.

Written as timecodes (milliseconds), a frame's start is rounded down and an end up, so every frame's
timestamp stays inside the span written for it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_EPS = 1e-6  # float noise allowed when rounding a timestamp to milliseconds


@dataclass(frozen=True)
class Timeline:
    times: np.ndarray  # presentation timestamps (s), ascending, one per frame
    end_s: float  # the video's end (the last frame's timestamp plus its duration)
    source: str = "timestamps"  # "timestamps" (read from the file) | "constant_rate" (fps x index)

    @classmethod
    def from_times(cls, times: Sequence[float], end_s: float | None = None) -> Timeline:
        t = np.asarray(sorted(float(x) for x in times), dtype=np.float64)
        if t.size == 0:
            raise ValueError("a timeline needs at least one frame")
        step = float(np.median(np.diff(t))) if t.size > 1 else 0.0
        end = float(end_s) if end_s is not None else float(t[-1]) + step
        return cls(times=t, end_s=max(end, float(t[-1])))

    @classmethod
    def constant_rate(cls, fps: float, duration_s: float) -> Timeline:
        """Frames at i / fps, as many as the duration holds (the fallback without timestamps)."""
        if fps <= 0:
            raise ValueError(f"frame rate must be positive, not {fps}")
        n = max(1, round(duration_s * fps))
        return cls(times=np.arange(n, dtype=np.float64) / fps, end_s=float(duration_s), source="constant_rate")

    @property
    def frames(self) -> int:
        return int(self.times.size)

    @property
    def last(self) -> int:
        return self.frames - 1

    def time(self, index: int) -> float:
        """The timestamp of frame `index` (clamped to the video)."""
        return float(self.times[min(max(0, index), self.last)])

    def frame_at(self, t: float) -> int:
        """The index of the frame whose timestamp is nearest to `t` (a tie goes to the later frame)."""
        i = int(np.searchsorted(self.times, t, side="left"))
        if i <= 0:
            return 0
        if i >= self.frames:
            return self.last
        before, after = self.times[i - 1], self.times[i]
        return i if after - t <= t - before else i - 1

    def frames_between(self, a: float, b: float) -> int:
        """How many frames apart the frames at two times are."""
        return abs(self.frame_at(a) - self.frame_at(b))


def floor_ms(t: float) -> float:
    """`t` rounded down to the millisecond (a span's start keeps its first frame inside)."""
    return math.floor(t * 1000 + _EPS) / 1000


def ceil_ms(t: float) -> float:
    """`t` rounded up to the millisecond (a span's end keeps its last frame inside)."""
    return math.ceil(t * 1000 - _EPS) / 1000
