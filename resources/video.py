"""Video probing and ffmpeg access with typed failures.

ffmpeg comes from the imageio-ffmpeg wheel (no apt step) and is driven through ffmpeg-python; PyAV
probes and decodes without ffprobe. Every way a file can be bad maps to a `VideoError` with a short
machine-readable `reason`, so screens record it as a rejection instead of crashing the shard. A probe
demuxes every packet (cheap: no decoding) so a truncated file is caught even when its header still
claims the full duration, and the packets' timestamps give the exact frame count, the average frame
rate and whether the rate varies (`vfr`). The first decoded frame gives the orientation (display
matrix, else the legacy `rotate` tag; see resources/frames.py): `width` x `height` is the picture as
displayed, `coded_width` x `coded_height` as stored. `fps` is the nominal rate (ffmpeg's guess from
r_frame_rate, which falls back to the average when the container's tbr is implausible, e.g. 90000),
`avg_fps` frames per second of packet-covered time, `base_fps` the stream's r_frame_rate (tbr).
With `decode_all`, every frame is decoded, so a file that breaks part-way is `undecodable`.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import BaseModel, Field

from resources.frames import Orientation, VideoError, is_vfr, orientation_of, scan_packets, tag_orientation

__all__ = ["VideoError", "VideoProbe", "VideoTools", "probe"]

PROBE_DECODE_PIXELS = 4096 * 4096  # above this the probe reads the header only

# share of the declared duration the packets must actually cover
_MIN_COVERAGE = 0.9


class VideoProbe(BaseModel):
    container: str
    duration_s: float = Field(description="Covered by packets, not just claimed by the header.")
    declared_duration_s: float | None
    fps: float = Field(description="Nominal frame rate (ffmpeg's guessed rate).")
    avg_fps: float | None = Field(default=None, description="Frames per second of the time the packets cover.")
    base_fps: float | None = Field(default=None, description="The stream's r_frame_rate (ffmpeg's tbr).")
    width: int = Field(description="Displayed width: the coded picture after its rotation.")
    height: int = Field(description="Displayed height.")
    coded_width: int | None = None
    coded_height: int | None = None
    rotation_deg: int = Field(default=0, description="Clockwise turn a player applies: 0, 90, 180, 270.")
    mirrored: bool = False
    frame_count: int | None = Field(default=None, description="Frames with a timestamp (one per packet).")
    vfr: bool | None = Field(default=None, description="Frame durations vary beyond timestamp rounding.")
    decoded_frames: int | None = Field(default=None, description="Frames decoded (only with decode_all).")
    vcodec: str
    acodec: str | None
    video_packets: int
    keyframes: int
    size_bytes: int


class VideoTools(dg.ConfigurableResource):
    ffmpeg_path: str | None = Field(default=None, description="ffmpeg binary; default imageio-ffmpeg's.")
    threads: int = Field(default=1, description="Decoder threads per video (processes scale better).")
    decode_all: bool = Field(default=False, description=(
        "Decode every frame when probing, so a file that breaks part-way is rejected as undecodable "
        "(costs one full decode per video; otherwise only the first frame is decoded)."))

    def ffmpeg(self) -> str:
        if self.ffmpeg_path:
            return self.ffmpeg_path
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()

    def probe(self, path: str | os.PathLike, verify: bool = True) -> VideoProbe:
        return probe(path, verify=verify, decode_all=self.decode_all)

    def run(self, stream, quiet: bool = True) -> tuple[bytes, bytes]:
        """Run an ffmpeg-python graph with our binary; returns (stdout, stderr)."""
        import ffmpeg

        try:
            return stream.run(cmd=self.ffmpeg(), capture_stdout=True, capture_stderr=True, quiet=quiet)
        except ffmpeg.Error as e:
            tail = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise VideoError(VideoError.UNDECODABLE, f"ffmpeg failed: {tail[0][:300]}") from e


def _codec_name(ctx) -> str:
    """The codec, not the decoder that reads it: AV1 is `av1` whether libdav1d or libaom decodes it."""
    return getattr(ctx.codec, "canonical_name", None) or ctx.name


def _rate(value) -> float | None:
    return float(value) if value else None


def probe(path: str | os.PathLike, verify: bool = True, decode_all: bool = False) -> VideoProbe:
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
        fps = _rate(vs.guessed_rate) or _rate(vs.base_rate) or _rate(vs.average_rate) or 0.0
        avg = _rate(vs.average_rate)
        stream_metadata = dict(vs.metadata or {})
        packets = keyframes = 0
        end = 0.0
        frame_count = vfr = None
        if verify:
            scan = scan_packets(container, vs)
            if scan.error:
                raise VideoError(VideoError.TRUNCATED, scan.error)
            packets, keyframes, end = scan.frames, scan.keyframes, scan.covered_s()
            if packets == 0:
                raise VideoError(VideoError.TRUNCATED, "no video packets")
            if declared and end < _MIN_COVERAGE * declared:
                raise VideoError(
                    VideoError.TRUNCATED, f"packets cover {end:.1f}s of a declared {declared:.1f}s"
                )
            frame_count, vfr = scan.frames, is_vfr(scan.pts, scan.time_base)
            if end > 0:
                avg = scan.frames / end
        if (ctx.width or 0) * (ctx.height or 0) > PROBE_DECODE_PIXELS:
            # a picture this large is rejected from its size (video_files' too_wide / too_tall);
            # decoding one frame of it to read the orientation would cost hundreds of megabytes
            orientation, decoded = tag_orientation(stream_metadata), None
        else:
            try:  # the orientation is the first frame's (ffmpeg puts the display matrix on frames)
                orientation, decoded = _decode(p, stream_metadata, decode_all and verify, frame_count)
            except VideoError:
                if verify:
                    raise
                orientation, decoded = tag_orientation(stream_metadata), None
        duration = end if verify and end > 0 else (declared or 0.0)
        if duration <= 0:
            raise VideoError(VideoError.CORRUPT, "no measurable duration")
        width, height = orientation.display_size(ctx.width, ctx.height)
        return VideoProbe(
            container=container.format.name,
            duration_s=round(duration, 3),
            declared_duration_s=round(declared, 3) if declared else None,
            fps=round(fps, 6),
            avg_fps=round(avg, 6) if avg else None,
            base_fps=round(_rate(vs.base_rate), 6) if vs.base_rate else None,
            width=width,
            height=height,
            coded_width=ctx.width,
            coded_height=ctx.height,
            rotation_deg=orientation.rotation_deg,
            mirrored=orientation.mirrored,
            frame_count=frame_count,
            vfr=vfr,
            decoded_frames=decoded,
            vcodec=_codec_name(ctx),
            acodec=audio,
            video_packets=packets,
            keyframes=keyframes,
            size_bytes=size,
        )


def _decode(p: Path, stream_metadata: dict[str, str], decode_all: bool, frame_count: int | None
            ) -> tuple[Orientation, int | None]:
    """The orientation of the first decoded frame and, with `decode_all`, how many frames decode."""
    import av

    orientation, n = None, 0
    try:
        with av.open(str(p)) as c:
            for frame in c.decode(video=0):
                if orientation is None:
                    orientation = orientation_of(frame, stream_metadata)
                    if not decode_all:
                        break
                n += 1
    except av.error.FFmpegError as e:
        if orientation is None:
            raise VideoError(VideoError.UNDECODABLE, str(e)) from e
        raise VideoError(VideoError.UNDECODABLE,
                         f"decoding stopped after {n} of {frame_count or '?'} frames ({e})") from e
    if orientation is None:
        raise VideoError(VideoError.UNDECODABLE, "no frame could be decoded")
    return orientation, (n if decode_all else None)
