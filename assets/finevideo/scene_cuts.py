"""Shots: hard cuts and gradual transitions (fades, dissolves), from one pass over decoded frames.

Hard cuts are PySceneDetect's `AdaptiveDetector` decisions (its rule run on frame positions by
`AdaptiveCuts`; a unit test holds the two side by side): a frame starts a new shot when its
ContentDetector score (mean absolute HSV difference from the previous frame) reaches `cut_score`
AND is `cut_ratio` times the mean score of the `window` frames on each side, at least
`min_scene_frames` frames after the last cut. The ratio is what keeps camera motion, motion blur and
lighting flicker (sustained high scores) from being cut, where a fixed ContentDetector threshold
cuts them; the floor of 27 (ContentDetector's own default threshold) keeps the small isolated
hue/saturation jumps of compressed phone footage out.

Gradual transitions are found beside it (`_Transitions`): a window of frames (0.5, 1 and 2 s long)
is a transition when its two end pictures differ by at least `transition_score` (the same content
score), no single step in it is more than half of that change, and every frame inside is the blend
of the two ends (the grey image at 1/4, 1/2 and 3/4 of the window fits `(1 - a) * first + a * last`
with `a` rising, off by at most `blend_residual` of the change, on 8-pixel cells so that the
shots' own small motion does not hide it), its frames change `stand_out` times as fast as those
half a window before and after it, and those frames still show the first and the last picture
(blend weight within `hold` of 0 and 1). A dissolve is exactly
such a blend and a fade is one towards or from a flat picture (black, white). Camera motion is not:
a fast pan's middle frame is not the average of its ends, and a slow pan or a drifting colour
field, which does look like a blend inside a short window, goes on changing the same way outside
it. A change of exposure or a title fading in over the same picture is ruled out because its ends
are the same picture (grey correlation above `same_picture`). Between two flat pictures (a nearly
black frame and a black one) the hue and saturation of dark pixels are noise: that step scores 0
for the hard-cut rule, so the end of a fade is not a cut. A transition is reported as such (start and end seconds: the last frame of the
outgoing picture and the first frame of the incoming one), and separates two shots by ONE cut at
its middle frame, not by two cuts around a short "scene" of fade: a fade out to black and in again
is one transition; a fade in at the start or out at the end of the video separates nothing; a
transition next to a hard cut (a fade to black, then a cut) adds nothing to the cut.

Times are presentation timestamps: `(pts - stream start) * time_base` in seconds (the origin
resources/frames.py uses), never a frame index over an average rate; a cut's `frame` is its
position among the decoded frames in presentation order.

What is computed here for speed (the hard-cut decisions are PySceneDetect's):
- frames are shrunk to the size `SceneManager`'s auto-downscale picks (about 256 px wide) by
  nearest-neighbour sampling, and only then converted to BGR, instead of converting the full frame
  and resizing it in OpenCV (that alone would cost as much as decoding);
- the score's channel means are per-channel sums of absolute differences computed by OpenCV in one
  pass rather than through int32 copies in numpy; the sums are integers, so the floats are
  bit-identical (a unit test holds the two side by side), and an image fed twice in a row scores 0,
  as the stock arithmetic gives;
- the adaptive rule runs on frame positions and floats instead of scenedetect's timecode objects
  (their fraction arithmetic cost about 20 us a frame, more than the transition test below);
- a window is tested for a transition only when the scores inside it add up to `transition_score`
  (the score obeys the triangle inequality, so smaller sums cannot join two different pictures)
  and stand out from the scores around it: still footage costs a subtraction per frame, moving
  footage a few per window, and the pictures are compared only for the rest.
The dynamism screen feeds its one decode to a `CutDetector` (`detect_shots` is the same detector on
every frame of a file, the reference its tests and the real-data checks use). Where that decode
skips B-frames, each fed frame carries its real frame number, so `min_scene_frames` still counts
video frames; bench_footage measures those shots against every-frame detection and known cuts.

Calibration (`ShotParams` defaults). Precision / recall of cuts within +-1 frame, and the false
cuts, of PySceneDetect's detectors on the same frames (realdata = ../shared/realdata/videos;
sample corpus = `python -m corpus.build --size small`: 21 decodable videos, 66 hard cuts known by
construction). Rows marked (visual) have no published cut list: their truth was set by looking at
the frames and they only calibrate; tests/realdata/shots.py rebuilds the judged rows.

| video (truth) | ContentDetector 15 (before) | ContentDetector 27 | AdaptiveDetector default (floor 15) | chosen: Adaptive, floor 27, + transitions |
|---|---|---|---|---|
| transitiondetect_demo.mp4 (published scenes: cuts 94, 186, 265, 388) | P 0.75 R 0.75 (false 375, so 388 falls in min_scene_len) | P 0.67 R 1.00 (false 204, 238: camera motion) | P 0.60 R 0.75 (false 250, 375) | P 1.00 R 1.00 |
| datajuicer_video4.mp4 (one shot, sidecar) | 1 false (283) | 0 | 0 | 0 |
| decord_flipping_a_pancake.mkv (visual: one shot) | 1 false (267, motion blur) | 0 | 0 | 0 |
| moviepy_big_buck_bunny_0_30.webm (visual: 283, 376, 551; fade in 0-2 s) | P 0.75 R 1.00 (false 139, a pan) | P 1.00 R 1.00 | P 0.60 R 1.00 (false 31 in the fade in, 139) | P 1.00 R 1.00, fade in frames 17-46 a transition |
| sample corpus small (66 cuts) | P 1.00 R 1.00 | P 1.00 R 1.00 | P 1.00 R 1.00 | P 1.00 R 1.00 |
| published or known together (transitiondetect, datajuicer, corpus: 70 cuts) | P 0.97 R 0.99 | P 0.97 R 1.00 | P 0.97 R 0.99 | P 1.00 R 1.00 |

Margins of the chosen floor and ratio: the smallest real cut scores 44.6 (ratio >= 12 against its
neighbours) where the largest camera-motion score is 44.7 at ratio 1.9 (transitiondetect frame 213).
On the clips tests/unit/test_scene_cuts.py renders, ContentDetector 15 and 27 cut a fade through
black at its edge (the "scene" of fade), and a fade to black followed by a cut 10 frames later at
the fade (the real cut is then lost to min_scene_len); the chosen detector reports one transition
with one cut in its middle, and the real cut. Not detected: a dissolve between two shots that move
as much in half the dissolve as the dissolve changes (a pan on both sides): it fails the "pictures
hold" test, and is then neither a cut nor a transition.
"""

