"""Everything the FineVideo chain needs from a video's pixels, from one sequential decode.

The dynamism verdict. FineVideo spent one full-decode ffmpeg call per 60 s segment. Here a video is
first skimmed by its keyframes (a few percent of the decode work). Two keyframes that differ by more
than 2n rule out every freeze that would hold both (`freezes.unbroken`), so where such pairs fall
inside every window a freeze would need, no 50 s freeze can exist: most moving videos are settled
there ("keyframes"). The first skim seeks to keyframes about 24 s apart; where those leave
references open, a second one visits every keyframe there. What the keyframes could not settle
(each 60 s window of FineVideo's and of the fixed rule that could still hold a freeze, and the
stretches where a whole-video freeze could start) is decoded frame by frame ("partial"; "full" when
that is most of the video), and only until no frame still to come can complete a freeze there
(`FreezeRun.settled`, `WindowRun.settled`: on moving footage, a few seconds into each window).
Each such frame feeds every open window's freezedetect (`WindowRun`, exactly as FineVideo's
per-segment calls see it) and a freezedetect run over its stretch (freeze intervals, time-based
static fraction). Every path gives the per-segment verdicts FineVideo's method
gives, frame for frame; a window the keyframes settled could not have held a freeze. Frames are
compared only where the triangle inequality leaves the verdict open (`_Verdicts`, `_Skim`).

The rest, from the same decode (`_sweep`). Shots, motion and the annotation step's stills need the
whole video, so after the skims the video is decoded once, in order, a GOP at a time. A GOP an open
stretch needs is decoded in full by the stream's decoder (where a stretch ends inside it, the rest
skips non-reference frames: nothing depends on them). Every other GOP goes to a second decoder
(`_Glance`) that skips the deblocking filter and the non-reference frames, and every B-frame where
the GOP's slice headers prove no decoded picture refers to one (h264_references.py): its pictures
are only looked at, never compared for freezes, and a GOP changes decoder only at its keyframe. The
shot detector (PySceneDetect's AdaptiveDetector rule and the fade/dissolve test, scene_cuts.py)
looks at every frame of the stretches and elsewhere at least GLANCE_FPS pictures a second, or every
picture a B skip leaves, at most MAX_SKIPPED frames apart (a cut there is seen at most three frames
late: tests/realdata/shots.py SWEEP_TOLERANCE); frames carry their
real numbers, so `min_scene_frames` counts video frames. The same frames feed the per-second motion
profile (a change over skipped frames counts as that many steps' mean), and a still is taken every
second (small upright JPEGs), from which the frames of every shot's middle and the thumbnail are
kept once the shots are known; the perceptual hashes of every still are kept (`still_hashes`), the
dense signature the near-duplicate screen compares videos by. Later stages read those and never
decode the video again (bench_footage counts it, and measures the skipping decoder's shots against
the every-frame detector and known cuts).
"""

from __future__ import annotations

import bisect
import heapq
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
from assets.finevideo.h264_references import GopReferences
from assets.finevideo.scene_cuts import SHOTS, CutDetector, ShotParams, Shots

MAX_PENDING_KEYFRAMES = 64  # keyframes held for comparison; dropping older ones only loses evidence
KEYFRAME_CACHE_BYTES = 192 << 20  # decoded keyframes kept for the second skim (past it, they decode again)
SKIM_STEP_SHARE = 0.48  # sparse keyframes at most this share of d apart: two neighbouring gaps span under d
FULL_SHARE = 0.8  # decode everything once the stretches to decode cover this share of the video
MERGE_GAP_S = 10.0  # stretches closer than this are decoded as one
FRAME_SLACK_S = 1.0  # a FineVideo call also sees the first frame after its 60 s
STILL_STEP_S = 1.0  # stills taken this far apart for the annotation step to choose from
MAX_STILLS = 4000  # per video (a 4 KB-40 KB JPEG each): longer videos get them further apart
GLANCE_FPS = 12.0  # pictures a second the shot detector looks at, at least, outside the freeze stretches
MAX_SKIPPED = 3  # ... or, where B-frames are skipped, frames in a row left unseen (tests/realdata/shots.py SWEEP_TOLERANCE)


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
    decode_mode: str  # where the verdict came from: "keyframes" | "partial" | "full"
    scene_cuts_s: list[float]  # shot boundaries (presentation seconds)
    transitions: list[tuple[float, float, str]]  # fades and dissolves: (start_s, end_s, kind)
    motion_per_second: list[float]
    frames: list[tuple[float, bytes]]  # (time_s, JPEG): the stills the annotation step shows a model
    thumbnail: tuple[float, bytes] | None  # the middle of the longest shot
    # (time_s, whole, centre) pHashes of every still taken, STILL_STEP_S apart (None: a flat still or centre),
    # for the near-duplicate screen (hygiene/perceptual_hash.py, video_fingerprints.py)
    still_hashes: list[tuple[float, int | None, int | None]]
    frames_decoded: int  # keyframes of the skims plus the frames the sweep decoded
    video_frames: int
    undecodable_packets: int  # refused by the decoder and skipped, as ffmpeg skips them
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


