"""The triangle-inequality shortcuts of the dynamism measurement against brute force: every
verdict and every keyframe break must be the one a direct comparison gives."""

from fractions import Fraction

import av
import numpy as np
import pytest

from assets.finevideo.dynamism import _Skim, _Verdicts
from assets.finevideo.frame_diff import Sampler, differs, limit_of
from assets.finevideo.freezes import US, FreezeRun

NOISE = 0.05


def frame(samples: np.ndarray, w: int, h: int, pts: int):
    f = av.VideoFrame(w, h, "yuv420p")
    f.pts = pts
    data = samples.astype(np.uint8)
    y, u = w * h, w * h // 4
    for plane, chunk in zip(f.planes, (data[:y], data[y:y + u], data[y + u:]), strict=True):
        view = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        view[:, : chunk.size // view.shape[0]] = chunk.reshape(view.shape[0], -1)
    return f


def frames(seed: int, n: int = 240, w: int = 32, h: int = 18) -> list:
    """Stills, exact repeats, jumps, random drift (where the bounds are loose) and monotone ramps
    (where they are exact, so a verdict sits right at the limit): the cases the bounds must get right."""
    rng = np.random.default_rng(seed)

    def picture():
        return rng.integers(40, 200, w * h * 3 // 2).astype(np.int16)

    base = picture()
    out = []
    for i in range(n):
        kind = rng.choice(["repeat", "ramp", "drift", "jump", "noise"], p=[0.3, 0.35, 0.15, 0.05, 0.15])
        if kind == "ramp":  # every sample moves up or stays: differences add up exactly
            base = base + (rng.random(base.shape) < rng.uniform(0.02, 0.3)) * rng.integers(1, 4)
        elif kind == "drift":
            base = base + rng.integers(-3, 4, base.shape)
        elif kind == "jump":
            base = picture()
        elif kind == "noise":
            base = base + rng.integers(-1, 2, base.shape) * (rng.random(base.shape) < 0.5)
        base = np.clip(base, 0, 255)
        out.append(frame(base, w, h, i))
    return out


def to_the_limit(noise: float, w: int = 32, h: int = 18) -> list:
    """A picture, then frames that each raise a few more samples by one (the differences from the
    first add up exactly) until they are `noise` away from it, then one sample more."""
    base = np.full(w * h * 3 // 2, 100, np.int16)
    limit = limit_of(Sampler().pixels(frame(base, w, h, 0)), noise)
    sizes = [limit // 5] * 5 + [limit % 5, 1]  # 5 steps, the remainder (exactly at the limit), one past it
    out, raised = [frame(base, w, h, 0)], 0
    for k, size in enumerate(sizes, start=1):
        np.add.at(base, (raised + np.arange(size)) % base.size, 1)  # round the samples, one at a time
        raised += size
        out.append(frame(base, w, h, k))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_bounded_verdicts_are_the_direct_comparisons(seed):
    sampler = Sampler()
    pixels = [sampler.pixels(f) for f in frames(seed)]
    for d_frames in (3, 10, 40):
        runs = [FreezeRun(d_frames * US, Fraction(1)) for _ in range(4)]  # one frame a second
        direct, bounded, late_direct, late = runs  # late: a window that starts later, with its own reference
        verdicts = _Verdicts(NOISE)
        for i, px in enumerate(pixels):
            repeat = verdicts.next_frame(px)
            assert repeat == (i > 0 and np.array_equal(np.concatenate([c.ravel() for c in px.chunks]),
                                                      np.concatenate([c.ravel() for c in pixels[i - 1].chunks])))
            direct.feed(i, px, lambda a, b: differs(a, b, NOISE))
            bounded.feed(i, px, verdicts.differs)
            if i >= 17:
                late_direct.feed(i, px, lambda a, b: differs(a, b, NOISE))
                late.feed(i, px, verdicts.differs)
        assert bounded.events == direct.events and late.events == late_direct.events
        assert direct.events or d_frames == 40  # the footage does hold freezes


@pytest.mark.parametrize("seed", range(6))
def test_bounded_keyframe_breaks_are_every_pair_that_differs_by_2n(seed):
    keyframes = frames(seed, n=60)
    skim = _Skim(NOISE, d_s=12.0)
    sampler = Sampler()
    for t, f in enumerate(keyframes):
        skim.visit(float(t), f)
    px = [sampler.pixels(f) for f in keyframes]
    expected, settled = [], set()
    for j in range(len(px)):  # what visit did before the bounds: each pending keyframe measured
        for i in range(max(0, j - 12), j):
            if i not in settled and differs(px[i], px[j], 2 * NOISE):
                expected.append((float(i), float(j)))
                settled.add(i)
    assert skim.breaks == expected and len(expected) > 3


def test_the_bounds_hold_exactly_at_the_limit():
    sampler, verdicts, run = Sampler(), _Verdicts(NOISE), FreezeRun(100 * US, Fraction(1))
    seen = []
    for f in to_the_limit(NOISE):
        px = sampler.pixels(f)
        verdicts.next_frame(px)
        run.feed(f.pts, px, lambda a, b: seen.append(verdicts.differs(a, b)) or seen[-1])
    assert seen == [False] * 6 + [True]  # at the limit still frozen, one sample past it differs
    skim = _Skim(NOISE, d_s=100.0)
    for f in to_the_limit(2 * NOISE):
        skim.visit(float(f.pts), f)
    assert [b for b in skim.breaks if b[0] == 0.0] == [(0.0, 7.0)]
