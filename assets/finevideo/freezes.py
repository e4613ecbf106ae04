"""ffmpeg's freezedetect and FineVideo's segment rule, as pure logic a single decode pass can drive.

freezedetect (libavfilter/vf_freezedetect.c) holds a reference frame and compares each later frame
with it: the sum of absolute differences over all planes, divided by the sample count and by
2^bitdepth, at most `n` means "frozen". When a frame arrives `d` seconds or more after the reference
and nothing in between differed, it reports `freeze_start` at the reference; the first differing
frame reports `freeze_end` and becomes the new reference. So slow drift ends a freeze (frames are
judged against the freeze's first frame, not their neighbour), and a freeze still running when the
stream ends has a start and no end.

FineVideo ran one ffmpeg call per 60 s segment, `ffmpeg -ss S -i f -t 60 -vf freezedetect=n=0.05:d=50`,
called a segment static when the log mentioned freezedetect, and the video static when static segments
/ ceil(duration / 60) >= 0.4. Every call restarts the filter, so a freeze straddling a boundary is
split, and a last segment shorter than 50 s can never be static. A `Window` is one such call: it sees
the first frame at or after `start` and every frame up to and including the first one `span` seconds
or more after that first frame (that frame reaches the filter before `-t`'s trim ends the output;
checked against ffmpeg 9 at 10, 25 and 29.97 fps). Feeding the frames of one decode to several
windows reproduces the per-segment calls exactly.

The fixed rule judges a short last segment on the video's last full 60 s instead: a requirement
scaled to the segment (50 * L / 60 s of stillness) asks a 4 s tail to hold still for 3.3 s, which
moving footage does routinely at n = 0.05 (the corpus's moving sources hold "freezes" of up to 7 s),
so one quiet tail would flip a dynamic 64 s video to static. Only a video shorter than 60 s, whose
one window is the whole video, gets the scaled requirement.

The parameters (n, d, the segment length and the static share) are the fields of `DynamismRules`:
asset config, part of the dynamism screen's code version, and passed to the measuring workers, so
a run with other parameters measures with them and the stored row says what it was judged on.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from pydantic import Field

from assets.kit.screening import Rule, RuleSet

US = 1_000_000
EPS_S = 1e-3  # slack for timestamp rounding in the keyframe proof (freezedetect rounds to 1 us)


class DynamismRules(RuleSet):
    """FineVideo's dynamism rule: freezedetect's parameters, the window length, the static share."""

    noise: float = Field(default=0.05, gt=0, lt=1, description="freezedetect n: the largest mean absolute "
                         "difference (share of the sample range) at which two frames count as the same")
    freeze_s: float = Field(default=50.0, gt=0, description="freezedetect d: seconds a picture must hold "
                            "still to be a freeze")
    segment_s: int = Field(default=60, gt=0, description="length of the windows each judged by one "
                           "freezedetect run (FineVideo's per-segment ffmpeg calls)")
    static_ratio: float = Field(default=0.4, gt=0, le=1, description="share of static windows from which a "
                                "video is static and rejected")

    @property
    def freeze_us(self) -> int:
        return round(self.freeze_s * US)

    def rules(self) -> list[Rule]:
        return [
            Rule(reason="dynamism_failed", column="dynamism_error", op="is_null"),
            Rule(reason="static", column="fixed_static_fraction", op="lt", threshold=self.static_ratio),
        ]

    def describe(self) -> str:
        return (f"{super().describe()}; windows of {self.segment_s} s, static when freezedetect "
                f"n={self.noise} d={self.freeze_s:g} s reports a freeze in it")


DEFAULTS = DynamismRules()


def rescale_us(value: int, time_base: Fraction) -> int:
    """av_rescale_q(value, time_base, 1/1e6) with AV_ROUND_NEAR_INF (halves away from zero)."""
    num = abs(value) * time_base.numerator * US
    q, r = divmod(num, time_base.denominator)
    if 2 * r >= time_base.denominator:
        q += 1
    return q if value >= 0 else -q


@dataclass
class FreezeRun:
    """One freezedetect instance, a line-by-line port of its activate()."""

    d_us: int
    time_base: Fraction
    frame_rate: Fraction | None = None
    events: list[list[int | None]] = field(default_factory=list)  # [start_pts, end_pts or None]
    _ref: tuple[object, int, int] | None = None  # (frame, pts, frame number)
    _n: int = 0
    _frozen: bool = False

    def feed(self, pts: int, frame: object, differs: Callable[[object, object], bool]) -> None:
        self._n += 1
        frozen = False
        if self._ref is not None:
            ref, ref_pts, ref_n = self._ref
            if pts < ref_pts:  # discontinuity: freezedetect falls back to counting frames
                duration = rescale_us(self._n - ref_n, 1 / self.frame_rate) if self.frame_rate else 0
            else:
                duration = rescale_us(pts - ref_pts, self.time_base)
            frozen = not differs(ref, frame)
            if duration >= self.d_us:
                if not self._frozen:
                    self.events.append([ref_pts, None])
                if not frozen:
                    self.events[-1][1] = pts
                self._frozen = frozen
        if not frozen:
            self._ref = (frame, pts, self._n)

    @property
    def detected(self) -> bool:
        return bool(self.events)

    def settled(self, last_pts: int) -> bool:
        """Nothing it reports can change if it is fed nothing more, its last frame due at `last_pts`:
        no freeze is open (one would run on until a frame differs), and a report needs a frame d
        after the reference, which is the current one or a later frame, so one past `last_pts` is
        out of reach (timestamps counted as freezedetect counts them)."""
        if self._frozen or self._ref is None:
            return False
        return rescale_us(last_pts - self._ref[1], self.time_base) < self.d_us

    @property
    def in_freeze(self) -> bool:
        """A reported freeze has not ended yet."""
        return self._frozen


@dataclass(frozen=True)
class Window:
    """The frames one freezedetect call sees: from the first at or after `start` (seconds from the
    stream start, ffmpeg's input `-ss`) to the first `span` or more past it (`-t`), or to the end."""

    start: Fraction
    span: Fraction | None
    d_us: int = DEFAULTS.freeze_us


class WindowRun:
    """One call's freezedetect, fed from a shared decode: it takes the frames that call would see.
    Bounds are precomputed in stream timestamps, so a frame costs two integer comparisons."""

    def __init__(self, window: Window, time_base: Fraction, origin: Fraction, frame_rate: Fraction | None = None):
        self.window = window
        self.run = FreezeRun(window.d_us, time_base, frame_rate)
        self._start = math.ceil((window.start + origin) / time_base)  # t >= start, as pts
        self._span = None if window.span is None else math.ceil(window.span / time_base)
        self._first: int | None = None
        self._closed = False

    def accepts(self, pts: int) -> bool:
        if self._closed or pts < self._start:
            return False
        if self._first is None:
            self._first = pts
        if self._span is not None and pts - self._first >= self._span:
            self._closed = True  # the frame that ends the output still passes the filter
        return True

    def feed(self, pts: int, frame: object, differs: Callable[[object, object], bool]) -> None:
        if self.accepts(pts):
            self.run.feed(pts, frame, differs)

    def settled(self, frame_pts: Sequence[int]) -> bool:
        """Its verdict is final: a freeze found, the call's frames all seen, or none it has still to
        see (`frame_pts`: every frame's timestamp, sorted) can complete a freeze."""
        if self.run.detected or self._closed:
            return True
        i = bisect.bisect_left(frame_pts, self._start if self._first is None else self._first)
        if i == len(frame_pts):
            return True  # no frame left for it
        first = frame_pts[i]
        if self._span is None:
            last = frame_pts[-1]
        else:
            j = bisect.bisect_left(frame_pts, first + self._span)
            last = frame_pts[min(j, len(frame_pts) - 1)]
        if self._first is None:  # not started: a freeze would need d between its first and last frame
            return rescale_us(last - first, self.run.time_base) < self.run.d_us
        return self.run.settled(last)


def finevideo_windows(format_duration_s: float, p: DynamismRules = DEFAULTS) -> tuple[list[Window], int]:
    """FineVideo's calls (`range(0, int(duration), 60)`) and its denominator `ceil(duration / 60)`,
    from the container duration ffprobe reports (`format=duration`)."""
    seg = p.segment_s
    starts = range(0, int(format_duration_s), seg)
    return [Window(Fraction(s), Fraction(seg), p.freeze_us) for s in starts], math.ceil(format_duration_s / seg)


def fixed_windows(duration_s: float, p: DynamismRules = DEFAULTS) -> list[Window]:
    """The fixed rule: full 60 s segments, then the last 60 s of the video (or the whole video with
    a requirement scaled to its length when it is shorter than 60 s)."""
    seg = p.segment_s
    n = max(1, math.ceil(duration_s / seg - 1e-9))
    full = [Window(Fraction(seg * k), Fraction(seg), p.freeze_us) for k in range(n - 1)]
    if duration_s >= seg:
        last = Window(Fraction(duration_s).limit_denominator(US) - seg, None, p.freeze_us)
    else:
        last = Window(Fraction(0), None, round(p.freeze_us * duration_s / seg))
    return [*full, last]


def static_fraction(static_segments: int, segments: int) -> float | None:
    """The share of static windows (None without windows: nothing to judge)."""
    return static_segments / segments if segments > 0 else None


def is_static(static_segments: int, segments: int, static_ratio: float = DEFAULTS.static_ratio) -> bool:
    share = static_fraction(static_segments, segments)
    return share is not None and share >= static_ratio


def intervals(events: Sequence[Sequence[int | None]], time_base: Fraction, origin: Fraction,
              end_s: float) -> list[tuple[float, float]]:
    """Freeze events in seconds from the stream start; an open freeze is closed at `end_s`."""
    out = []
    for start, end in events:
        a = float(start * time_base - origin)
        b = end_s if end is None else float(end * time_base - origin)
        out.append((round(a, 6), round(max(a, b), 6)))
    return out


def unbroken(breaks: Sequence[tuple[float, float]], start: float, end: float, d_s: float
             ) -> list[tuple[float, float]]:
    """Where a `d_s`-long freeze could still begin inside [start, end]: intervals of reference times
    that the breaks do not rule out (empty: keyframes alone prove there is no such freeze).

    A break (s, e) is two decoded frames at times s < e that differ by more than 2n. A freeze with
    reference r makes every frame in [r, r + d) within n of r, so any two of them lie within 2n of
    each other (the mean absolute difference obeys the triangle inequality): a break with r <= s and
    e - r < d rules out r. With E(x) the earliest end of a break starting at or after x, a reference
    x is ruled out when E(x) - x <= d; E only changes just after a break start, so the answer is a
    few intervals. A reference also needs a frame d after it, before `end`. `EPS_S` errs on the side
    of "possible" (timestamps are rounded to 1 us by the filter).
    """
    d = d_s - EPS_S
    inside = sorted((s, e) for s, e in breaks if s >= start and e <= end)
    values = sorted({s for s, _ in inside})
    earliest: list[float] = []  # per value: earliest end of the breaks starting at or after it
    running, i = math.inf, len(inside) - 1
    for v in reversed(values):
        while i >= 0 and inside[i][0] >= v:
            running = min(running, inside[i][1])
            i -= 1
        earliest.append(running)
    earliest.reverse()
    # references in [start, v0], then in (v_k, v_k+1], then after the last break start
    out = []
    for lo, hi, first_end in zip([start, *values], [*values, math.inf], [*earliest, math.inf], strict=True):
        limit = min(first_end - d, end - d)  # ruled out from first_end - d on; no frame d later after end - d
        if lo < limit:
            out.append((lo, min(hi, limit)))
    return out