def _open(path: Path, threads: int = 1):
    """The video stream, its decoder on `threads` threads: one where worker processes already fill
    the cores (it costs the least CPU), more where a shard has fewer videos than cores."""
    import av

    container = av.open(str(path))
    stream = container.streams.video[0]
    stream.thread_type = "NONE" if threads <= 1 else "AUTO"
    stream.codec_context.thread_count = max(1, threads)
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
    yet (within d): the breaks found.

    A pair is measured only when the triangle inequality cannot settle it: each keyframe is measured
    against the one visited before it, and an earlier keyframe's bound plus that step, when within
    2n, proves it is no break (still footage: one measurement per keyframe, not one per pending)."""

    noise: float
    d_s: float
    breaks: list[tuple[float, float]] = field(default_factory=list)
    decoded: int = 0
    frames: dict[int, object] = field(default_factory=dict)  # pts -> decoded keyframe, within the byte budget
    _cached_bytes: int = 0
    _pending: list[_Pending] = field(default_factory=list)
    _sampler: Sampler = field(default_factory=Sampler)

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


class _Numbers:
    """Each output frame's number among the video's frames: how many packets with an earlier
    timestamp were demuxed. A skipped frame's packet is sent before any later frame comes out, so
    the count is whole when a frame is numbered."""

    def __init__(self):
        self._heap: list[int] = []
        self._below = 0

    def packet(self, pts: int | None) -> None:
        if pts is not None:
            heapq.heappush(self._heap, pts)

    def of(self, pts: int) -> int:
        heap = self._heap
        while heap and heap[0] < pts:
            heapq.heappop(heap)
            self._below += 1
        number = self._below
        if heap and heap[0] == pts:
            heapq.heappop(heap)
            self._below += 1
        return number


class _Stills:
    """Small upright JPEGs of the frames every `step` seconds, taken as the sweep passes them, so
    the frames the annotation step shows a model are chosen once the shots are known, with no
    second decode. A few kilobytes each; at most MAX_STILLS per video. Every still's perceptual
    hashes are kept too (`hashes`: about 0.1 ms a still, from the picture before its JPEG), the
    dense signature the near-duplicate screen compares videos by."""

    def __init__(self, duration_s: float, stream_metadata: dict[str, str]):
        self.step = max(STILL_STEP_S, duration_s / MAX_STILLS)
        self.taken: list[tuple[float, bytes]] = []
        self.hashes: list[tuple[float, int | None, int | None]] = []
        self._next = 0.0
        self._metadata = stream_metadata
        self._orientation = None
        from assets.finevideo.shot_frames import FRAME_WIDTH

        self.width = FRAME_WIDTH

    def offer(self, t: float, frame) -> None:
        if t + 1e-9 < self._next:
            return
        import cv2

        from assets.hygiene.perceptual_hash import array_hashes
        from resources.frames import orientation_of, upright_picture

        if self._orientation is None:
            from av.video.reformatter import VideoReformatter

            self._orientation, self._reformatter = orientation_of(frame, self._metadata), VideoReformatter()
        shown = frame.height if self._orientation.rotation_deg in (90, 270) else frame.width
        picture = upright_picture(frame, self._orientation, min(shown, self.width), "bgr24", self._reformatter)
        ok, jpeg = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if ok:
            self.taken.append((round(t, 6), jpeg.tobytes()))
        self.hashes.append((round(t, 6), *(array_hashes(picture) or (None, None))))
        self._next = (math.floor(t / self.step + 1e-9) + 1) * self.step

    def nearest(self, t: float) -> tuple[float, bytes] | None:
        return min(self.taken, key=lambda s: abs(s[0] - t), default=None)


@dataclass(eq=False)
class _Stretch:
    """A stretch the keyframes left open: decoded in full from the keyframe at or before `lo`, on
    past `hi` while a freeze is open (freeze intervals come from its own freezedetect run)."""

    lo: float
    hi: float
    windows: list[WindowRun] = field(default_factory=list)  # the open windows inside it
    entry: float = math.inf  # the keyframe it starts at
    whole: FreezeRun | None = None
    last: int | None = None  # the timestamp of the last frame it would be fed (the first at or after hi)


@dataclass
class _Swept:
    runs: dict[Window, WindowRun]
    stretch_runs: list[FreezeRun]
    shots: Shots
    changes: list[tuple[float, float, float]]
    stills: _Stills
    decoded: int
    frames: int  # the video's frames (packets with a timestamp)
    undecodable: int  # packets the decoder refused (their frames are lost, as in ffmpeg)


def _sweep(path: Path, info: _Stream, duration_s: float, windows: list[Window], stretches: list[tuple[float, float]],
           whole: Window | None, p: DynamismRules, shots: ShotParams, threads: int,
           frame_pts: list[int] | None) -> _Swept:
    """The one sequential decode. Packets are read a GOP (keyframe to keyframe) at a time, so each GOP
    is decoded knowing whether an open stretch needs it. Inside the stretches (everywhere while
    `whole` is measured) every frame is decoded exactly and feeds freezedetect; a stretch that ends inside
    a GOP leaves the rest of it to skip non-reference frames (nothing depends on them). Every other
    GOP goes to `_Glance`: its pictures are only looked at (shots, motion, stills), never compared
    for freezes, and a GOP is handed from one decoder to the other only at its keyframe.

    `whole` (the whole-video window) is given when everything is to be decoded exactly. With every
    frame's timestamp (`frame_pts`, sorted) a stretch, or that whole decode, also ends as soon as no
    frame still to come can change a verdict or a freeze interval (`settled`): a moving video shows
    that a few seconds into each window, where a 50 s freeze could no longer fit."""
    import av

    container, stream = _open(path, threads)  # a fresh demuxer: every packet from the first, as ffmpeg reads them
    exact_ctx = stream.codec_context
    glance = _Glance(path, float(info.rate or 0), threads, stream)
    runs = {w: WindowRun(w, info.time_base, info.origin, info.rate) for w in windows}
    cutter, numbers = CutDetector(stream, shots), _Numbers()
    stills = _Stills(duration_s, dict(stream.metadata or {}))
    verdicts, sampler = _Verdicts(p.noise), Sampler()
    waiting = [_Stretch(lo, hi, windows=[runs[w] for w in windows if lo - 1e-6 <= float(w.start) < hi])
               for lo, hi in stretches]
    times = [info.seconds(x) for x in frame_pts] if frame_pts else []

    def last_at(t: float) -> int | None:
        """The timestamp of the first frame at or after `t` (else the last frame's): a stretch's last."""
        if not frame_pts:
            return None
        return frame_pts[min(bisect.bisect_left(times, t), len(frame_pts) - 1)]

    def settled(s: _Stretch) -> bool:
        return (s.last is not None and s.whole.settled(s.last)
                and all(w.settled(frame_pts) for w in s.windows))

    def all_settled() -> bool:
        return bool(frame_pts) and runs[whole].run.settled(frame_pts[-1]) and all(
            run.settled(frame_pts) for w, run in runs.items() if w != whole)

    running: list[_Stretch] = []
    armed: list[FreezeRun] = []  # each stretch's freezedetect run, in stretch order
    changes: list[tuple[float, float, float]] = []
    previous: tuple[float, object, bool, int] | None = None  # (time, grey, whether verdicts saw it, number)
    state = {"decoded": 0, "frames": 0, "undecodable": 0, "ctx": None, "floor": None, "everything": whole is not None}
    stride = max(1, math.floor(float(info.rate or 0) / GLANCE_FPS))  # outside the stretches, look at every stride-th

    def take(frame) -> None:
        nonlocal previous, running
        state["decoded"] += 1
        if state["floor"] is not None and frame.pts < state["floor"]:
            return  # an open GOP's leading frame whose references stayed with the other decoder
        t = info.seconds(frame.pts)
        exact = [s for s in running if t >= s.entry] if state["ctx"] is exact_ctx else []
        repeat = False
        measured = state["everything"] or bool(exact)
        if measured:
            px = sampler.pixels(frame)
            repeat = verdicts.next_frame(px) and previous is not None and previous[2]
            for run in runs.values():
                run.feed(frame.pts, px, verdicts.differs)
            for s in exact:
                s.whole.feed(frame.pts, px, verdicts.differs)
            ended = [s for s in exact if (t >= s.hi and not s.whole.in_freeze) or settled(s)]
            running = [s for s in running if not any(s is e for e in ended)]
            if state["everything"] and all_settled():
                state["everything"] = False  # the rest of the video is only looked at
        number = numbers.of(frame.pts)
        if not measured and previous is not None and number - previous[3] < state["stride"]:
            stills.offer(cutter.time_of(frame.pts), frame)  # decoded as a reference, not looked at
            return
        cutter.feed(frame, repeat, number)
        grey = previous[1] if repeat else cutter.grey
        if previous is not None:  # a change over skipped frames counts as that many steps' mean
            change = 0.0 if repeat else _change(previous[1], grey) / max(1, number - previous[3])
            changes.append((previous[0], t, change))
        previous = (t, grey, measured, number)
        stills.offer(cutter.time_of(frame.pts), frame)  # on the shots' clock: stills are matched to shot middles

    def use(ctx, keyframe_pts: int | None) -> None:
        """Decode the next GOP with `ctx`, after the other decoder has given up its last frames."""
        if state["ctx"] is not None and state["ctx"] is not ctx:
            for frame in state["ctx"].decode(None):
                take(frame)
            state["ctx"].flush_buffers()
            state["floor"] = keyframe_pts
        state["ctx"] = ctx

    def send(gop: list, following) -> None:
        """Decode `gop`; `following` is the next GOP's keyframe packet (None at the end)."""
        next_key = info.seconds(following.pts) if following is not None else math.inf
        first = gop[0] if gop else None
        keyframe_pts = first.pts if first is not None and first.is_keyframe else None
        if gop and waiting and waiting[0].lo < next_key:  # stretches starting before the next keyframe
            entry = info.seconds(keyframe_pts) if keyframe_pts is not None else 0.0
            while waiting and waiting[0].lo < next_key:
                s = waiting.pop(0)
                s.entry, s.whole = min(entry, s.lo), FreezeRun(p.freeze_us, info.time_base, info.rate)
                s.last = last_at(s.hi)
                running.append(s)
                armed.append(s.whole)
        use(exact_ctx if state["everything"] or running else glance.ctx, keyframe_pts)
        state["stride"] = stride
        if state["ctx"] is glance.ctx and glance.skip_b(gop, following):
            state["stride"] = 1  # what a B skip leaves is at most MAX_SKIPPED frames apart: look at all of it
        for packet in gop:
            state["frames"] += packet.pts is not None
            numbers.packet(packet.pts)
            if state["ctx"] is exact_ctx:
                exact_ctx.skip_frame = "DEFAULT" if state["everything"] or running else "NONREF"
            try:
                frames = state["ctx"].decode(packet)
            except av.error.InvalidDataError:  # ffmpeg reports a broken packet and goes on; so do we
                state["undecodable"] += 1
                continue
            for frame in frames:
                take(frame)

    with container, glance:
        gop: list = []
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.is_keyframe and packet.pts is not None and gop:
                send(gop, packet)
                gop = []
            gop.append(packet)
        send(gop, None)
        use(None, None)
    return _Swept(runs, armed, cutter.shots(), changes, stills, state["decoded"], state["frames"], state["undecodable"])


class _Glance:
    """The decoder for GOPs no freeze measurement needs. It skips the deblocking filter (its pictures
    drift from the exact ones by a few grey levels over a GOP: they are only looked at, never
    compared for freezes) and, from 2 x GLANCE_FPS, the non-reference frames, which no other frame
    needs. Every B-frame only where an H.264 GOP's slice headers prove that no decoded picture
    refers to one and that what is left is at most MAX_SKIPPED frames apart (`skip_b`,
    h264_references.py): a P-frame may refer to a reference B-frame (x264's default B-pyramid with
    more than one reference does), and decoding it without one conceals the gap silently with
    pictures off by tens of grey levels. Opened from a second demuxer so its parameters are the
    stream's own; it reads no packets of its own."""

    def __init__(self, path: Path, fps: float, threads: int, stream):
        self._path, self._threads = path, threads
        self._skip = "NONREF" if fps >= 2 * GLANCE_FPS else "DEFAULT"
        self._references = (GopReferences(stream.codec_context.extradata)
                            if self._skip == "NONREF" and stream.codec_context.name == "h264" else None)
        self._container = None

    def skip_b(self, gop: list, following) -> bool:
        """Set this GOP's skipping: B-frames too where that is proven harmless (see the class)."""
        refs = self._references
        safe = refs is not None and refs.b_pictures_unreferenced(
            [(p.pts, memoryview(p)) for p in gop], following is None or refs.starts_idr(memoryview(following)),
            MAX_SKIPPED)
        self.ctx.skip_frame = "BIDIR" if safe else self._skip
        return safe

    @property
    def ctx(self):
        if self._container is None:
            self._container, stream = _open(self._path, self._threads)
            stream.codec_context.options = {"skip_loop_filter": "all"}
            stream.codec_context.skip_frame = self._skip
            self._ctx = stream.codec_context
        return self._ctx

    def __enter__(self) -> _Glance:
        return self

    def __exit__(self, *exc) -> None:
        if self._container is not None:
            self._container.close()


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
            skim: bool = True, threads: int = 1) -> Dynamism:
    """Measure one video with `params` (freezedetect n and d, the window length, the static share);
    `duration_s` is its real (packet-covered) duration; `shots` the shot detector's parameters;
    `threads` the decoder's. `skim=False` decodes every frame (the reference the shortcuts are
    tested against)."""
    started = time.process_time()
    path = Path(path)
    container, stream = _open(path)  # one demuxer for the skims and the timestamps
    with container:
        info = _stream_info(container, stream, duration_s)
        compat, fixed, whole = _windows(info, duration_s, params)
        settled = _settle(container, stream, info, compat, fixed, whole, duration_s, params) if skim else None
        keyframes_decoded, open_windows, stretches = settled or (0, set(), [])
        if settled is None or sum(b - a for a, b in stretches) >= FULL_SHARE * duration_s:
            mode, windows, stretches = "full", list(dict.fromkeys([*compat, *fixed, whole])), []
        else:
            mode = "partial" if stretches else "keyframes"
            windows = [w for w in dict.fromkeys([*compat, *fixed]) if w in open_windows]
        frame_pts = _frame_pts(container, stream) if skim and mode != "keyframes" else None
    swept = _sweep(path, info, duration_s, windows, stretches, whole if mode == "full" else None, params, shots,
                   threads, frame_pts)
    if mode == "full":
        freezes = intervals(swept.runs[whole].run.events, info.time_base, info.origin, duration_s)
    else:
        freezes = [iv for run in swept.stretch_runs for iv in intervals(run.events, info.time_base, info.origin,
                                                                         duration_s)]
    runs = swept.runs
    return _result(info, duration_s, params, mode, sum(runs[w].run.detected for w in compat if w in runs),
                   sum(runs[w].run.detected for w in fixed if w in runs), freezes, swept,
                   keyframes_decoded + swept.decoded, started)


