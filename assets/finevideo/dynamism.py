"""FineVideo's dynamism measurement of one video, decoding as little as the decision allows.

FineVideo spent one full-decode ffmpeg call per 60 s segment. Here a video is first skimmed by its
keyframes only (a few percent of the decode work): when keyframes that differ by more than 2n fall
inside every window a freeze would need, no freeze of 50 s can exist anywhere (`FreezeProof`), so
every segment is dynamic and nothing else is decoded. Otherwise the video is decoded once, and each
frame is fed to every segment's freezedetect (`WindowRun`, exactly as FineVideo's per-segment calls
see them), to the fixed rule's windows, to one whole-video freezedetect (the freeze intervals and the
time-based static fraction), to PySceneDetect's ContentDetector (the scene cuts) and to a per-second
luma-change profile. Both paths give the decision FineVideo's method gives, frame for frame.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from assets.finevideo.frame_diff import Pixels, differs, identical, pixels
from assets.finevideo.freezes import (
    FREEZE_US,
    NOISE,
    US,
    FreezeProof,
    FreezeRun,
    Window,
    WindowRun,
    finevideo_windows,
    fixed_windows,
    intervals,
    is_static,
)
from assets.finevideo.scene_cuts import THRESHOLD, CutDetector, DetectionImages

MAX_PENDING_KEYFRAMES = 64  # unresolved keyframes held in memory before giving up on the proof


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
    static_fraction_segments: float
    static_fraction_time: float
    longest_freeze_s: float
    freeze_intervals: list[tuple[float, float]]
    decode_mode: str  # "keyframes" | "full"
    scene_cuts_s: list[float] | None
    motion_per_second: list[float]
    frames_decoded: int
    cpu_s: float


@dataclass(frozen=True)
class _Stream:
    time_base: Fraction
    rate: Fraction | None
    origin: Fraction  # the container's start time: ffmpeg's -ss counts from it
    format_duration_s: float


def _open(path: Path, keyframes_only: bool):
    import av

    container = av.open(str(path))
    stream = container.streams.video[0]
    stream.thread_type = "NONE"  # workers run in parallel; one thread each costs the least CPU
    stream.codec_context.thread_count = 1
    if keyframes_only:
        stream.codec_context.skip_frame = "NONKEY"
    return container, stream


def _stream_info(container, stream, duration_s: float) -> _Stream:
    rate = stream.average_rate or stream.guessed_rate
    fmt_duration = container.duration / US if container.duration else duration_s
    return _Stream(Fraction(stream.time_base), Fraction(rate) if rate else None,
                   Fraction(container.start_time or 0, US), fmt_duration)


def _seconds(frame, info: _Stream) -> Fraction:
    if frame.pts is None:
        raise ValueError("a decoded frame has no timestamp")
    return frame.pts * info.time_base - info.origin


def _skim_keyframes(path: Path, info: _Stream, proof: FreezeProof, noise: float
                    ) -> tuple[bool, list[tuple[float, float, float]], int]:
    """(proven, luma changes between consecutive keyframes, keyframes decoded)."""
    container, stream = _open(path, keyframes_only=True)
    images = DetectionImages()
    pending: list[tuple[float, Pixels]] = []
    changes: list[tuple[float, float, float]] = []
    previous: tuple[float, object] | None = None  # (time, grey detection image)
    decoded = 0
    with container:
        for frame in container.decode(stream):
            decoded += 1
            t, px = float(_seconds(frame, info)), pixels(frame)
            still_pending = []
            for ti, pi in pending:
                if t - ti > proof.d:
                    continue  # too far apart to rule anything out
                if differs(pi, px, 2 * noise):
                    proof.add_break(ti, t)
                else:
                    still_pending.append((ti, pi))
            pending = [*still_pending, (t, px)]
            grey = _grey(images.bgr(frame))
            if previous is not None:
                changes.append((previous[0], t, _change(previous[1], grey)))
            previous = (t, grey)
            if proof.hopeless(t) or len(pending) > MAX_PENDING_KEYFRAMES:
                return False, changes, decoded
    return proof.proven, changes, decoded


def _decode_all(path: Path, info: _Stream, windows: list[Window], noise: float, threshold: float
                ) -> tuple[dict[Window, WindowRun], list[float], list[tuple[float, float, float]], int]:
    container, stream = _open(path, keyframes_only=False)
    runs = {w: WindowRun(w, FreezeRun(w.d_us, info.time_base, info.rate)) for w in windows}
    cutter = CutDetector(stream, threshold)
    changes: list[tuple[float, float, float]] = []
    previous: tuple[float, Pixels, object] | None = None  # (time, pixels, grey detection image)
    verdicts = _Verdicts(noise)
    decoded = 0
    with container:
        for frame in container.decode(stream):
            decoded += 1
            t, px = _seconds(frame, info), pixels(frame)
            repeat = previous is not None and identical(previous[1], px)
            verdicts.next_frame(px, previous[1] if repeat else None)
            for run in runs.values():
                if run.accepts(t):
                    run.run.feed(frame.pts, px, verdicts.differs)
            cutter.feed(frame, repeat)
            grey = previous[2] if repeat else _grey(cutter.image)
            if previous is not None:
                changes.append((previous[0], float(t), 0.0 if repeat else _change(previous[2], grey)))
            previous = (float(t), px, grey)
    return runs, cutter.cuts(), changes, decoded


class _Verdicts:
    """`differs(reference, frame)` for the current frame. Windows usually share their reference,
    so each reference is measured once per frame; a frame that repeats the previous one exactly
    inherits the previous frame's verdicts (same pixels, same distance to every reference)."""

    def __init__(self, noise: float):
        self.noise = noise
        self._frame: Pixels | None = None
        self._repeats: Pixels | None = None
        self._now: dict[int, tuple[Pixels, bool]] = {}
        self._before: dict[int, tuple[Pixels, bool]] = {}

    def next_frame(self, frame: Pixels, repeats: Pixels | None) -> None:
        self._before = self._now if repeats is not None else {}
        self._now, self._frame, self._repeats = {}, frame, repeats

    def differs(self, ref: Pixels, frame: Pixels) -> bool:
        for cache in (self._now, self._before):
            hit = cache.get(id(ref))
            if hit is not None and hit[0] is ref:
                self._now[id(ref)] = hit
                return hit[1]
        verdict = False if ref is self._repeats else differs(ref, self._frame, self.noise)
        self._now[id(ref)] = (ref, verdict)
        return verdict


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


