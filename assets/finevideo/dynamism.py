"""FineVideo's dynamism measurement of one video, decoding as little as the decisions allow.

FineVideo spent one full-decode ffmpeg call per 60 s segment. Here a video is first skimmed by its
keyframes (a few percent of the decode work). Two keyframes that differ by more than 2n rule out
every freeze that would hold both (`freezes.unbroken`), so where such pairs fall inside every
window a freeze would need, no 50 s freeze can exist and nothing else is decoded: most moving
videos end there ("keyframes"). The first skim seeks to keyframes about 24 s apart; where those
leave references open, a second one visits every keyframe there. Otherwise only what the keyframes could
not settle is decoded: each 60 s window of FineVideo's and of the fixed rule that could still hold
a freeze, and the stretches where a whole-video freeze could start ("partial"); when that is most
of the video, all of it ("full", which also yields the shots: cuts and transitions). Each decoded
frame feeds every open window's freezedetect (`WindowRun`, exactly as FineVideo's per-segment calls
see it), a freezedetect run over the decoded stretch (freeze intervals, time-based static
fraction), and in a full decode the shot detector (PySceneDetect's AdaptiveDetector rule and the
fade/dissolve test, scene_cuts.py). Every path gives the per-segment verdicts FineVideo's method
gives, frame for frame; a window the keyframes settled could not have held a freeze. Frames
are compared only where the triangle inequality leaves the verdict open (`_Verdicts`, `_Skim`).

Freeze intervals come from freezedetect run over each decoded stretch from its first frame (a full
decode: one run over the whole video, exactly ffmpeg's). Every 50 s freeze lies inside a stretch,
since its start is a reference the keyframes could not rule out.
"""

from __future__ import annotations

import math
import time
import weakref
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

from assets.finevideo.frame_diff import Pixels, Sampler, limit_of, sad
from assets.finevideo.freezes import (
    DEFAULTS,
    US,
    DynamismRules,
    FreezeRun,
    Window,
    WindowRun,
    finevideo_windows,
    fixed_windows,
    intervals,
    is_static,
    static_fraction,
    unbroken,
)
from assets.finevideo.scene_cuts import SHOTS, CutDetector, DetectionImages, ShotParams, Shots

MAX_PENDING_KEYFRAMES = 64  # keyframes held for comparison; dropping older ones only loses evidence
KEYFRAME_CACHE_BYTES = 192 << 20  # decoded keyframes kept for the second skim (past it, they decode again)
SKIM_STEP_SHARE = 0.48  # sparse keyframes at most this share of d apart: two neighbouring gaps span under d
FULL_SHARE = 0.8  # decode everything once the stretches to decode cover this share of the video
MERGE_GAP_S = 10.0  # stretches closer than this are decoded as one
FRAME_SLACK_S = 1.0  # a FineVideo call also sees the first frame after its 60 s


@dataclass(frozen=True)
class Dynamism:
    duration_s: float
    format_duration_s: float
    segments: int
    static_segments: int
    finevideo_static: bool
    fixed_segments: int
    fixed_static_segments: int
    fixed_static: bool
    fixed_static_fraction: float  # what the screen's `static` rule compares with the static share
    static_fraction_segments: float
    static_fraction_time: float
    longest_freeze_s: float
    freeze_intervals: list[tuple[float, float]]
    decode_mode: str  # "keyframes" | "partial" | "full"
    scene_cuts_s: list[float] | None  # shot boundaries (presentation seconds), from a full decode only
    transitions: list[tuple[float, float, str]] | None  # fades and dissolves: (start_s, end_s, kind)
    motion_per_second: list[float]
    frames_decoded: int
    cpu_s: float


@dataclass(frozen=True)
class _Stream:
    time_base: Fraction
    rate: Fraction | None
    origin: Fraction  # the container's start time: ffmpeg's -ss counts from it
    format_duration_s: float

    def __post_init__(self):
        # pts * time_base - origin as one integer fraction: int / int rounds once, as float(Fraction) does
        tb, o = self.time_base, self.origin
        object.__setattr__(self, "_terms", (tb.numerator * o.denominator, o.numerator * tb.denominator,
                                            tb.denominator * o.denominator))

    def seconds(self, pts: int | None) -> float:
        if pts is None:
            raise ValueError("a decoded frame has no timestamp")
        scale, offset, den = self._terms
        return (pts * scale - offset) / den