from __future__ import annotations

import bisect
import json
from collections import deque
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

DETECTION_WIDTH = 256  # scenedetect.scene_manager.DEFAULT_MIN_WIDTH
BLEND_CELL = 8  # pixels (of the ~256 px detection image) averaged into one cell for the blend test
THRESHOLD = 15.0  # FineVideo's ContentDetector threshold (kept for `content_detector`, no longer the default)
# a step over several video frames (a skipping decoder's) may carry that many times gradual_share of a
# transition's change, never more than this: a cut's one step carries nearly all of it
SPARSE_SHARE = 0.75


class ShotParams(BaseModel):
    """The shot detector's parameters (they enter the code version of the assets that store cuts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    cut_score: float = Field(default=27.0, gt=0, description="AdaptiveDetector min_content_val: the "
                             "ContentDetector score a hard cut must reach (ContentDetector's own default threshold)")
    cut_ratio: float = Field(default=3.0, gt=1, description="AdaptiveDetector adaptive_threshold: times the mean "
                             "score of the neighbouring frames a hard cut's score must be")
    window: int = Field(default=2, ge=1, description="AdaptiveDetector window_width: neighbouring frames on each side")
    min_scene_frames: int = Field(default=15, ge=0, description="min_scene_len: frames from one cut to the next")
    transition_score: float = Field(default=27.0, gt=0, description="content score between the two pictures a "
                                    "fade or dissolve joins")
    transition_s: tuple[float, ...] = Field(default=(0.5, 1.0, 2.0), min_length=1, description="lengths of the "
                                            "windows tested for a transition (seconds)")
    gradual_share: float = Field(default=0.5, gt=0, le=1, description="largest share of a transition's change "
                                 "one frame step may carry (a larger step is a cut)")
    blend_residual: float = Field(default=0.25, gt=0, description="how far (share of the change) a frame inside a "
                                  "transition may stray from the blend of its two ends")
    same_picture: float = Field(default=0.8, gt=0, le=1, description="grey correlation of the two ends above which "
                                "they are one picture (exposure change, overlay fading in): no transition")
    hold: float = Field(default=0.2, gt=0, description="how far (blend weight) the frames half a window before and "
                        "after a transition may be from its first and last picture (a pan goes on changing)")
    stand_out: float = Field(default=1.25, gt=0, description="a transition's frames change at least this many "
                             "times as fast (mean score) as the frames just before and after it")
    flat_std: float = Field(default=6.0, ge=0, description="grey standard deviation under which a frame is a flat "
                            "picture (black, white): fades go to or from it")

    def fingerprint(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def describe(self) -> str:
        return (f"hard cut: AdaptiveDetector score >= {self.cut_score:g} and >= {self.cut_ratio:g}x its "
                f"{self.window}-frame neighbours, {self.min_scene_frames} frames apart; fades and dissolves are "
                f"transitions (one cut at their middle when they join two shots)")


SHOTS = ShotParams()


@dataclass(frozen=True)
class Cut:
    seconds: float  # presentation time of the first frame of the new shot
    frame: int  # its number among the video's frames (presentation order)
    kind: str  # "cut" (hard), or the kind of the transition whose middle it is


@dataclass(frozen=True)
class Transition:
    start_s: float  # the last frame of the outgoing picture
    end_s: float  # the first frame of the incoming picture
    start_frame: int
    end_frame: int
    kind: str  # "dissolve" | "fade" (out of one shot, in to the next) | "fade_in" | "fade_out"
    boundary: bool  # it separates two shots (one cut at its middle)


@dataclass(frozen=True)
class Shots:
    cuts: list[Cut]
    transitions: list[Transition]
    times: list[float] = field(repr=False)  # presentation time of every decoded frame, in order

    @property
    def frames(self) -> int:
        return len(self.times)

    @property
    def cut_times(self) -> list[float]:
        return [c.seconds for c in self.cuts]

    @property
    def cut_frames(self) -> list[int]:
        return [c.frame for c in self.cuts]


def detection_size(width: int, height: int) -> tuple[int, int]:
    """SceneManager's auto-downscale: factor width / 256 for frames at least 256 wide."""
    factor = width / DETECTION_WIDTH if width >= DETECTION_WIDTH else 1.0
    return max(1, round(width / factor)), max(1, round(height / factor))


