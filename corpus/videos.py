"""Synthetic videos whose visual facts are known by construction.

A video is a list of segments concatenated with hard cuts. A segment is either a moving lavfi source
(testsrc, mandelbrot, cellauto, ...), the first frame of such a source held still (`frozen`), or a
drawn picture (poster, slide) that is still unless it `drift`s. So the cut times, the still
intervals and the duration are exact inputs, not measurements, and the manifest can state what
freezedetect and a content scene detector must find. The same `VideoSpec` renders at any size
(`dataclasses.replace(spec, width=1280, height=720)`), which is what a decode benchmark needs.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Moving sources, each measured (256x144@10 and 160x90@5) to keep freezedetect n=0.05 from seeing a
# freeze longer than ~15 s and ContentDetector(15)'s frame score under ~8, so the only cuts are ours.
# Left out on purpose: testsrc2 (scores up to 18 at 5 fps), scrolling cellauto and life (scores stay
# above 15, which ContentDetector's flash filter merges into one long "cut" that hides real ones),
# scrolling SMPTE bars (score spikes), and small objects moving over a flat background (freezedetect
# n=0.05 calls them frozen).
MOVING_SOURCES = ("testsrc", "mandelbrot", "gradients", "cellauto", "bars")


@dataclass(frozen=True)
class Segment:
    source: str  # one of MOVING_SOURCES, or "picture"
    duration_s: float
    frozen: bool = False  # hold the source's first frame (pictures are always still)
    drift: bool = False  # picture only: slow hue and brightness drift, never 5% off for 50 s
    seed: int = 0  # varies patterns and colours
    lines: tuple[str, ...] = ()  # picture only: title, then bullet lines
    style: str = "slide"  # picture only: "slide" or "poster"

    @property
    def still(self) -> bool:
        return (self.source == "picture" and not self.drift) or self.frozen


@dataclass(frozen=True)
class VideoSpec:
    segments: tuple[Segment, ...]
    width: int = 256
    height: int = 144
    fps: int = 10
    gop_s: float = 4.0
    audio: bool = True
    tones: tuple[tuple[float, float], ...] = ()  # intervals with sound: the subtitle cues
    faststart: bool = False
    crf: int = 30
    rotation: int = 0  # clockwise degrees a player turns the picture (a phone's display matrix)
    vfr: bool = False  # drop every other frame inside the longest moving segment (real phone-style VFR)

    @property
    def frames(self) -> list[int]:
        return [round(s.duration_s * self.fps) for s in self.segments]

    @property
    def duration_s(self) -> float:
        return sum(self.frames) / self.fps

    @property
    def display_size(self) -> tuple[int, int]:
        return (self.height, self.width) if self.rotation % 180 else (self.width, self.height)

    @property
    def dropped_frames(self) -> list[int]:
        """Frame indices a VFR render leaves out: odd ones at least a second inside the longest
        moving segment, so every cut and every still interval keeps its frames and times."""
        if not self.vfr:
            return []
        starts = [round(a * self.fps) for a in self.boundaries()]
        moving = [(n, a) for s, a, n in zip(self.segments, starts, self.frames, strict=True) if not s.still]
        n, a = max(moving)
        return [i for i in range(a + self.fps, a + n - self.fps) if i % 2]

    @property
    def frame_count(self) -> int:
        return sum(self.frames) - len(self.dropped_frames)

    @property
    def gop(self) -> int:
        return max(1, round(self.gop_s * self.fps))

    def boundaries(self) -> list[float]:
        out, n = [], 0
        for f in self.frames:
            out.append(n / self.fps)
            n += f
        return out

    @property
    def cut_times_s(self) -> list[float]:
        """Every segment boundary is a hard cut between visibly different pictures."""
        return self.boundaries()[1:]

    @property
    def still_intervals_s(self) -> list[tuple[float, float]]:
        starts = self.boundaries()
        return [
            (round(a, 3), round(a + f / self.fps, 3))
            for s, a, f in zip(self.segments, starts, self.frames, strict=True)
            if s.still
        ]


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _source(seg: Segment, w: int, h: int, fps: int) -> str:
    size = f"s={w}x{h}:r={fps}"
    if seg.source == "testsrc":
        return f"testsrc={size}"
    if seg.source == "mandelbrot":
        x = -0.743643887037151 + 0.002 * (seg.seed % 5)
        outer = ("iteration_count", "normalized_iteration_count")[seg.seed % 2]
        return (
            f"mandelbrot={size}:start_x={x}:start_y=0.131825904205330:start_scale=3:maxiter=256:outer={outer}"
        )
    if seg.source == "cellauto":  # scroll=0: one row rewritten per frame, a slow steady change
        rule = (30, 110, 150)[seg.seed % 3]  # rule 90 can die out into a freeze
        return f"cellauto={size}:rule={rule}:random_fill_ratio=0.5:random_seed={seg.seed + 1}:scroll=0"
    if seg.source == "gradients":
        palettes = (
            ("0xd03030", "0x3050d0", "0xe0c040"),
            ("0x20a060", "0xa020a0", "0xf08020"),
            ("0x1040a0", "0xf0f0f0", "0xc02060"),
        )
        c0, c1, c2 = palettes[seg.seed % len(palettes)]
        return f"gradients={size}:c0={c0}:c1={c1}:c2={c2}:n=3:speed=0.05:seed={seg.seed + 1}"
    if seg.source == "bars":  # smptehdbars / pal100bars score spikes up to 20 when scrolled
        return f"rgbtestsrc={size},scroll=h={0.004 if seg.seed % 2 else -0.004}"
    raise ValueError(f"unknown source {seg.source!r}")


SLIDE_COLOURS = (
    ((24, 48, 96), (250, 250, 250)),
    ((245, 240, 225), (40, 40, 40)),
    ((120, 20, 40), (255, 230, 200)),
    ((20, 90, 60), (235, 255, 235)),
    ((250, 200, 60), (30, 30, 60)),
    ((60, 60, 70), (255, 200, 120)),
)


def draw_picture(seg: Segment, w: int, h: int):
    """A slide (flat colour, title, bullets) or a poster (saturated gradient, shapes, title)."""
    from PIL import Image, ImageDraw, ImageFont

    bg, fg = SLIDE_COLOURS[seg.seed % len(SLIDE_COLOURS)]
    img = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(img)
    if seg.style == "poster":
        for y in range(h):
            t = y / max(h - 1, 1)
            d.line([(0, y), (w, y)], fill=(int(200 * (1 - t) + 30 * t), int(60 + 80 * t), int(40 + 180 * t)))
        r = h // 4
        d.ellipse([w // 2 - r, h // 3 - r, w // 2 + r, h // 3 + r], fill=(250, 210, 60))
        d.polygon([(0, h), (w // 3, h // 2), (2 * w // 3, h), (w, h * 3 // 5), (w, h)], fill=(30, 70, 40))
        fg = (255, 255, 255)
    title, *bullets = seg.lines or ("",)
    big = ImageFont.load_default(size=max(8, h // 9))
    small = ImageFont.load_default(size=max(7, h // 14))
    d.text((w // 16, h // 12), title, fill=fg, font=big)
    if seg.style == "slide":
        d.rectangle([w // 16, h // 12 + h // 7, w - w // 16, h // 12 + h // 7 + max(1, h // 72)], fill=fg)
        for i, line in enumerate(bullets):
            d.text((w // 10, h // 3 + i * (h // 8)), f"- {line}", fill=fg, font=small)
    return img


def _audio_pcm(spec: VideoSpec, rate: int = 16000) -> bytes:
    """Speech stand-in: a 220 Hz tone with a 4 Hz syllable envelope inside each cue, silence between."""
    import numpy as np

    n = round(spec.duration_s * rate)
    t = np.arange(n) / rate
    on = np.zeros(n, dtype=bool)
    for a, b in spec.tones:
        on[max(0, int(a * rate)) : min(n, int(b * rate))] = True
    wave = 6000 * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)) * np.sin(2 * np.pi * 220 * t)
    return np.where(on, wave, 0).astype("<i2").tobytes()


def render(spec: VideoSpec, path: Path, ffmpeg: str | None = None) -> Path:
    """Encode `spec` to `path` (mp4, H.264 yuv420p, AAC) with one ffmpeg call."""
    ffmpeg = ffmpeg or ffmpeg_exe()
    w, h, fps = spec.width, spec.height, spec.fps
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="corpus-render-") as tmp:
        inputs: list[str] = []
        chains: list[str] = []
        n_inputs = 0
        for i, (seg, n) in enumerate(zip(spec.segments, spec.frames, strict=True)):
            norm = f"trim=end_frame={n},setpts=PTS-STARTPTS,scale={w}:{h},setsar=1,format=yuv420p"
            if seg.source == "picture":
                png = Path(tmp) / f"p{i}.png"
                draw_picture(seg, w, h).save(png)
                inputs += ["-loop", "1", "-framerate", str(fps), "-i", str(png)]
                chain = f"[{n_inputs}:v]format=yuv420p"
                n_inputs += 1
                if seg.drift:
                    chain += ",hue=H=2*PI*t/150,eq=brightness=0.1*(2*abs(mod(t/60\\,1)-0.5)):eval=frame"
            else:
                chain = _source(seg, w, h, fps)
                if seg.frozen:
                    chain += f",trim=end_frame=1,tpad=stop_mode=clone:stop={n - 1}"
            chains.append(f"{chain},{norm}[v{i}]")
        k = len(spec.segments)
        graph = ";".join(chains) + ";" + "".join(f"[v{i}]" for i in range(k)) + f"concat=n={k}:v=1:a=0[v]"
        if spec.dropped_frames:  # frames keep their timestamps: durations of 0.1 and 0.2 s alternate
            first, last = spec.dropped_frames[0], spec.dropped_frames[-1]
            graph = graph[: -len("[v]")] + f"[c];[c]select='not(between(n\\,{first}\\,{last})*mod(n\\,2))'[v]"
        cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *inputs]
        pcm = None
        if spec.audio:
            cmd += ["-f", "s16le", "-ar", "16000", "-ac", "1", "-i", "pipe:0"]
            pcm = _audio_pcm(spec)
        cmd += ["-filter_complex", graph, "-filter_complex_threads", "1", "-map", "[v]"]
        if spec.audio:
            cmd += ["-map", f"{n_inputs}:a", "-c:a", "aac", "-aac_coder", "fast", "-b:a", "32k"]
        cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-threads", "1", "-crf", str(spec.crf)]
        cmd += ["-pix_fmt", "yuv420p", "-g", str(spec.gop), "-t", f"{spec.duration_s:.3f}"]
        cmd += [
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            "-flags:a",
            "+bitexact",
        ]
        if spec.dropped_frames:
            cmd += ["-fps_mode", "passthrough"]
        if spec.faststart:
            cmd += ["-movflags", "+faststart"]
        encoded = Path(tmp) / path.name if spec.rotation else path
        cmd.append(str(encoded))
        _run(cmd, path, pcm)
        if spec.rotation:  # a display matrix, as a phone writes it (ffmpeg's option is counter-clockwise)
            _run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-display_rotation:v:0",
                  str(-spec.rotation), "-i", str(encoded), "-map", "0", "-c", "copy", "-fflags", "+bitexact",
                  str(path)], path)
    return path


def _run(cmd: list[str], path: Path, stdin: bytes | None = None) -> None:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed for {path.name}: {proc.stderr.decode(errors='replace')[-2000:]}")


def truncate(path: Path, fraction: float = 0.5) -> int:
    """Cut a rendered file, as an interrupted download leaves it; with +faststart the moov box sits
    at the front, so the header (and the advertised duration) survive while the data ends early."""
    size = path.stat().st_size
    keep = int(size * fraction)
    with path.open("r+b") as f:
        f.truncate(keep)
    return keep