def _open(path: Path):
    import av

    container = av.open(str(path))
    stream = container.streams.video[0]
    stream.thread_type = "NONE"  # workers run in parallel; one thread each costs the least CPU
    stream.codec_context.thread_count = 1
    return container, stream


def _stream_info(container, stream, duration_s: float) -> _Stream:
    rate = stream.average_rate or stream.guessed_rate
    fmt_duration = container.duration / US if container.duration else duration_s
    return _Stream(Fraction(stream.time_base), Fraction(rate) if rate else None,
                   Fraction(container.start_time or 0, US), fmt_duration)


@dataclass(slots=True)
class _Pending:
    """A visited keyframe no break has settled yet."""

    t: float
    px: Pixels
    bound: int  # at least its sum of absolute differences from the keyframe visited last


@dataclass
class _Skim:
    """Keyframes visited in time order, each compared with the earlier ones no break has settled
    yet (within d): the breaks found, and small grey images for the motion profile.

    A pair is measured only when the triangle inequality cannot settle it: each keyframe is measured
    against the one visited before it, and an earlier keyframe's bound plus that step, when within
    2n, proves it is no break (still footage: one measurement per keyframe, not one per pending)."""

    noise: float
    d_s: float
    breaks: list[tuple[float, float]] = field(default_factory=list)
    greys: dict[float, object] = field(default_factory=dict)
    decoded: int = 0
    frames: dict[int, object] = field(default_factory=dict)  # pts -> decoded keyframe, within the byte budget
    _cached_bytes: int = 0
    _pending: list[_Pending] = field(default_factory=list)
    _sampler: Sampler = field(default_factory=Sampler)
    _images: DetectionImages = field(default_factory=DetectionImages)

    def restart(self) -> None:
        self._pending = []

    def visit(self, t: float, frame) -> Pixels:
        px = self._sampler.pixels(frame)
        limit = limit_of(px, 2 * self.noise)
        near = [p for p in self._pending if t - p.t <= self.d_s]  # farther ones can rule nothing out
        step = sad(near[-1].px, px, limit) if near else 0  # from the keyframe visited last
        still = []
        for p in near:
            if p is near[-1]:
                diff = step
            elif p.bound + step <= limit:
                diff = p.bound + step  # an upper bound, and already within 2n
            else:
                diff = sad(p.px, px, limit)
            if diff > limit:
                self.breaks.append((p.t, t))
            else:
                p.bound = diff
                still.append(p)
        self._pending = [*still, _Pending(t, px, 0)][-MAX_PENDING_KEYFRAMES:]
        if t not in self.greys:
            self.greys[t] = _grey(self._images.bgr(frame))
        return px

    def decode(self, ctx, packet):
        """The keyframe in `packet`, decoded on its own (or held from an earlier skim)."""
        cached = self.frames.get(packet.pts)
        if cached is not None:
            return cached
        frames = [*ctx.decode(packet), *ctx.decode(None)]
        ctx.flush_buffers()
        self.decoded += 1
        if not frames:
            raise ValueError(f"the keyframe at pts {packet.pts} does not decode on its own")
        self._keep(packet.pts, frames[-1])
        return frames[-1]

    def _keep(self, pts: int, frame) -> None:
        """Hold a decoded keyframe for the second skim, which visits the first one's keyframes again."""
        size = sum(p.buffer_size for p in frame.planes)
        if self._cached_bytes + size <= KEYFRAME_CACHE_BYTES:
            self.frames[pts] = frame
            self._cached_bytes += size

    def changes(self) -> list[tuple[float, float, float]]:
        times = sorted(self.greys)
        return [(a, b, _change(self.greys[a], self.greys[b])) for a, b in zip(times, times[1:], strict=False)]


@contextmanager
def _keyframes_only(stream):
    """The demuxer reads keyframe packets only, and the decoder decodes nothing else."""
    from av.stream import Discard

    ctx = stream.codec_context
    ctx.skip_frame, stream.discard = "NONKEY", Discard.nonkey
    try:
        yield ctx
    finally:
        ctx.skip_frame, stream.discard = "DEFAULT", Discard.default


