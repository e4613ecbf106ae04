"""Video frames as a viewer sees them, at their presentation timestamps (pure: no Dagster).

Two facts about a video that frame numbers and pixel arrays silently get wrong:

- **Orientation.** A phone stores a portrait clip as landscape pictures plus a display matrix (MP4
  `tkhd` matrix, exported by ffmpeg as DISPLAYMATRIX side data; older files carry a `rotate` tag in
  degrees clockwise). Players apply it; `frame.to_ndarray()` does not. `Orientation` reads it (the
  matrix wins over the tag) and `upright()` turns a decoded picture the way ffmpeg's autorotate does
  (a test holds the two side by side for every rotation and mirror). Every picture this project
  gives to a person or a model goes through `upright_picture`, which applies it.
- **Time.** A variable-frame-rate video's frame i is not at i / fps for any fps. `frame_times`
  reads every frame's presentation timestamp from the demuxed packets (no decoding), in seconds
  from the stream's first timestamp (the origin the scene-cut detector uses too), so times map to
  frames through the real timestamps (`assets.finevideo.timeline.Timeline`).

PyAV is imported inside functions (DESIGN principle 7).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

VFR_TOLERANCE = 0.01  # a frame duration further than 1% (and 1.5 timestamp ticks) from the median: VFR


class VideoError(Exception):
    """A file that cannot be used; `reason` is one of the constants below."""

    MISSING = "missing"
    EMPTY = "empty"
    CORRUPT = "corrupt"
    TRUNCATED = "truncated"
    NO_VIDEO = "no_video_stream"
    UNSUPPORTED = "unsupported_codec"
    UNDECODABLE = "undecodable"

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Orientation:
    """How the coded picture is shown: mirrored left-right first (`mirrored`), then turned
    `rotation_deg` clockwise (0, 90, 180 or 270; ffmpeg's `rotate` tag convention, so decord's
    `video_90.mov` is 90). PyAV's `VideoFrame.rotation` is the same turn counter-clockwise."""

    rotation_deg: int = 0
    mirrored: bool = False

    def __post_init__(self):
        if self.rotation_deg not in (0, 90, 180, 270):
            raise ValueError(f"rotation must be a quarter turn in [0, 360), not {self.rotation_deg}")

    @property
    def swaps_axes(self) -> bool:
        return self.rotation_deg in (90, 270)

    def display_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) as displayed, from the coded size."""
        return (height, width) if self.swaps_axes else (width, height)

    def upright(self, picture: np.ndarray) -> np.ndarray:
        """The picture (H x W or H x W x C) as displayed; a view when nothing needs turning."""
        if self.mirrored:
            picture = picture[:, ::-1]
        turns = self.rotation_deg // 90
        return np.rot90(picture, k=-turns) if turns else picture  # rot90 turns counter-clockwise

    @classmethod
    def from_matrix(cls, matrix: Sequence[int]) -> Orientation:
        """From a 3x3 display matrix (9 ints, row-major, ffmpeg's layout: a displayed point is
        (x, y, 1) . M, y pointing down). A turn that is not a quarter turn is taken to the nearest."""
        a, b, c, d = (float(matrix[i]) for i in (0, 1, 3, 4))
        if abs(a) + abs(d) >= abs(b) + abs(c):
            a, b, c, d = np.sign(a) or 1.0, 0.0, 0.0, np.sign(d) or 1.0
        else:
            a, b, c, d = 0.0, np.sign(b) or 1.0, np.sign(c) or 1.0, 0.0
        mirrored = bool(a * d - b * c < 0)
        if mirrored:  # M = H . R with H the left-right mirror of the coded picture: R = H . M
            a, b = -a, -b
        # R's turn: (1,0,0,1) none; (0,-1,1,0) a quarter turn counter-clockwise; (-1,0,0,-1) half; (0,1,-1,0) cw
        ccw = {(1, 0): 0, (0, -1): 90, (-1, 0): 180, (0, 1): 270}[(int(a), int(b))]
        return cls(rotation_deg=(-ccw) % 360, mirrored=mirrored)

    @classmethod
    def from_tag(cls, text: str | None) -> Orientation:
        """From the legacy `rotate` metadata tag (degrees clockwise, e.g. "90", "-90", "270.0")."""
        try:
            degrees = float(str(text).strip())
        except (TypeError, ValueError):
            return cls()
        return cls(rotation_deg=int(round(degrees / 90.0)) % 4 * 90)


IDENTITY = Orientation()


def tag_orientation(metadata: dict[str, str] | None) -> Orientation:
    """The orientation a stream's legacy `rotate` tag gives (any key case: Matroska writes ROTATE)."""
    tag = next((v for k, v in (metadata or {}).items() if k.lower() == "rotate"), None)
    return Orientation.from_tag(tag) if tag is not None else IDENTITY


def _side_data(frame) -> tuple:
    """A frame's side data; none when it holds a type newer than PyAV's enum (a TIFF's, say), which
    PyAV raises on instead of naming."""
    try:
        return tuple(getattr(frame, "side_data", None) or ())
    except ValueError:
        return ()


