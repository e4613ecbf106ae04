"""FineVideo's dynamism check as its script ran it: the reference our one-pass screen must equal.

`dynamicfilters/videodynamismfiltering/check_static.py` (huggingface/fineVideo) reads the container
duration with ffprobe (`format=duration`; PyAV reports the same field), then runs one ffmpeg call per
60 s segment, `ffmpeg -ss S -i f -t 60 -vf freezedetect=n=0.05:d=50 -an -f null -` (input seeking,
as the script does), counts a segment static when "freezedetect" appears in the log, and calls the
video static when static segments / ceil(duration / 60) >= 0.4.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Verdict:
    static: bool
    static_segments: int
    segments: int


def container_duration(path: str | Path) -> float:
    import av

    with av.open(str(path)) as c:
        return c.duration / 1_000_000


def check_static(path: str | Path, ffmpeg: str, segment_s: int = 60, noise: float = 0.05,
                 freeze_s: int = 50, threshold: float = 0.4, threads: int | None = None) -> Verdict:
    """FineVideo's calls; `threads` pins ffmpeg's decoder threads (None: ffmpeg's default, as published)."""
    duration = container_duration(path)
    segments = math.ceil(duration / segment_s)
    static = 0
    for start in range(0, int(duration), segment_s):
        pinned = ["-threads", str(threads)] if threads else []
        cmd = [ffmpeg, "-hide_banner", *pinned, "-ss", str(start), "-i", str(path), "-t", str(segment_s),
               "-vf", f"freezedetect=n={noise}:d={freeze_s}", "-an", "-f", "null", "-"]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"ffmpeg failed on {path} at {start}s: {result.stderr[-300:]}")
        static += "freezedetect" in result.stderr
    return Verdict(static / segments >= threshold, static, segments)