def _skim_sparse(container, stream, info: _Stream, skim: _Skim, step_s: float) -> None:
    """Visit keyframes at most `step_s` apart where the GOP allows (else the next one), from the first
    to the last. With two neighbouring gaps under d, breaks between neighbours alone rule out every
    reference, so moving footage is settled by these few frames."""
    skim.restart()
    with _keyframes_only(stream) as ctx:
        found = next(_keyframe_packets(container, stream, info), None)
        while found is not None:
            last, packet = found
            skim.visit(last, skim.decode(ctx, packet))
            found = _keyframe_after(container, stream, info, last, last + step_s)


def _keyframe_after(container, stream, info: _Stream, last: float, target: float):
    """(time, packet) of the latest keyframe after `last` and at or before `target`, else of the first
    one after `last`; None past the end. Through the container's index the seek lands on it, so the
    demuxer reads it and the next keyframe only; elsewhere, the keyframes from where it lands."""
    container.seek(_pts(target, info), stream=stream, backward=True, any_frame=False)
    found = None
    for t, packet in _keyframe_packets(container, stream, info):
        if t > target:
            return found or (t, packet)
        if t > last:
            found = (t, packet)
    return found


def _skim_dense(container, stream, info: _Stream, skim: _Skim, regions: list[tuple[float, float]]) -> None:
    """Visit every keyframe in `regions` (sorted, apart): where the sparse skim left references open,
    keyframes closer together may still rule them out."""
    skim.restart()
    with _keyframes_only(stream) as ctx:
        inside = False
        for t, packet in _keyframes(container, stream, info, regions):
            if not any(a <= t <= b for a, b in regions):
                if inside:
                    skim.restart()  # regions are separate: do not pair across the gap
                inside = False
                continue
            inside = True
            skim.visit(t, skim.decode(ctx, packet))


def _keyframe_packets(container, stream, info: _Stream):
    """(time, packet) of each keyframe from the demuxer's position on."""
    for packet in container.demux(stream):
        if packet.is_keyframe and packet.pts is not None and packet.size:
            yield info.seconds(packet.pts), packet


def _keyframes(container, stream, info: _Stream, regions: list[tuple[float, float]]):
    """(time, packet) of each keyframe in stream order from the keyframe at or before each region's
    start (`regions` sorted, apart) to its end, so the demuxer skips the rest of the file."""
    done = -math.inf  # a region's seek can land on keyframes the previous region already gave
    for lo, hi in regions:
        container.seek(_pts(lo, info), stream=stream, backward=True, any_frame=False)
        for t, packet in _keyframe_packets(container, stream, info):
            if t > hi:
                break
            if t > done:
                done = t
                yield t, packet


def _pts(seconds: float, info: _Stream) -> int:
    """The stream timestamp at or before `seconds` from the stream start."""
    return math.floor((Fraction(seconds).limit_denominator(US) + info.origin) / info.time_base)


def _plan(breaks: list[tuple[float, float]], windows: list[Window], whole: Window, duration_s: float
          ) -> tuple[set[Window], list[tuple[float, float]]]:
    """The windows the keyframes did not settle, and the stretches of video to decode for them and
    for every whole-video freeze that could exist."""
    open_windows, stretches = set(), []
    for w in windows:
        lo = float(w.start)
        hi = duration_s if w.span is None else min(duration_s, lo + float(w.span) + FRAME_SLACK_S)
        if unbroken(breaks, lo, hi, w.d_us / US):
            open_windows.add(w)
            stretches.append((lo, hi))
    d = whole.d_us / US
    stretches += [(a, min(duration_s, b + d + FRAME_SLACK_S)) for a, b in unbroken(breaks, 0.0, duration_s, d)]
    merged: list[list[float]] = []
    for a, b in sorted(stretches):
        if merged and a <= merged[-1][1] + MERGE_GAP_S:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return open_windows, [(a, b) for a, b in merged]


