"""Perceptual hashes of pictures: what a near-duplicate video search compares, computed where the
pictures already are (the dynamism screen's one decode takes a still a second and hashes it before it
is encoded), so the dedup screen never decodes a video. pHash as imagehash computes it (the DCT of a
32 x 32 reduction, its 8 x 8 lowest frequencies against their median) after cutting off the dark bars
of a letterbox or pillarbox, for the whole picture and for its central CENTRE_SHARE (a copy cropped by
10% a side shows what the centre shows). Its own module, with no rule in it: the dynamism screen's
code version covers this file, and recalibrating a dedup rule must not re-decode every video."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

CENTRE_SHARE = 0.8  # what a copy cropped by 10% on every side still shows
DARK_LEVEL = 24.0  # a border line darker than this on average (0-255) ...
BAR_SPREAD = 6.0  # ... and this uniform (std) is a letterbox or pillarbox bar (measured: mean < 3, std < 2)
MAX_BAR_SHARE = 0.4  # never cut more than this share of a side away: past it the still is dark, not barred
FLAT_SPREAD = 6.0  # a still whose 32x32 reduction varies less than this (std, 0-255) is flat
HASH_GRID = 32  # pHash reduces a picture to this many cells a side (narrower or lower: it says nothing)
LOW_FREQUENCIES = 8  # ... and keeps this many of its DCT's lowest frequencies a side: 64 bits


def grey_of(picture: np.ndarray) -> np.ndarray:
    """A grey (H x W) or BGR (H x W x 3, as OpenCV and the dynamism screen hold them) picture as grey."""
    import cv2

    return picture if picture.ndim == 2 else cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)


def _is_bar(line: np.ndarray) -> bool:
    import cv2

    mean, std = cv2.meanStdDev(line)
    return float(mean[0, 0]) <= DARK_LEVEL and float(std[0, 0]) <= BAR_SPREAD


def _bar_lines(grey: np.ndarray, axis: int) -> np.ndarray:
    """Per row (`axis` 1) or column (`axis` 0): dark and uniform, as the padding of a letterbox is."""
    import cv2

    mean = cv2.reduce(grey, axis, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
    square = cv2.reduce(cv2.multiply(grey, grey, dtype=cv2.CV_32F), axis, cv2.REDUCE_AVG).ravel()
    return (mean <= DARK_LEVEL) & (np.sqrt(np.maximum(square - mean * mean, 0)) <= BAR_SPREAD)


def _leading(flags: np.ndarray, limit: int) -> int:
    """How many flags from the start are set, at most `limit`."""
    unset = np.flatnonzero(~flags[:limit])
    return int(unset[0]) if unset.size else limit


def content_box(grey: np.ndarray) -> tuple[slice, slice]:
    """The picture inside letterbox (rows) and pillarbox (columns) bars: an edge line counts as a bar
    only if the whole line is dark and uniform, so dark footage touching the edge is kept. Lines are
    measured only when an edge line is a bar (most pictures have none)."""
    h, w = grey.shape
    top = bottom = left = right = 0
    if _is_bar(grey[0]) or _is_bar(grey[-1]):
        rows = _bar_lines(grey, 1)
        top, bottom = _leading(rows, int(h * MAX_BAR_SHARE)), _leading(rows[::-1], int(h * MAX_BAR_SHARE))
    inner = grey[top:h - bottom]
    if inner.size and (_is_bar(inner[:, 0]) or _is_bar(inner[:, -1])):
        cols = _bar_lines(inner, 0)
        left, right = _leading(cols, int(w * MAX_BAR_SHARE)), _leading(cols[::-1], int(w * MAX_BAR_SHARE))
    return slice(top, h - bottom), slice(left, w - right)


def _centre(rows: slice, cols: slice, share: float) -> tuple[slice, slice]:
    """The central `share` of a box (of each side)."""
    h, w = rows.stop - rows.start, cols.stop - cols.start
    dy, dx = round(h * (1 - share) / 2), round(w * (1 - share) / 2)
    return slice(rows.start + dy, rows.stop - dy), slice(cols.start + dx, cols.stop - dx)


@lru_cache(maxsize=64)
def _grid(rows: tuple[int, int], cols: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell edges (rows, columns) and cell areas of a box: one box per video, as a rule."""
    ys = np.linspace(*rows, HASH_GRID + 1).round().astype(np.intp)
    xs = np.linspace(*cols, HASH_GRID + 1).round().astype(np.intp)
    return ys, xs, np.outer(np.diff(ys), np.diff(xs)).astype(np.float64)


def _cells(total: np.ndarray, rows: slice, cols: slice) -> np.ndarray | None:
    """The HASH_GRID x HASH_GRID cell means of the box (area averaging, as a resize to that size),
    from the picture's integral image; None for a box narrower or lower than the grid (it says nothing)."""
    if rows.stop - rows.start < HASH_GRID or cols.stop - cols.start < HASH_GRID:
        return None
    ys, xs, areas = _grid((rows.start, rows.stop), (cols.start, cols.stop))
    corners = total[ys][:, xs]
    return (corners[1:, 1:] - corners[:-1, 1:] - corners[1:, :-1] + corners[:-1, :-1]) / areas


def _dct_weights() -> np.ndarray:
    """OpenCV's DCT is orthonormal; imagehash's (scipy's unnormalised DCT-II) weighs the first row and
    column sqrt(2) more, relative to the rest, which moves the median the bits are cut at."""
    weights = np.ones((LOW_FREQUENCIES, LOW_FREQUENCIES))
    weights[0, :] *= np.sqrt(2)
    weights[:, 0] *= np.sqrt(2)
    return weights


DCT_WEIGHTS = _dct_weights()


def _phash(cells: np.ndarray | None) -> int | None:
    """pHash as imagehash computes it (the DCT of a 32 x 32 reduction, its 8 x 8 lowest frequencies
    against their median, bits row by row) as a 64-bit int (0 <= h < 2**64, stored as UInt64); None for
    a flat picture (it would match every other flat one)."""
    import cv2

    if cells is None or float(cv2.meanStdDev(cells)[1][0, 0]) < FLAT_SPREAD:
        return None
    low = (cv2.dct(cells)[:LOW_FREQUENCIES, :LOW_FREQUENCIES] * DCT_WEIGHTS).ravel()
    middle = LOW_FREQUENCIES * LOW_FREQUENCIES // 2
    median = np.partition(low, (middle - 1, middle))[middle - 1:middle + 1].mean()
    return int.from_bytes(np.packbits(low > median).tobytes(), "big")


def array_hashes(picture: np.ndarray) -> tuple[int, int | None] | None:
    """(whole, centre) pHashes of a grey or BGR picture with its bars cut off: the whole and its central
    CENTRE_SHARE (None where only the edges carry detail); None for a flat picture. Cheap enough for
    every still the dynamism screen takes (one integral image: under 0.1 ms at 384 x 216)."""
    import cv2

    grey = grey_of(picture)
    rows, cols = content_box(grey)
    total = cv2.integral(grey)
    whole = _phash(_cells(total, rows, cols))
    if whole is None:
        return None
    return whole, _phash(_cells(total, *_centre(rows, cols, CENTRE_SHARE)))