def analyse(path: str | Path, duration_s: float, noise: float = NOISE, threshold: float = THRESHOLD,
            skim: bool = True) -> Dynamism:
    """Measure one video; `duration_s` is its real (packet-covered) duration."""
    started = time.process_time()
    path = Path(path)
    container, stream = _open(path, keyframes_only=False)
    with container:
        info = _stream_info(container, stream, duration_s)
    compat, segments = finevideo_windows(info.format_duration_s)
    fixed = fixed_windows(duration_s)
    whole = Window(Fraction(0), None, FREEZE_US)
    shortest = min(w.d_us for w in [*compat, *fixed, whole]) / US
    decoded = 0
    if skim:
        proof = FreezeProof(0.0, duration_s, shortest)
        proven, changes, decoded = _skim_keyframes(path, info, proof, noise)
        if proven:
            return Dynamism(
                duration_s=duration_s, format_duration_s=info.format_duration_s, segments=segments,
                static_segments=0, finevideo_static=False, fixed_segments=len(fixed),
                fixed_static_segments=0, fixed_static=False, static_fraction_segments=0.0,
                static_fraction_time=0.0, longest_freeze_s=0.0, freeze_intervals=[],
                decode_mode="keyframes", scene_cuts_s=None,
                motion_per_second=motion_profile(changes, duration_s), frames_decoded=decoded,
                cpu_s=round(time.process_time() - started, 4),
            )
    runs, cuts, changes, full = _decode_all(path, info, [*compat, *fixed, whole], noise, threshold)
    static = sum(runs[w].run.detected for w in compat)
    fixed_static = sum(runs[w].run.detected for w in fixed)
    freezes = intervals(runs[whole].run.events, info.time_base, info.origin, duration_s)
    frozen = sum(b - a for a, b in freezes)
    return Dynamism(
        duration_s=duration_s, format_duration_s=info.format_duration_s, segments=segments,
        static_segments=static, finevideo_static=is_static(static, segments),
        fixed_segments=len(fixed), fixed_static_segments=fixed_static,
        fixed_static=is_static(fixed_static, len(fixed)),
        static_fraction_segments=round(static / segments, 6) if segments else 0.0,
        static_fraction_time=round(min(1.0, frozen / duration_s), 6) if duration_s > 0 else 0.0,
        longest_freeze_s=round(max((b - a for a, b in freezes), default=0.0), 6),
        freeze_intervals=freezes, decode_mode="full", scene_cuts_s=cuts,
        motion_per_second=motion_profile(changes, duration_s), frames_decoded=decoded + full,
        cpu_s=round(time.process_time() - started, 4),
    )


def _worker_init() -> None:
    import cv2

    cv2.setNumThreads(1)  # processes give the parallelism; threads would only add CPU time


def measure(job: tuple[str, str, float]) -> dict:
    """Process-pool entry: (record_id, local path, duration) to the row's fields, or its error."""
    record_id, path, duration_s = job
    try:
        return {"record_id": record_id, "error": None, **asdict(analyse(path, duration_s))}
    except Exception as e:  # this video fails; the others go on
        return {"record_id": record_id, "error": f"{type(e).__name__}: {e}"}


def measure_all(jobs: list[tuple[str, str, float]], workers: int) -> list[dict]:
    """Measure videos in a process pool of `workers`. A worker that dies (a decoder crash takes the
    process with it) breaks the pool; its unfinished videos are then retried one per fresh process,
    so the crash is pinned on the video that caused it and every other video is still measured."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if not jobs:
        return []
    context = multiprocessing.get_context("spawn")  # no fork of a threaded parent

    def pool(n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(n, mp_context=context, initializer=_worker_init)

    results: dict[str, dict] = {}
    retry = []
    with pool(max(1, min(workers, len(jobs)))) as executor:
        futures = [(job, executor.submit(measure, job)) for job in jobs]
        for job, future in futures:
            try:
                results[job[0]] = future.result()
            except BrokenProcessPool:
                retry.append(job)
    for job in retry:
        with pool(1) as executor:
            try:
                results[job[0]] = executor.submit(measure, job).result()
            except BrokenProcessPool as e:
                results[job[0]] = {"record_id": job[0], "error": f"worker process died: {e}"}
    return [results[job[0]] for job in jobs]