def _decode_all(path: Path, info: _Stream, windows: list[Window], noise: float, shots: ShotParams
                ) -> tuple[dict[Window, WindowRun], Shots, list[tuple[float, float, float]], int]:
    container, stream = _open(path)  # a fresh demuxer: every packet from the first, as ffmpeg reads them
    runs = {w: WindowRun(w, info.time_base, info.origin, info.rate) for w in windows}
    cutter = CutDetector(stream, shots)
    changes: list[tuple[float, float, float]] = []
    previous: tuple[float, object] | None = None  # (time, grey detection image)
    verdicts = _Verdicts(noise)
    sampler = Sampler()
    active = list(runs.values())
    decoded = 0
    with container:
        for frame in container.decode(stream):
            decoded += 1
            t, px = info.seconds(frame.pts), sampler.pixels(frame)
            repeat = verdicts.next_frame(px)
            for run in active:
                run.feed(frame.pts, px, verdicts.differs)
            cutter.feed(frame, repeat)
            if previous is None:
                grey = cutter.grey
            elif repeat:
                grey = previous[1]
                changes.append((previous[0], t, 0.0))
            else:
                grey = cutter.grey
                changes.append((previous[0], t, _change(previous[1], grey)))
            previous = (t, grey)
    return runs, cutter.shots(), changes, decoded


def _decode_stretches(container, stream, info: _Stream, stretches: list[tuple[float, float]],
                      windows: set[Window], noise: float, freeze_us: int
                      ) -> tuple[dict[Window, WindowRun], list[FreezeRun], int]:
    """Decode each stretch from the keyframe before it; a stretch runs on while a freeze is open."""
    runs = {w: WindowRun(w, info.time_base, info.origin, info.rate) for w in windows}
    sampler, whole_runs, decoded = Sampler(), [], 0
    for lo, hi in stretches:
        container.seek(_pts(lo, info), stream=stream, backward=True, any_frame=False)
        whole = FreezeRun(freeze_us, info.time_base, info.rate)
        verdicts = _Verdicts(noise)
        for frame in container.decode(stream):
            decoded += 1
            px = sampler.pixels(frame)
            verdicts.next_frame(px)
            for run in runs.values():
                run.feed(frame.pts, px, verdicts.differs)
            whole.feed(frame.pts, px, verdicts.differs)
            if info.seconds(frame.pts) >= hi and not whole.in_freeze:
                break
        whole_runs.append(whole)
    return runs, whole_runs, decoded


class _Verdicts:
    """`differs(reference, frame)` for the current frame, measured as rarely as the triangle
    inequality allows. Each frame's sum of absolute differences from the previous one (the step) is
    measured once; zero is an exact repeat. A reference's last measured sum, give or take the steps
    since, bounds its sum now from both sides, so still and slowly changing footage settles most
    verdicts without reading the reference again. Windows usually share their reference, so bounds
    are kept per reference (by identity, while it lives), and the previous frame, which a window
    may have just taken as its reference, is known from its step."""

    def __init__(self, noise: float):
        self.noise = noise
        self._frame: Pixels | None = None
        self._travel = 0  # the steps so far (each exact, or the largest possible sum where it passed n)
        self._known: dict[int, tuple[int, float, int]] = {}  # id(ref) -> (lower, upper, travel when measured)

    def next_frame(self, frame: Pixels) -> bool:
        """Take the next decoded frame; returns whether it repeats the previous one exactly."""
        previous, self._frame = self._frame, frame
        if previous is None:
            return False
        limit = limit_of(frame, self.noise)
        step = sad(previous, frame, limit)
        self._travel += step if step <= limit else frame.samples * ((1 << frame.bits) - 1)
        self._remember(previous, step, limit)
        return step == 0

    def differs(self, ref: Pixels, frame: Pixels) -> bool:
        limit = limit_of(frame, self.noise)
        known = self._known.get(id(ref))
        if known is not None:
            lower, upper, at = known
            since = self._travel - at
            if upper + since <= limit:
                return False
            if lower - since > limit:
                return True
        measured = sad(ref, frame, limit)
        self._remember(ref, measured, limit)
        return measured > limit

    def _remember(self, ref: Pixels, measured: int, limit: int) -> None:
        """`measured`: `sad` of `ref` and the current frame (exact within `limit`, else a lower bound)."""
        key = id(ref)
        if key not in self._known:
            weakref.finalize(ref, self._known.pop, key, None)  # forget it when no window holds it
        self._known[key] = (measured, measured if measured <= limit else math.inf, self._travel)


