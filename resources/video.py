"""Video probing and ffmpeg access with typed failures.

ffmpeg comes from the imageio-ffmpeg wheel (no apt step) and is driven through ffmpeg-python; PyAV
probes and decodes without ffprobe. Every way a file can be bad maps to a `VideoError` with a short
machine-readable `reason`, so screens record it as a rejection instead of crashing the shard. A probe
demuxes every packet (cheap: no decoding) so a truncated file is caught even when its header still
claims the full duration.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, Field

# share of the declared duration the packets must actually cover
_MIN_COVERAGE = 0.9


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


class VideoProbe(BaseModel):
    container: str
    duration_s: float = Field(description="Covered by packets, not just claimed by the header.")
    declared_duration_s: float | None
    fps: float
    width: int
    height: int
    vcodec: str
    acodec: str | None
    video_packets: int
    keyframes: int
    size_bytes: int


class VideoTools(dg.ConfigurableResource):
    ffmpeg_path: str | None = Field(default=None, description="ffmpeg binary; default imageio-ffmpeg's.")
    threads: int = Field(default=1, description="Decoder threads per video (processes scale better).")

    def ffmpeg(self) -> str:
        if self.ffmpeg_path:
            return self.ffmpeg_path
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()

    def probe(self, path: str | os.PathLike, verify: bool = True) -> VideoProbe:
        return probe(path, verify=verify)

    def run(self, stream, quiet: bool = True) -> tuple[bytes, bytes]:
        """Run an ffmpeg-python graph with our binary; returns (stdout, stderr)."""
        import ffmpeg

        try:
            return stream.run(cmd=self.ffmpeg(), capture_stdout=True, capture_stderr=True, quiet=quiet)
        except ffmpeg.Error as e:
            tail = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise VideoError(VideoError.UNDECODABLE, f"ffmpeg failed: {tail[0][:300]}") from e


def probe(path: str | os.PathLike, verify: bool = True) -> VideoProbe:
    import av

    p = Path(path)
    if not p.exists():
        raise VideoError(VideoError.MISSING, str(p))
    size = p.stat().st_size
    if size == 0:
        raise VideoError(VideoError.EMPTY, str(p))
    try:
        container = av.open(str(p))
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as e:
        raise VideoError(VideoError.CORRUPT, f"cannot open container ({e})") from e
    with container:
        if not container.streams.video:
            raise VideoError(VideoError.NO_VIDEO, container.format.name)
        vs = container.streams.video[0]
        ctx = vs.codec_context
        if ctx is None or not ctx.name:
            raise VideoError(VideoError.UNSUPPORTED, str(vs.codec_context))
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        declared = None
        if vs.duration is not None and vs.time_base is not None:
            declared = float(vs.duration * vs.time_base)
        elif container.duration is not None:
            declared = container.duration / 1_000_000
        fps = float(vs.average_rate or vs.guessed_rate or 0.0)
        packets, keyframes, end = 0, 0, 0.0
        if verify:
            packets, keyframes, end = _scan_packets(container, vs)
            if packets == 0:
                raise VideoError(VideoError.TRUNCATED, "no video packets")
            if declared and end < _MIN_COVERAGE * declared:
                raise VideoError(
                    VideoError.TRUNCATED, f"packets cover {end:.1f}s of a declared {declared:.1f}s"
                )
            _decode_first_frame(p)
        duration = end if verify and end > 0 else (declared or 0.0)
        if duration <= 0:
            raise VideoError(VideoError.CORRUPT, "no measurable duration")
        return VideoProbe(
            container=container.format.name,
            duration_s=round(duration, 3),
            declared_duration_s=round(declared, 3) if declared else None,
            fps=round(fps, 3),
            width=ctx.width,
            height=ctx.height,
            vcodec=ctx.name,
            acodec=audio,
            video_packets=packets,
            keyframes=keyframes,
            size_bytes=size,
        )


def _scan_packets(container, vs) -> tuple[int, int, float]:
    import av

    packets = keyframes = 0
    end = 0.0
    tb = float(vs.time_base)
    try:
        for pkt in container.demux(vs):
            if pkt.size == 0 or pkt.pts is None:
                continue
            packets += 1
            keyframes += bool(pkt.is_keyframe)
            end = max(end, (pkt.pts + (pkt.duration or 0)) * tb)
    except av.error.FFmpegError as e:
        raise VideoError(VideoError.TRUNCATED, f"demux stopped after {packets} packets ({e})") from e
    start = float(vs.start_time * vs.time_base) if vs.start_time is not None else 0.0
    return packets, keyframes, max(0.0, end - start)


def _decode_first_frame(p: Path) -> None:
    import av

    try:
        with av.open(str(p)) as c:
            for _frame in c.decode(video=0):
                return
    except av.error.FFmpegError as e:
        raise VideoError(VideoError.UNDECODABLE, str(e)) from e
    raise VideoError(VideoError.UNDECODABLE, "no frame could be decoded")