def _settle(container, stream, info: _Stream, compat: list[Window], fixed: list[Window], whole: Window,
            duration_s: float, p: DynamismRules) -> tuple[int, set[Window], list[tuple[float, float]]] | None:
    """Keyframe skims: the keyframes decoded, the windows they left open and the stretches to decode
    in full; None when a keyframe does not decode on its own (everything is then decoded)."""
    import av

    windows = list(dict.fromkeys([*compat, *fixed]))
    keyframes = _Skim(p.noise, min(w.d_us for w in [*windows, whole]) / US)
    try:
        _skim_sparse(container, stream, info, keyframes, SKIM_STEP_SHARE * keyframes.d_s)
        open_windows, stretches = _plan(keyframes.breaks, windows, whole, duration_s)
        if stretches:  # look at every keyframe where it matters before decoding more
            _skim_dense(container, stream, info, keyframes, stretches)
            open_windows, stretches = _plan(keyframes.breaks, windows, whole, duration_s)
    except (ValueError, av.error.InvalidDataError):  # a keyframe that does not decode on its own
        return None
    finally:
        keyframes.frames.clear()  # the skims are done
    return keyframes.decoded, open_windows, stretches


def _frame_pts(container, stream) -> list[int] | None:
    """Every frame's timestamp, sorted, from the packets (a demux from the start, no decoding);
    None when the demuxer stops early (then nothing ends before its time)."""
    from resources.frames import scan_packets

    container.seek(0, stream=stream, backward=True, any_frame=False)
    scan = scan_packets(container, stream)
    return None if scan.error or not scan.pts or len(set(scan.pts)) != len(scan.pts) else scan.pts