def _grey(bgr):
    import cv2

    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def _change(a, b) -> float:
    """Mean absolute luma difference, 0-1, on the small images the scene detector sees."""
    import cv2

    return cv2.norm(a, b, cv2.NORM_L1) / a.size / 255.0


def motion_profile(changes: list[tuple[float, float, float]], duration_s: float) -> list[float]:
    """Mean luma change per second of video: each change between two decoded frames counts for the
    seconds it spans; seconds after the last decoded frame repeat the last value."""
    n = max(1, math.ceil(duration_s - 1e-9))
    sums, counts = [0.0] * n, [0] * n
    for a, b, change in changes:
        first = min(n - 1, max(0, math.floor(a)))
        last = min(n - 1, max(first, math.ceil(b) - 1))
        for s in range(first, last + 1):
            sums[s] += change
            counts[s] += 1
    out, last_value = [], 0.0
    for s, c in zip(sums, counts, strict=True):
        last_value = s / c if c else last_value
        out.append(round(last_value, 6))
    return out


def analyse(path: str | Path, duration_s: float, params: DynamismRules = DEFAULTS, shots: ShotParams = SHOTS,
            skim: bool = True) -> Dynamism:
    """Measure one video with `params` (freezedetect n and d, the window length, the static share);
    `duration_s` is its real (packet-covered) duration; `shots` the shot detector's parameters (a
    full decode also yields the cuts and transitions). `skim=False` decodes everything (the
    reference the keyframe shortcuts are tested against)."""
    started = time.process_time()
    path = Path(path)
    container, stream = _open(path)  # one demuxer for the skims and the stretches
    with container:
        info = _stream_info(container, stream, duration_s)
        if skim:
            return _settle(path, container, stream, info, duration_s, params, shots, started)
    return _full(path, info, duration_s, params, shots, started, 0)


def _settle(path: Path, container, stream, info: _Stream, duration_s: float, p: DynamismRules, shots: ShotParams,
            started: float) -> Dynamism:
    """Keyframe skims, then the stretches they left, or everything (decoded afresh) when that is most
    of the video."""
    compat, fixed, whole = _windows(info, duration_s, p)
    windows = list(dict.fromkeys([*compat, *fixed]))
    noise = p.noise
    keyframes = _Skim(noise, min(w.d_us for w in [*windows, whole]) / US)
    try:
        _skim_sparse(container, stream, info, keyframes, SKIM_STEP_SHARE * keyframes.d_s)
        open_windows, stretches = _plan(keyframes.breaks, windows, whole, duration_s)
        if stretches:  # look at every keyframe where it matters before decoding more
            _skim_dense(container, stream, info, keyframes, stretches)
            open_windows, stretches = _plan(keyframes.breaks, windows, whole, duration_s)
    except ValueError:  # a keyframe that does not decode on its own
        return _full(path, info, duration_s, p, shots, started, keyframes.decoded)
    finally:
        keyframes.frames.clear()  # the skims are done
    if not stretches:
        return _result(info, duration_s, p, "keyframes", 0, 0, [], None, keyframes.changes(), keyframes.decoded,
                       started)
    if sum(b - a for a, b in stretches) >= FULL_SHARE * duration_s:
        return _full(path, info, duration_s, p, shots, started, keyframes.decoded)
    runs, whole_runs, n = _decode_stretches(container, stream, info, stretches, open_windows, noise, whole.d_us)
    freezes = [iv for run in whole_runs for iv in intervals(run.events, info.time_base, info.origin, duration_s)]
    return _result(info, duration_s, p, "partial", sum(runs[w].run.detected for w in compat if w in runs),
                   sum(runs[w].run.detected for w in fixed if w in runs), freezes, None, keyframes.changes(),
                   keyframes.decoded + n, started)


def _windows(info: _Stream, duration_s: float, p: DynamismRules) -> tuple[list[Window], list[Window], Window]:
    """FineVideo's calls, the fixed rule's windows, and the whole video (for the freeze intervals)."""
    return (finevideo_windows(info.format_duration_s, p)[0], fixed_windows(duration_s, p),
            Window(Fraction(0), None, p.freeze_us))