class DetectionImages:
    """Decoded frames as the detector sees them: small BGR arrays, nearest-neighbour sampled.

    8-bit yuv420p (nearly every web video) is sampled plane by plane before the colour conversion,
    which then touches only the small image; other formats go through swscale, with one reused
    context (a new one per frame costs milliseconds)."""

    def __init__(self):
        from av.video.reformatter import VideoReformatter

        self._reformatter = VideoReformatter()
        self._i420: dict[tuple[int, int], tuple] = {}  # (w, h) -> the small I420 image and its planes

    def _buffer(self, w: int, h: int) -> tuple:
        if (w, h) not in self._i420:
            y, c = w * h, (w // 2) * (h // 2)
            flat = np.empty(y + 2 * c, np.uint8)
            self._i420[w, h] = (flat.reshape(-1, w), (flat[:y].reshape(h, w), flat[y: y + c].reshape(h // 2, w // 2),
                                                      flat[y + c:].reshape(h // 2, w // 2)))
        return self._i420[w, h]

    def bgr(self, frame):
        import cv2

        w, h = detection_size(frame.width, frame.height)
        if frame.format.name not in ("yuv420p", "yuvj420p") or w % 2 or h % 2:
            return self._reformatter.reformat(frame, width=w, height=h, format="bgr24",
                                              interpolation="POINT").to_ndarray()
        image, planes = self._buffer(w, h)
        for plane, small in zip(frame.planes, planes, strict=True):  # sampled straight into the small image
            full = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: plane.height, : plane.width]
            cv2.resize(full, (small.shape[1], small.shape[0]), dst=small, interpolation=cv2.INTER_NEAREST)
        return cv2.cvtColor(image, cv2.COLOR_YUV2BGR_I420)


def _fast(base):
    """`base` (ContentDetector or a subclass) with the faster, identical score arithmetic; the HSV
    image of the last frame is kept in `hsv`."""
    import cv2

    class _Detector(base):
        _image = None
        hsv = None

        def _calculate_frame_score(self, timecode, frame_img) -> float:
            if self._weights.delta_edges > 0.0 or self.stats_manager is not None:
                return super()._calculate_frame_score(timecode, frame_img)
            if frame_img is self._image:
                return 0.0
            hsv = cv2.cvtColor(frame_img, cv2.COLOR_BGR2HSV)
            last, self._image, self.hsv = self.hsv, frame_img, hsv
            if last is None:
                return 0.0
            pixels = float(frame_img.shape[0] * frame_img.shape[1])
            sums = cv2.sumElems(cv2.absdiff(hsv, last))  # per channel: hue, saturation, value
            wh, ws, wl, we = self._weights
            # the stock sum, term by term in its order (0 + x is x); edges: weight 0, no stats file
            score = sums[0] / pixels * wh + sums[1] / pixels * ws + sums[2] / pixels * wl + 0.0 * we
            return score / (abs(wh) + abs(ws) + abs(wl) + abs(we))

    return _Detector


def content_detector(threshold: float = THRESHOLD):
    """PySceneDetect's ContentDetector (default weights, no stats file) with the faster, identical
    score arithmetic described above."""
    from scenedetect import ContentDetector

    return _fast(ContentDetector)(threshold=threshold)


class AdaptiveCuts:
    """AdaptiveDetector's rule (scenedetect 0.7 `AdaptiveDetector.process_frame`) on frame positions
    and scores, the same arithmetic in the same order, without its timecode objects (a unit test
    holds it beside the stock detector): the frame `window` behind the newest is a cut when its score
    is at least `cut_score` and `cut_ratio` times the mean score of the `window` frames on each side
    (255 when that mean is 0), at least `min_scene_frames` after the previous cut. `number` is the
    frame's number in the video where frames between fed ones were not decoded (the gap to the
    previous cut counts real frames); by default the position fed."""

    def __init__(self, params: ShotParams = SHOTS):
        self.p = params
        self._buffer: deque[tuple[int, float, int]] = deque(maxlen=1 + 2 * params.window)
        self._last_cut: int | None = None  # its frame number

    def feed(self, index: int, score: float, number: int | None = None) -> int | None:
        p, buffer = self.p, self._buffer
        number = index if number is None else number
        if self._last_cut is None:
            self._last_cut = number
        buffer.append((index, score, number))
        if len(buffer) < buffer.maxlen:
            return None
        target, target_score, target_number = buffer[p.window]
        total = 0  # summed in the stock order, from int 0
        for i, (_, value, _) in enumerate(buffer):
            if i != p.window:
                total += value
        average = total / (2.0 * p.window)
        ratio = 0.0
        if abs(average) >= 0.00001:
            ratio = min(target_score / average, 255.0)
        elif target_score >= p.cut_score:
            ratio = 255.0
        if (ratio >= p.cut_ratio and target_score >= p.cut_score
                and target_number - self._last_cut >= p.min_scene_frames):
            self._last_cut = target_number
            return target
        return None


def content_score(hsv_a, hsv_b) -> float:
    """ContentDetector's score between two HSV images (default weights)."""
    import cv2

    sums = cv2.sumElems(cv2.absdiff(hsv_a, hsv_b))
    return (sums[0] + sums[1] + sums[2]) / 3.0 / float(hsv_a.shape[0] * hsv_a.shape[1])


class _Picture:
    """One frame as the transition test reads it: HSV (content score) and grey (blend fit)."""

    __slots__ = ("_f", "grey", "hsv", "mean", "spread")

    def __init__(self, hsv, grey):
        self.hsv, self.grey, self._f = hsv, grey, None

    def f(self) -> np.ndarray:
        """The grey image averaged over BLEND_CELL-pixel cells: blends stay blends, and the small
        motion of the shots on either side of a dissolve no longer hides it."""
        if self._f is None:
            import cv2

            h, w = self.grey.shape
            small = cv2.resize(self.grey, (max(1, w // BLEND_CELL), max(1, h // BLEND_CELL)),
                               interpolation=cv2.INTER_AREA)
            mean, std = cv2.meanStdDev(small)
            self._f = small.astype(np.float32).ravel()
            self.mean, self.spread = float(mean[0, 0]), float(std[0, 0]) * self._f.size ** 0.5
        return self._f


def _l1(x: np.ndarray) -> float:
    import cv2

    return cv2.norm(x, cv2.NORM_L1)


def _correlation(p: _Picture, q: _Picture) -> float:
    """Pearson correlation of two pictures' cell images (1 when one of them is flat)."""
    x, y = p.f(), q.f()
    den = p.spread * q.spread
    return (float(np.dot(x, y)) - x.size * p.mean * q.mean) / den if den > 0 else 1.0


@dataclass
class _Candidate:
    a: int
    b: int
    start: int
    end: int
    residual: float


@dataclass
class _Transitions:
    """Windows that join two different pictures by a blend (see the module docstring).

    Windows, their margins and their strides are measured in video frames (`numbers`, each fed
    frame's number in the video), so where only some frames are fed (a skipping decoder) a window
    still spans the time it names, and a picture half a window away is as far as on every frame.
    Where every frame is fed, numbers are positions and everything is as on every frame."""

    params: ShotParams
    rate: float
    numbers: list[int]  # per fed frame, its number in the video (the feeder appends to it before `feed`)
    seconds: list[float] = field(default_factory=list)
    steps: list[float] = field(default_factory=list)  # visible content score from the previous frame
    flat: list[bool] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    tests: int = 0  # windows whose pictures were compared (cost accounting)

    def __post_init__(self):
        self.lags = sorted({max(3, round(s * self.rate)) for s in self.params.transition_s})
        # a window [a, b] is tested `margin` frames after b, so the frames `margin` before a and
        # after b can show that the pictures on either side hold (see `_test`)
        self._ring: deque[_Picture] = deque(maxlen=max(lag + 2 * _margin(lag) for lag in self.lags) + 1)
        self._cum = [0.0]  # _cum[i + 1] = steps[0] + ... + steps[i] (raw scores: the triangle bound)
        self._seen = [0.0]  # the same sums of the visible scores
        self._plan = [(lag, _margin(lag) + lag, _stride(lag)) for lag in self.lags]
        self._reach = max(back for _, back, _ in self._plan)  # frames from the earliest window start
        self._next = dict.fromkeys(self.lags, 0)  # per lag, the first fed frame not yet a window start

    def feed(self, seconds: float, hsv, grey, step: float, visible: float, flat: bool, new: bool) -> None:
        """`step`: the content score from the previous frame; `visible`: the same, 0 between two
        flat pictures."""
        i = len(self.seconds)
        self.seconds.append(seconds)
        self.steps.append(visible)
        cum = self._cum
        cum.append(cum[-1] + step)
        self._seen.append(self._seen[-1] + visible)
        self.flat.append(flat)
        self._ring.append(_Picture(hsv, grey) if new or not self._ring else self._ring[-1])
        quiet = i >= self._reach and cum[i + 1] - cum[i - self._reach] < self.params.transition_score
        for lag, back, stride in self._plan:  # the windows whose margin after them is now complete
            self._starts(lag, stride, self._at(self.numbers[i] - back + 1), i, quiet)

    def _starts(self, lag: int, stride: int, stop: int, after: int, quiet: bool = False) -> None:
        """Test the windows of `lag` from each fed frame before `stop` not yet tested that is the first
        fed frame of its stride; `quiet`: the last `_reach` steps add up to too little for a
        transition, so no window inside them is tested."""
        for a in range(self._next[lag], stop):
            if quiet and a >= after - self._reach - 1:
                continue
            if a == 0 or self.numbers[a] // stride != self.numbers[a - 1] // stride:
                self._window(a, lag, after)
        self._next[lag] = max(self._next[lag], stop)

    def finish(self) -> None:
        """Test the windows that end too close to the last frame to be tested while feeding."""
        last = len(self.seconds) - 1
        for lag in self.lags:
            self._starts(lag, _stride(lag), self._at(self.numbers[last] - lag + 1), last)

    def _at(self, number: int) -> int:
        """The first fed frame numbered `number` or later."""
        return bisect.bisect_left(self.numbers, number)

    def _window(self, a: int, lag: int, after: int) -> None:
        b = self._at(self.numbers[a] + lag)
        if b > after or self._cum[b + 1] - self._cum[a + 1] < self.params.transition_score:
            return  # the scores inside add up to less than the change a transition makes
        before = self._at(self.numbers[a] - _margin(lag)) if a > 0 else None
        seen, inside = self._seen, (self._seen[b + 1] - self._seen[a + 1]) / (b - a)
        for lo, hi in ((before, a), (b, after)):  # footage changing as fast outside: motion, not a blend
            if lo is not None and hi > lo and inside < self.params.stand_out * (seen[hi + 1] - seen[lo + 1]) / (hi - lo):
                return
        self._test(a, b, before, after if after > b else None)

    def _picture(self, k: int) -> _Picture:
        return self._ring[k - len(self.seconds)]

    def _test(self, a: int, b: int, before: int | None, after: int | None) -> None:
        """Is [a, b] a blend from picture a to picture b, with the pictures holding outside it
        (the frame `before` is still picture a, the frame `after` already picture b)? A pan or a
        slowly changing picture also looks like a blend inside a window, but it goes on changing
        the same way outside it."""
        p = self.params
        flat_a, flat_b = self.flat[a], self.flat[b]
        steps = self.steps[a + 1: b + 1]
        steepest = max(steps)
        k = a + 1 + steps.index(steepest)
        share = min(SPARSE_SHARE, p.gradual_share * (self.numbers[k] - self.numbers[k - 1]))
        if (flat_a and flat_b) or steepest > share * (self._cum[b + 1] - self._cum[a + 1]):
            return  # one step carries more than the share of any change the window can make: a cut
        first, last = self._picture(a), self._picture(b)
        self.tests += 1
        if not (flat_a or flat_b) and _correlation(first, last) > p.same_picture:
            return  # one picture, changed in exposure or by an overlay
        x0 = first.f()
        d = last.f() - x0
        dd = float(np.dot(d, d))
        size = _l1(d)
        if dd <= 0 or size <= 0:
            return
        worst, previous = 0.0, -0.1
        for m in sorted({a + round(k * (b - a) / 4) for k in (1, 2, 3)} - {a, b}):
            x = self._picture(m).f() - x0
            alpha = float(np.dot(x, d)) / dd
            if not (previous - 0.05 <= alpha <= 1.1):
                return
            worst = max(worst, _l1(x - alpha * d) / size)
            if worst > p.blend_residual:
                return
            previous = alpha
        for m, expected in ((before, 0.0), (after, 1.0)):
            if m is None:
                continue
            x = self._picture(m).f() - x0
            alpha = float(np.dot(x, d)) / dd
            if abs(alpha - expected) > p.hold or _l1(x - expected * d) / size > p.blend_residual:
                return
        change = content_score(first.hsv, last.hsv)  # the dearest test last
        if change < p.transition_score or steepest > share * change:
            return
        self._add(a, b, worst, x0, d, dd)

    def _add(self, a: int, b: int, residual: float, x0, d, dd: float) -> None:
        """Record the window with its extent: the last frame still mostly the first picture and the
        first frame already mostly the last one (blend weight 0.1 and 0.9)."""
        alphas = [float(np.dot(self._picture(k).f() - x0, d)) / dd for k in range(a, b + 1)]
        start = end = 0
        while start + 1 < len(alphas) and alphas[start + 1] <= 0.1:
            start += 1
        end = len(alphas) - 1
        while end - 1 > start and alphas[end - 1] >= 0.9:
            end -= 1
        self.candidates.append(_Candidate(a, b, a + start, a + end, residual))

    def resolve(self, hard: list[int]) -> tuple[list[Transition], list[int]]:
        """Transitions (windows merged where their extents overlap; a fade out and a fade in with
        only flat frames between them are one) and the hard cuts that survive (one strictly inside
        a verified blend is the noise of dark frames, not a cut)."""
        spans: list[_Span] = []
        for c in sorted(self.candidates, key=lambda c: (c.start, c.end)):
            if spans and c.start <= spans[-1].end:
                spans[-1].take(c, self.flat)
            else:
                spans.append(_Span(c.start, c.end).take(c, self.flat))
        merged: list[_Span] = []
        for span in spans:
            last = merged[-1] if merged else None
            if (last is not None and last.to_flat is not None and span.from_flat is not None
                    and all(self.flat[last.to_flat: span.from_flat + 1])):
                last.end, last.to_flat, last.through_flat = span.end, span.to_flat, True  # out, in: one fade
            else:
                merged.append(span)
        hard = [c for c in hard if not any(t.start < c < t.end for t in merged)]
        content = np.cumsum([not f for f in self.flat])  # non-flat frames up to each index
        n = len(self.seconds)
        out = []
        for t in merged:
            lo = t.from_flat if t.from_flat is not None else t.start
            hi = t.to_flat if t.to_flat is not None else t.end
            while lo > 0 and self.flat[lo - 1]:
                lo -= 1
            while hi < n - 1 and self.flat[hi + 1]:
                hi += 1
            before = lo > 0 and bool(content[lo - 1])  # a picture before (not only flat frames)
            after = hi < n - 1 and bool(content[-1] - content[hi])
            mid = (t.start + t.end + 1) // 2
            near_cut = any(lo <= c <= hi + 1 or abs(c - mid) < self.params.min_scene_frames for c in hard)
            kind = ("fade" if t.through_flat else "fade_in" if t.from_flat is not None else
                    "fade_out" if t.to_flat is not None else "dissolve")
            out.append(Transition(round(self.seconds[t.start], 6), round(self.seconds[t.end], 6), t.start, t.end,
                                  kind, before and after and not near_cut))
        return out, hard


@dataclass
class _Span:
    """Overlapping windows: their extent, and the flat frames they start from or end on."""

    start: int
    end: int
    from_flat: int | None = None  # earliest flat first frame of a window (a fade in from it)
    to_flat: int | None = None  # latest flat last frame of a window (a fade out to it)
    through_flat: bool = False

    def take(self, c: _Candidate, flat: list[bool]) -> _Span:
        self.start, self.end = min(self.start, c.start), max(self.end, c.end)
        if flat[c.a]:
            self.from_flat = c.a if self.from_flat is None else min(self.from_flat, c.a)
        if flat[c.b]:
            self.to_flat = c.b if self.to_flat is None else max(self.to_flat, c.b)
        return self


def _margin(lag: int) -> int:
    """Frames before and after a window that must still show its first and last picture."""
    return max(2, lag // 2)


def _stride(lag: int) -> int:
    """Windows of `lag` frames are tested every this many frames: a transition shorter than the
    window by this much is still covered whole by one of them (the longer lags catch the rest)."""
    return max(1, lag // 10)


class CutDetector:
    """Feed decoded frames in presentation order; `shots()` returns the cuts and transitions,
    `cuts()` the cut times in seconds. Frames are counted by their number in the video (given with
    each frame where frames between were not decoded, else their position), so min_scene_frames is
    in real frames whatever the timestamps, and so are the transition test's windows; times come
    from the timestamps. The adaptive rule's neighbours still count fed frames: where only every few
    frames are fed they span that many times as long (bench_footage measures what that does to the
    shots)."""

    def __init__(self, stream, params: ShotParams = SHOTS):
        self.params = params
        rate = float(stream.guessed_rate or stream.average_rate or 25)  # only sizes the transition windows
        self._scorer = content_detector(params.cut_score)  # only its (fast) frame score is used
        self._cuts = AdaptiveCuts(params)
        self._images = DetectionImages()
        tb = Fraction(stream.time_base)
        self._tb = (tb.numerator, tb.denominator)
        self._origin = stream.start_time  # time 0: the stream's first timestamp (its first frame's, if unset)
        self._numbers: list[int] = []  # per fed frame, its number in the video
        self._transitions = _Transitions(params, rate, self._numbers)
        self._found: list[int] = []
        self._shots: Shots | None = None
        self.image = None  # the last frame as the detector saw it
        self.grey = None  # ... and in grey
        self._flat = False

    def feed(self, frame, repeat: bool = False, number: int | None = None) -> None:
        """`repeat`: the frame's pixels are exactly the previous frame's (its image is reused);
        `number`: its number among the video's frames, when frames before it were not decoded
        (skipped non-reference frames): cuts are then reported and spaced by real frame numbers."""
        import cv2

        if frame.pts is None:
            raise ValueError("a decoded frame has no timestamp")
        new = not repeat or self.image is None
        was_flat = self._flat
        if new:
            self.image = self._images.bgr(frame)
            self.grey = cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY)
            self._flat = float(cv2.meanStdDev(self.grey)[1][0, 0]) < self.params.flat_std
        if self._origin is None:
            self._origin = frame.pts
        seconds = self.time_of(frame.pts)  # int / int: rounded once, as float(Fraction)
        raw = self._scorer._calculate_frame_score(None, self.image)
        # from one flat picture to another (a nearly black frame to a black one) nothing is seen to
        # change, but hue and saturation of dark pixels are noise: the step is muted, not a cut
        visible = 0.0 if self._flat and was_flat else raw
        position = len(self._transitions.seconds)
        number = position if number is None else number
        if self._numbers and number <= self._numbers[-1]:
            number = self._numbers[-1] + 1  # numbers only grow: a window's frames lie between its ends
        self._numbers.append(number)
        cut = self._cuts.feed(position, visible, number)
        if cut is not None:
            self._found.append(cut)
        self._transitions.feed(seconds, self._scorer.hsv, self.grey, raw, visible, self._flat, new)

    def time_of(self, pts: int) -> float:
        """A frame's presentation time on the clock the cuts are given on (after the first frame fed)."""
        num, den = self._tb
        return (pts - self._origin) * num / den

    def shots(self) -> Shots:
        if self._shots is None:
            t = self._transitions
            t.finish()
            transitions, hard = t.resolve(sorted(set(self._found)))
            numbers = self._numbers
            cuts = [Cut(round(t.seconds[k], 6), numbers[k], "cut") for k in hard]
            for tr in transitions:
                if tr.boundary:
                    k = (tr.start_frame + tr.end_frame + 1) // 2
                    cuts.append(Cut(round(t.seconds[k], 6), numbers[k], tr.kind))
            transitions = [replace(tr, start_frame=numbers[tr.start_frame], end_frame=numbers[tr.end_frame])
                           for tr in transitions]
            self._shots = Shots(sorted(cuts, key=lambda c: c.frame), transitions, t.seconds)
        return self._shots

    def cuts(self) -> list[float]:
        return self.shots().cut_times


def detect_shots(path: str | Path, params: ShotParams = SHOTS) -> Shots:
    """Cuts and transitions of the video at `path` (one full decode)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        detector = CutDetector(stream, params)
        for frame in container.decode(stream):
            detector.feed(frame)
    return detector.shots()