def _windows(info: _Stream, duration_s: float, p: DynamismRules) -> tuple[list[Window], list[Window], Window]:
    """FineVideo's calls, the fixed rule's windows, and the whole video (for the freeze intervals)."""
    return (finevideo_windows(info.format_duration_s, p)[0], fixed_windows(duration_s, p),
            Window(Fraction(0), None, p.freeze_us))


def _pictures(swept: _Swept, duration_s: float) -> tuple[list[tuple[float, bytes]], tuple[float, bytes] | None]:
    """The stills the annotation step shows a model (nearest the middle of every shot, as
    `shot_frames.frame_times` picks them) and the thumbnail (the middle of the longest shot)."""
    from assets.finevideo.shot_frames import frame_times

    cuts = swept.shots.cut_times
    chosen = [s for t in frame_times(cuts, duration_s) if (s := swept.stills.nearest(t)) is not None]
    bounds = [0.0, *cuts, duration_s]
    a, b = max(zip(bounds, bounds[1:], strict=False), key=lambda ab: ab[1] - ab[0])
    return list(dict.fromkeys(chosen)), swept.stills.nearest((a + b) / 2)


def _result(info: _Stream, duration_s: float, p: DynamismRules, mode: str, static: int, fixed_static: int,
            freezes: list[tuple[float, float]], swept: _Swept, decoded: int, started: float) -> Dynamism:
    segments = finevideo_windows(info.format_duration_s, p)[1]
    fixed = len(fixed_windows(duration_s, p))
    frozen = sum(b - a for a, b in freezes)
    frames, thumbnail = _pictures(swept, duration_s)
    return Dynamism(
        duration_s=duration_s, format_duration_s=info.format_duration_s, segments=segments,
        static_segments=static, finevideo_static=is_static(static, segments, p.static_ratio),
        fixed_segments=fixed, fixed_static_segments=fixed_static,
        fixed_static=is_static(fixed_static, fixed, p.static_ratio),
        fixed_static_fraction=static_fraction(fixed_static, fixed),
        static_fraction_segments=round(static / segments, 6) if segments else 0.0,
        static_fraction_time=round(min(1.0, frozen / duration_s), 6) if duration_s > 0 else 0.0,
        longest_freeze_s=round(max((b - a for a, b in freezes), default=0.0), 6),
        freeze_intervals=freezes, decode_mode=mode, scene_cuts_s=swept.shots.cut_times,
        transitions=[(t.start_s, t.end_s, t.kind) for t in swept.shots.transitions],
        motion_per_second=motion_profile(swept.changes, duration_s), frames=frames, thumbnail=thumbnail,
        still_hashes=swept.stills.hashes,
        frames_decoded=decoded, video_frames=swept.frames, undecodable_packets=swept.undecodable, cpu_s=round(time.process_time() - started, 4),
    )