def _full(path: Path, info: _Stream, duration_s: float, p: DynamismRules, shots: ShotParams, started: float,
          decoded: int) -> Dynamism:
    compat, fixed, whole = _windows(info, duration_s, p)
    windows = list(dict.fromkeys([*compat, *fixed, whole]))
    runs, found, changes, n = _decode_all(path, info, windows, p.noise, shots)
    freezes = intervals(runs[whole].run.events, info.time_base, info.origin, duration_s)
    return _result(info, duration_s, p, "full", sum(runs[w].run.detected for w in compat),
                   sum(runs[w].run.detected for w in fixed), freezes, found, changes, decoded + n, started)


def _result(info: _Stream, duration_s: float, p: DynamismRules, mode: str, static: int, fixed_static: int,
            freezes: list[tuple[float, float]], shots: Shots | None, changes: list[tuple[float, float, float]],
            decoded: int, started: float) -> Dynamism:
    segments = finevideo_windows(info.format_duration_s, p)[1]
    fixed = len(fixed_windows(duration_s, p))
    frozen = sum(b - a for a, b in freezes)
    return Dynamism(
        duration_s=duration_s, format_duration_s=info.format_duration_s, segments=segments,
        static_segments=static, finevideo_static=is_static(static, segments, p.static_ratio),
        fixed_segments=fixed, fixed_static_segments=fixed_static,
        fixed_static=is_static(fixed_static, fixed, p.static_ratio),
        fixed_static_fraction=static_fraction(fixed_static, fixed),
        static_fraction_segments=round(static / segments, 6) if segments else 0.0,
        static_fraction_time=round(min(1.0, frozen / duration_s), 6) if duration_s > 0 else 0.0,
        longest_freeze_s=round(max((b - a for a, b in freezes), default=0.0), 6),
        freeze_intervals=freezes, decode_mode=mode, scene_cuts_s=None if shots is None else shots.cut_times,
        transitions=None if shots is None else [(t.start_s, t.end_s, t.kind) for t in shots.transitions],
        motion_per_second=motion_profile(changes, duration_s), frames_decoded=decoded,
        cpu_s=round(time.process_time() - started, 4),
    )


def _worker_init() -> None:
    import cv2

    cv2.setNumThreads(1)  # processes give the parallelism; threads would only add CPU time


def measure(job: tuple[str, str, float], params: dict | None = None) -> dict:
    """Process-pool entry: (record_id, local path, duration) and the parameters (a plain dict, so any
    process can rebuild them) to the row's fields, or its error."""
    record_id, path, duration_s = job
    try:
        p = DEFAULTS if params is None else DynamismRules(**params)
        return {"record_id": record_id, "error": None, **asdict(analyse(path, duration_s, p))}
    except Exception as e:  # this video fails; the others go on
        return {"record_id": record_id, "error": f"{type(e).__name__}: {e}"}


def measure_all(jobs: list[tuple[str, str, float]], workers: int, params: DynamismRules = DEFAULTS) -> list[dict]:
    """Measure videos with `params` in a process pool of `workers`. A worker that dies (a decoder
    crash takes the process with it) breaks the pool; its unfinished videos are then retried one
    per fresh process, so the crash is pinned on the video that caused it and every other video is
    still measured."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if not jobs:
        return []
    settings = params.model_dump()
    context = multiprocessing.get_context("spawn")  # no fork of a threaded parent

    def pool(n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(n, mp_context=context, initializer=_worker_init)

    results: dict[str, dict] = {}
    retry = []
    with pool(max(1, min(workers, len(jobs)))) as executor:
        futures = [(job, executor.submit(measure, job, settings)) for job in jobs]
        for job, future in futures:
            try:
                results[job[0]] = future.result()
            except BrokenProcessPool:
                retry.append(job)
    for job in retry:
        with pool(1) as executor:
            try:
                results[job[0]] = executor.submit(measure, job, settings).result()
            except BrokenProcessPool as e:
                results[job[0]] = {"record_id": job[0], "error": f"worker process died: {e}"}
    return [results[job[0]] for job in jobs]