def orientation_of(frame, stream_metadata: dict[str, str] | None = None) -> Orientation:
    """A decoded frame's orientation: its DISPLAYMATRIX side data (ffmpeg copies the stream's display
    matrix onto every frame), else the stream's legacy `rotate` tag, else none."""
    for sd in _side_data(frame):
        if "DISPLAYMATRIX" in str(getattr(sd, "type", "")):
            try:
                raw = bytes(sd)
                if len(raw) >= 36:
                    return Orientation.from_matrix(struct.unpack("=9i", raw[:36]))  # native int32s
            except (TypeError, ValueError, BufferError):
                pass
            ccw = int(round(getattr(frame, "rotation", 0) or 0))  # PyAV's reading: counter-clockwise
            return Orientation(rotation_deg=int(round(-ccw / 90.0)) % 4 * 90)
    return tag_orientation(stream_metadata)


def upright_picture(frame, orientation: Orientation, width: int | None = None, pixel_format: str = "rgb24",
                    reformatter=None) -> np.ndarray:
    """A decoded frame as an upright H x W x 3 array (contiguous), `width` wide as displayed when
    given (aspect kept; even sides): scaled by swscale while still coded, then turned. Pass one
    `av.video.reformatter.VideoReformatter` for many frames: a scaling context per call costs more
    than the scaling."""
    w, h = frame.width, frame.height
    if width:
        shown = h if orientation.rotation_deg in (90, 270) else w
        scale = width / shown
        w, h = max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2)
    if (w, h) == (frame.width, frame.height):
        coded = frame.to_ndarray(format=pixel_format)
    else:
        if reformatter is None:
            from av.video.reformatter import VideoReformatter

            reformatter = VideoReformatter()
        # swscale's area averaging suits a large reduction and is slow for a small one
        interpolation = "AREA" if frame.width >= 2 * w else "BILINEAR"
        coded = reformatter.reformat(frame, width=w, height=h, format=pixel_format,
                                     interpolation=interpolation).to_ndarray()
    return np.ascontiguousarray(orientation.upright(coded))


@dataclass(frozen=True)
class PacketScan:
    """What demuxing every packet of the video stream says (no decoding)."""

    pts: list[int]  # presentation timestamps (stream ticks), sorted: one per frame
    keyframes: int
    end_ticks: int | None  # the largest pts + duration (the end the packets cover)
    time_base: Fraction
    origin: int  # the stream's first timestamp (ticks): time 0
    error: str | None = None  # demuxing stopped early (the packets before it are counted)

    @property
    def frames(self) -> int:
        return len(self.pts)

    def times_s(self) -> list[float]:
        """Seconds from the stream's first timestamp, one per frame, in presentation order."""
        return [float((p - self.origin) * self.time_base) for p in self.pts]

    def covered_s(self) -> float:
        return 0.0 if self.end_ticks is None else max(0.0, float((self.end_ticks - self.origin) * self.time_base))


def scan_packets(container, stream) -> PacketScan:
    """Demux every packet of `stream`: each non-empty packet with a timestamp is one frame (packets
    ffmpeg flags as discarded, outside an edit list, are not shown and not counted)."""
    import av

    pts: list[int] = []
    keyframes = 0
    end: int | None = None
    error = None
    try:
        for pkt in container.demux(stream):
            if pkt.size == 0 or pkt.pts is None or getattr(pkt, "is_discard", False):
                continue
            pts.append(pkt.pts)
            keyframes += bool(pkt.is_keyframe)
            stop = pkt.pts + (pkt.duration or 0)
            end = stop if end is None else max(end, stop)
    except av.error.FFmpegError as e:
        error = f"demux stopped after {len(pts)} packets ({e})"
    pts.sort()
    origin = stream.start_time if stream.start_time is not None else (pts[0] if pts else 0)
    return PacketScan(pts=pts, keyframes=keyframes, end_ticks=end, time_base=Fraction(stream.time_base),
                      origin=origin, error=error)


def frame_times(path: str | os.PathLike) -> list[float]:
    """Presentation time (s, from the stream's first timestamp) of every frame of the first video
    stream, in order, from its packets."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(VideoError.NO_VIDEO, str(path))
            scan = scan_packets(container, container.streams.video[0])
    except av.error.FFmpegError as e:
        raise VideoError(VideoError.CORRUPT, f"cannot open container ({e})") from e
    if scan.error:
        raise VideoError(VideoError.TRUNCATED, scan.error)
    return scan.times_s()


def is_vfr(pts: Sequence[int], time_base: Fraction, tolerance: float = VFR_TOLERANCE) -> bool:
    """Whether frame durations (differences of consecutive timestamps) vary beyond timestamp
    rounding: a duration further from the median than 1% of it and than 1.5 ticks."""
    if len(pts) < 3:
        return False
    durations = np.diff(np.asarray(pts, dtype=np.int64))
    median = float(np.median(durations))
    slack = max(1.5, tolerance * median)
    return bool(np.max(np.abs(durations - median)) > slack)
