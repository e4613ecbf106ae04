import av
import numpy as np
import pytest

from assets.finevideo.frame_diff import Sampler, differs, limit_of, sad, sad_limit

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


def test_exact_repeats_and_small_changes():
    rng = np.random.default_rng(2)
    a = frame("yuv420p", 64, 36, rng)
    b = av.VideoFrame(64, 36, "yuv420p")
    for x, y in zip(a.planes, b.planes, strict=True):
        np.frombuffer(y, np.uint8)[:] = np.frombuffer(x, np.uint8)
    limit = limit_of(pixels(a), 0.05)
    assert sad(pixels(a), pixels(b), limit) == 0
    np.frombuffer(b.planes[2], np.uint8)[5] ^= 1  # one chroma sample
    assert sad(pixels(a), pixels(b), limit) == 1 and not differs(pixels(a), pixels(b), 0.05)


@pytest.mark.parametrize("samples, bits, noise", [(33 * 17 + 2 * 17 * 8, 8, 0.05), (1280 * 720 * 3 // 2, 8, 0.1),
                                                  (640 * 360 * 3, 10, 0.05), (7, 8, 0.001), (100, 8, 0.0)])
def test_the_limit_is_freezedetects_test_as_an_integer_sum(samples, bits, noise):
    limit = sad_limit(samples, bits, noise)
    assert not float(limit) / samples / (1 << bits) > noise  # still frozen at the limit
    assert float(limit + 1) / samples / (1 << bits) > noise  # one more differs


def test_sad_is_exact_within_the_limit_and_stops_past_it():
    rng = np.random.default_rng(4)
    a, b = frame("yuv420p", 64, 36, rng), frame("yuv420p", 64, 36, rng)
    total = round(reference_mafd(a, b, 8, chroma_rows=18) * pixels(a).samples * 256)
    assert sad(pixels(a), pixels(b), total) == total
    partial = sad(pixels(a), pixels(b), 10)
    assert 10 < partial < total  # a lower bound: the first chunk already passes the limit


def test_packed_formats_are_measured_after_conversion():
    rng = np.random.default_rng(3)
    px = pixels(frame("rgb24", 16, 8, rng))
    assert [p.shape for p in px.planes] == [(8, 16), (4, 8), (4, 8)]
