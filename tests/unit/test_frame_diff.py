import av
import numpy as np
import pytest

from assets.finevideo.frame_diff import Sampler, differs, identical

pixels = Sampler().pixels


def frame(fmt, w, h, rng, bits=8):
    f = av.VideoFrame(w, h, fmt)
    for plane in f.planes:
        dtype = np.uint8 if bits == 8 else np.uint16
        buf = np.frombuffer(plane, dtype)
        buf[:] = rng.integers(0, 1 << bits, buf.size)
    return f


def reference_mafd(a, b, bits, chroma_rows):
    """freezedetect by hand: all planes, chroma h >> 1 rows, / count / 2^bits."""
    h, w = a.height, a.width
    sad = count = 0
    for x, y in zip(a.planes, b.planes, strict=True):
        dtype = np.uint8 if bits == 8 else np.uint16
        pa = np.frombuffer(x, dtype).reshape(x.height, -1)[:, : x.width].astype(np.int64)
        pb = np.frombuffer(y, dtype).reshape(y.height, -1)[:, : y.width].astype(np.int64)
        rows = h if x.width == w else chroma_rows
        sad += int(np.abs(pa[:rows] - pb[:rows]).sum())
        count += rows * x.width
    return sad / count / (1 << bits)


@pytest.mark.parametrize("fmt, bits", [("yuv420p", 8), ("yuv420p10le", 10)])
def test_differs_is_freezedetects_measure_including_odd_sizes(fmt, bits):
    rng = np.random.default_rng(1)
    a, b = frame(fmt, 33, 17, rng, bits), frame(fmt, 33, 17, rng, bits)
    m = reference_mafd(a, b, bits, chroma_rows=17 >> 1)
    pa, pb = pixels(a), pixels(b)
    assert pa.samples == 33 * 17 + 2 * 17 * 8 and pa.bits == bits
    assert differs(pa, pb, m - 1e-9) and not differs(pa, pb, m)  # mafd <= n means frozen


def test_identical_and_small_changes():
    rng = np.random.default_rng(2)
    a = frame("yuv420p", 64, 36, rng)
    b = av.VideoFrame(64, 36, "yuv420p")
    for x, y in zip(a.planes, b.planes, strict=True):
        np.frombuffer(y, np.uint8)[:] = np.frombuffer(x, np.uint8)
    assert identical(pixels(a), pixels(b))
    np.frombuffer(b.planes[2], np.uint8)[5] ^= 1  # one chroma sample
    assert not identical(pixels(a), pixels(b)) and not differs(pixels(a), pixels(b), 0.05)


def test_packed_formats_are_measured_after_conversion():
    rng = np.random.default_rng(3)
    px = pixels(frame("rgb24", 16, 8, rng))
    assert [p.shape for p in px.planes] == [(8, 16), (4, 8), (4, 8)]
