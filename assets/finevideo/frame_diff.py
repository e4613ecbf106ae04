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

from dataclasses import dataclass

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
    samples: int
    bits: int


def _rows(frame_height: int, plane_height: int, chroma: bool) -> int:
    if not chroma:
        return frame_height
    shift = next(k for k in range(4) if -(-frame_height >> k) == plane_height)
    return frame_height >> shift  # freezedetect rounds chroma heights down


def pixels(frame) -> Pixels:
    """Views of the samples freezedetect compares (the frame must stay referenced while used)."""
    fmt = frame.format
    name = fmt.name[:-2] if fmt.name.endswith("le") else fmt.name
    comps = fmt.components
    planar = len({c.plane for c in comps}) == len(comps)  # one component per plane
    if name not in PLANAR or not planar or (comps[0].bits > 8 and not fmt.name.endswith("le")):
        frame = frame.reformat(format="yuv420p")
        fmt, comps = frame.format, frame.format.components
    bits = comps[0].bits
    dtype = np.uint8 if bits <= 8 else np.uint16
    views = []
    for comp, plane in zip(comps, frame.planes, strict=True):
        per_row = plane.line_size // np.dtype(dtype).itemsize
        arr = np.frombuffer(plane, dtype=dtype).reshape(-1, per_row)
        views.append(arr[: _rows(frame.height, plane.height, bool(comp.is_chroma)), : plane.width])
    return Pixels(tuple(views), sum(v.size for v in views), bits)


def _chunks(px: Pixels) -> list[np.ndarray]:
    """The planes, luma in four bands, so a comparison can stop early."""
    luma = px.planes[0]
    step = max(1, -(-luma.shape[0] // 4))
    return [luma[i : i + step] for i in range(0, luma.shape[0], step)] + list(px.planes[1:])


def differs(a: Pixels, b: Pixels, noise: float) -> bool:
    """freezedetect's `(double)sad / count / (1 << bitdepth) > noise`, stopping as soon as a partial
    sum settles it (the float arithmetic is monotone in the sum: same answer as the full sum)."""
    import cv2

    sad = 0
    for x, y in zip(_chunks(a), _chunks(b), strict=True):
        sad += int(cv2.norm(x, y, cv2.NORM_L1))
        if float(sad) / a.samples / (1 << a.bits) > noise:
            return True
    return False


def identical(a: Pixels, b: Pixels) -> bool:
    """Bit-identical samples (still footage often decodes to exact repeats), stopping at the first
    difference."""
    import cv2

    return all(cv2.norm(x, y, cv2.NORM_INF) == 0 for x, y in zip(_chunks(a), _chunks(b), strict=True))
