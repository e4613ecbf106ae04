"""freezedetect's frame difference, computed on decoded PyAV frames without copying them.

freezedetect sums absolute differences over every plane of the frame in its decoded pixel format
(luma and both chroma planes for yuv420p; chroma planes `h >> log2_chroma_h` rows tall), divides
by the number of samples and by 2^bitdepth. `Pixels` holds zero-copy views of exactly those
samples, and `mafd` repeats the filter's arithmetic, so "frozen" here is "frozen" in ffmpeg. Planar
formats of freezedetect's list are measured as decoded; anything else (packed RGB, NV12, big-endian)
is converted to yuv420p first, where ffmpeg would pick its own conversion, so only those rare
sources can differ from the filter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# planar formats freezedetect accepts as they are (its query_formats list, "le" storage implied)
PLANAR = frozenset(
    {"gray", "gray9", "gray10", "gray12", "gray14", "gray16"}
    | {f"yuv{s}p" for s in ("420", "422", "444", "410", "411", "440")}
    | {f"yuvj{s}p" for s in ("420", "422", "444", "411", "440")}
    | {f"yuv{s}p{b}" for s in ("420", "422", "444") for b in (9, 10, 12, 14, 16)}
    | {"yuv440p10", "yuv440p12"}
    | {f"yuva{s}p" for s in ("420", "422", "444")}
    | {f"yuva{s}p{b}" for s in ("420", "422", "444") for b in (9, 10, 16)}
    | {"gbrp", "gbrp9", "gbrp10", "gbrp12", "gbrp14", "gbrp16", "gbrap", "gbrap10", "gbrap12", "gbrap16"}
)


@dataclass(frozen=True)
class Pixels:
    planes: tuple[np.ndarray, ...]
    chunks: tuple[np.ndarray, ...]  # the same samples, luma in four bands, so comparisons can stop early
    samples: int
    bits: int


@dataclass(frozen=True)
class _Layout:
    dtype: type
    shapes: tuple[tuple[int, int], ...]  # (rows, columns) freezedetect reads per plane
    bands: tuple[tuple[int, int], ...]  # luma row ranges
    samples: int
    bits: int


def _rows(frame_height: int, plane_height: int, chroma: bool) -> int:
    if not chroma:
        return frame_height
    shift = next(k for k in range(4) if -(-frame_height >> k) == plane_height)
    return frame_height >> shift  # freezedetect rounds chroma heights down


class Sampler:
    """Turns decoded frames into `Pixels`; the layout is worked out once per format and size, and
    formats freezedetect does not read as decoded go through one reused swscale context."""

    def __init__(self):
        self._layouts: dict[tuple, _Layout | None] = {}
        self._reformatter = None

    def _layout(self, frame) -> _Layout | None:
        key = (frame.format.name, frame.width, frame.height)
        if key not in self._layouts:
            fmt = frame.format
            name = fmt.name[:-2] if fmt.name.endswith("le") else fmt.name
            comps = fmt.components
            planar = len({c.plane for c in comps}) == len(comps)  # one component per plane
            if name not in PLANAR or not planar or (comps[0].bits > 8 and not fmt.name.endswith("le")):
                self._layouts[key] = None
            else:
                shapes = tuple((_rows(frame.height, p.height, bool(c.is_chroma)), p.width)
                               for c, p in zip(comps, frame.planes, strict=True))
                step = max(1, -(-shapes[0][0] // 4))
                self._layouts[key] = _Layout(
                    np.uint8 if comps[0].bits <= 8 else np.uint16, shapes,
                    tuple((i, min(i + step, shapes[0][0])) for i in range(0, shapes[0][0], step)),
                    sum(r * c for r, c in shapes), comps[0].bits)
        return self._layouts[key]

    def pixels(self, frame) -> Pixels:
        """Views of the samples freezedetect compares (the frame must stay referenced while used)."""
        layout = self._layout(frame)
        if layout is None:
            if self._reformatter is None:
                from av.video.reformatter import VideoReformatter

                self._reformatter = VideoReformatter()
            frame = self._reformatter.reformat(frame, format="yuv420p")
            layout = self._layout(frame)
        planes = tuple(
            np.frombuffer(plane, layout.dtype).reshape(-1, plane.line_size // layout.dtype().itemsize)[:rows, :cols]
            for plane, (rows, cols) in zip(frame.planes, layout.shapes, strict=True)
        )
        luma = planes[0]
        chunks = tuple(luma[a:b] for a, b in layout.bands) + planes[1:]
        return Pixels(planes, chunks, layout.samples, layout.bits)


@lru_cache(maxsize=64)
def sad_limit(samples: int, bits: int, noise: float) -> int:
    """The largest sum of absolute differences freezedetect still calls frozen at `noise`: its test
    `(double)sad / count / (1 << bitdepth) > noise` is monotone in the sum, so "differs" is exactly
    "sum > this limit", and sums can be compared, added and bounded as integers."""

    def frozen(sad: int) -> bool:
        return not float(sad) / samples / (1 << bits) > noise

    limit = max(0, math.floor(noise * samples * (1 << bits)))
    while limit > 0 and not frozen(limit):
        limit -= 1
    while frozen(limit + 1):
        limit += 1
    return limit


def limit_of(px: Pixels, noise: float) -> int:
    return sad_limit(px.samples, px.bits, noise)


def sad(a: Pixels, b: Pixels, limit: int) -> int:
    """The sum of absolute differences over every sample freezedetect reads, exact when it is at most
    `limit`; past it the sum stops at the first chunk that crosses it (a lower bound above `limit`)."""
    import cv2

    total = 0
    for x, y in zip(a.chunks, b.chunks, strict=True):
        total += int(cv2.norm(x, y, cv2.NORM_L1))
        if total > limit:
            break
    return total


def differs(a: Pixels, b: Pixels, noise: float) -> bool:
    """freezedetect's `(double)sad / count / (1 << bitdepth) > noise`, stopping as soon as a partial
    sum settles it (the float arithmetic is monotone in the sum: same answer as the full sum)."""
    limit = limit_of(a, noise)
    return sad(a, b, limit) > limit
