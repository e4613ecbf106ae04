from fractions import Fraction

import numpy as np
from scenedetect import ContentDetector
from scenedetect.common import FrameTimecode

from assets.finevideo.scene_cuts import content_detector, detection_size


def test_detection_size_is_scenedetects_auto_downscale():
    assert detection_size(1280, 720) == (256, 144)
    assert detection_size(640, 360) == (256, 144)
    assert detection_size(854, 480) == (256, 144)
    assert detection_size(160, 90) == (160, 90)  # narrower than 256: not scaled


def test_fast_scores_and_cuts_are_the_stock_detectors():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
    frames = []
    for i in range(120):
        if i % 17 == 0:  # a cut: a new picture
            base = rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
        noise = rng.integers(-6, 7, base.shape)
        img = np.clip(base.astype(int) + noise, 0, 255).astype(np.uint8)
        frames.append(frames[-1] if i % 5 == 3 else img)  # some exact repeats (the same array)
    stock, fast = ContentDetector(threshold=15), content_detector(15)
    cuts_stock, cuts_fast = [], []
    for i, img in enumerate(frames):
        tc = FrameTimecode(i, fps=Fraction(10))
        cuts_stock += stock.process_frame(tc, img)
        s = stock._frame_score
        cuts_fast += fast.process_frame(tc, img)
        assert fast._frame_score == s  # bit-identical, not approximately equal
    assert [c.frame_num for c in cuts_fast] == [c.frame_num for c in cuts_stock] and len(cuts_stock) >= 5