def _worker_init() -> None:
    import cv2

    cv2.setNumThreads(1)  # processes give the parallelism; threads would only add CPU time


def measure(job: tuple[str, str, float], params: dict | None = None, threads: int = 1) -> dict:
    """Process-pool entry: (record_id, local path, duration) and the parameters (a plain dict, so any
    process can rebuild them) to the row's fields, or its error."""
    record_id, path, duration_s = job
    try:
        p = DEFAULTS if params is None else DynamismRules(**params)
        return {"record_id": record_id, "error": None, **asdict(analyse(path, duration_s, p, threads=threads))}
    except Exception as e:  # this video fails; the others go on
        return {"record_id": record_id, "error": f"{type(e).__name__}: {e}"}


def measure_all(jobs: list[tuple[str, str, float]], workers: int, params: DynamismRules = DEFAULTS) -> list[dict]:
    """Measure videos with `params` in a process pool of `workers` (with fewer videos than workers,
    each video's decoder gets the spare threads). A worker that dies (a decoder crash takes the
    process with it) breaks the pool; its unfinished videos are then retried one per fresh process,
    so the crash is pinned on the video that caused it and every other video is still measured."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if not jobs:
        return []
    settings = params.model_dump()
    threads = max(1, workers // len(jobs))
    context = multiprocessing.get_context("spawn")  # no fork of a threaded parent

    def pool(n: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(n, mp_context=context, initializer=_worker_init)

    results: dict[str, dict] = {}
    retry = []
    with pool(max(1, min(workers, len(jobs)))) as executor:
        futures = [(job, executor.submit(measure, job, settings, threads)) for job in jobs]
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
