from fractions import Fraction

import numpy as np
import pytest
from scenedetect import AdaptiveDetector, ContentDetector
from scenedetect.common import FrameTimecode

from assets.finevideo.scene_cuts import (
    SHOTS,
    AdaptiveCuts,
    ShotParams,
    content_detector,
    detect_shots,
    detection_size,
)


def test_detection_size_is_scenedetects_auto_downscale():
    assert detection_size(1280, 720) == (256, 144)
    assert detection_size(640, 360) == (256, 144)
    assert detection_size(854, 480) == (256, 144)
    assert detection_size(160, 90) == (160, 90)  # narrower than 256: not scaled


def _noisy_frames(n=120, every=17, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
    frames = []
    for i in range(n):
        if i % every == 0:  # a cut: a new picture
            base = rng.integers(0, 256, (36, 64, 3), dtype=np.uint8)
        noise = rng.integers(-6, 7, base.shape)
        img = np.clip(base.astype(int) + noise, 0, 255).astype(np.uint8)
        frames.append(frames[-1] if i % 5 == 3 else img)  # some exact repeats (the same array)
    return frames


def test_fast_scores_and_cuts_are_the_stock_detectors():
    frames = _noisy_frames()
    stock, fast = ContentDetector(threshold=15), content_detector(15)
    cuts_stock, cuts_fast = [], []
    for i, img in enumerate(frames):
        tc = FrameTimecode(i, fps=Fraction(10))
        cuts_stock += stock.process_frame(tc, img)
        s = stock._frame_score
        cuts_fast += fast.process_frame(tc, img)
        assert fast._frame_score == s  # bit-identical, not approximately equal
    assert [c.frame_num for c in cuts_fast] == [c.frame_num for c in cuts_stock] and len(cuts_stock) >= 5


@pytest.mark.parametrize("every, seed", [(23, 1), (9, 2), (5, 3)])  # scenes shorter than min_scene_len too
def test_hard_cuts_are_the_stock_adaptive_detectors(every, seed):
    """`AdaptiveCuts` on the fast scores decides as scenedetect's AdaptiveDetector on its own."""
    frames = _noisy_frames(n=200, every=every, seed=seed)
    frames[60:70] = [np.zeros_like(frames[0])] * 10  # a still stretch: neighbours average 0
    stock = AdaptiveDetector(adaptive_threshold=SHOTS.cut_ratio, min_scene_len=SHOTS.min_scene_frames,
                             window_width=SHOTS.window, min_content_val=SHOTS.cut_score)
    fast, ours = content_detector(SHOTS.cut_score), AdaptiveCuts(SHOTS)
    cuts_stock, cuts_ours = [], []
    for i, img in enumerate(frames):
        cuts_stock += stock.process_frame(FrameTimecode(i, fps=Fraction(10)), img)
        score = fast._calculate_frame_score(None, img)
        assert score == stock._frame_score
        found = ours.feed(i, score)
        cuts_ours += [] if found is None else [found]
    assert cuts_ours == [c.frame_num for c in cuts_stock] and len(cuts_ours) >= 3


# --- clips built here: a textured picture (big shapes, fine grain) seen by a camera, an object crossing


W, H, FPS = 320, 180, 25


def _world(seed: int):
    import cv2

    rng = np.random.default_rng(seed)
    w, h = W * 3, H * 2
    img = cv2.resize(rng.integers(0, 256, (h // 45 + 2, w // 45 + 2, 3), dtype=np.uint8), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    for _ in range(14):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(15, 70))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, colour, -1)
        else:
            cv2.rectangle(img, (x, y), (x + r, y + r), colour, -1)
    return np.clip(img.astype(int) + rng.integers(-12, 13, (h, w, 1)), 0, 255).astype(np.uint8)


def _shot(seed: int, n: int, pan: float = 0.0) -> list[np.ndarray]:
    """`n` frames of a camera panning `pan` px per frame over picture `seed`, a ball crossing it."""
    import cv2

    img, out = _world(seed), []
    for i in range(n):
        x = int(round(i * pan)) % (img.shape[1] - W)
        f = img[:H, x: x + W].copy()
        cv2.circle(f, (i * 3 % W, H // 2 + int(20 * np.sin(i / 7))), 18, (40, 220, 240), -1)
        out.append(f)
    return out


def _blend(a, b, w: float):
    return (a * (1 - w) + b * w).round().astype(np.uint8)


def _ramp(frames, towards, n: int, up: bool = False):
    """The first `n` frames blended into `towards` (a flat picture), weight rising (falling if `up`)."""
    return [_blend(f, towards, (n - k) / (n + 1) if up else (k + 1) / (n + 1)) for k, f in enumerate(frames[:n])]


def _write(frames, path, pts_ms=None):
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"crf": "23", "g": "50"}
        if pts_ms is not None:
            s.codec_context.time_base = Fraction(1, 1000)
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            if pts_ms is not None:
                frame.pts, frame.time_base = pts_ms[i], Fraction(1, 1000)
            c.mux(s.encode(frame))
        c.mux(s.encode())
    return path


def _clips():
    a, b = _shot(1, 80), _shot(2, 80)
    black = np.zeros_like(a[0])
    fade_n, mix_n = 15, 25
    return {
        "cut": a[:50] + b[:50],  # first frame of the new shot: 50
        "dissolve": a[:50] + [_blend(a[50 + k], b[k], (k + 1) / (mix_n + 1)) for k in range(mix_n)] + b[mix_n:75],
        # fade out over 50-64, black 65-69, fade in over 70-84
        "fade": a[:50] + _ramp(a[50:], black, fade_n) + [black] * 5 + _ramp(b, black, fade_n, up=True) + b[fade_n:65],
        "fade_then_cut": a[:50] + _ramp(a[50:], black, fade_n) + [black] * 10 + b[:50],  # cut at 75
        "fade_in_and_out": [black] * 5 + _ramp(a, black, fade_n, up=True) + a[fade_n:60] + _ramp(a[60:], black, fade_n)
        + [black] * 5,
        "pan": _shot(3, 100, pan=8.0),  # one shot, the camera moving fast
        "whip_pan": _shot(3, 100, pan=16.0),  # every frame scores above ContentDetector's 27
    }


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shots")
    return {name: _write(frames, folder / f"{name}.mp4") for name, frames in _clips().items()}


def _summary(shots):
    return [(c.frame, c.kind) for c in shots.cuts], [(t.kind, t.boundary) for t in shots.transitions]


def test_a_hard_cut_is_one_cut_and_no_transition(clips):
    shots = detect_shots(clips["cut"])
    assert _summary(shots) == ([(50, "cut")], [])
    assert shots.cuts[0].seconds == pytest.approx(50 / FPS)


def test_a_dissolve_is_one_transition_and_one_cut_in_its_middle(clips):
    shots = detect_shots(clips["dissolve"])
    assert _summary(shots)[1] == [("dissolve", True)]
    (t,) = shots.transitions
    assert 47 <= t.start_frame <= 52 and 71 <= t.end_frame <= 76  # blend frames 50-74
    (cut,) = shots.cuts
    assert cut.kind == "dissolve" and t.start_frame < cut.frame < t.end_frame
    assert (t.start_s, t.end_s) == (pytest.approx(t.start_frame / FPS), pytest.approx(t.end_frame / FPS))


def test_a_fade_through_black_is_one_transition_not_a_scene_of_fade(clips):
    """The old ContentDetector(15) cut at the edge of the fade (into black) and called the fade a
    scene; here fade out, black and fade in are one transition with one cut."""
    shots = detect_shots(clips["fade"])
    assert _summary(shots)[1] == [("fade", True)]
    (t,) = shots.transitions
    (cut,) = shots.cuts
    assert t.start_frame <= 52 and t.end_frame >= 82 and t.start_frame < cut.frame < t.end_frame
    old = ContentDetector(threshold=15)  # what FineVideo's threshold reports on the same frames
    edges = [f.frame_num for i, img in enumerate(_clips()["fade"])
             for f in old.process_frame(FrameTimecode(i, fps=Fraction(FPS)), img)]
    assert edges and all(63 <= e <= 66 for e in edges)


def test_a_fade_to_black_then_a_cut_is_the_cut(clips):
    shots = detect_shots(clips["fade_then_cut"])
    assert _summary(shots) == ([(75, "cut")], [("fade_out", False)])


def test_fades_at_the_ends_of_a_video_separate_nothing(clips):
    shots = detect_shots(clips["fade_in_and_out"])
    assert _summary(shots) == ([], [("fade_in", False), ("fade_out", False)])


@pytest.mark.parametrize("name", ["pan", "whip_pan"])
def test_one_shot_with_camera_motion_has_no_cut_and_no_transition(clips, name):
    assert _summary(detect_shots(clips[name])) == ([], [])


def test_cut_times_are_presentation_timestamps(tmp_path):
    """Frames of 40 ms, then of 20 ms: the cut at the 50th frame is at 30 * 0.04 + 20 * 0.02 = 1.6 s,
    not 50 frames over the average rate (1.33 s)."""
    a, b = _shot(1, 50), _shot(2, 50)
    pts = [40 * i if i <= 30 else 1200 + 20 * (i - 30) for i in range(100)]
    shots = detect_shots(_write(a + b, tmp_path / "vfr.mp4", pts_ms=pts))
    assert [(c.frame, c.seconds) for c in shots.cuts] == [(50, 1.6)]
    assert shots.times[:3] == [0.0, 0.04, 0.08] and shots.times[-1] == pytest.approx(2.58)
    assert detect_shots(tmp_path / "vfr.mp4").cut_times == [1.6]


def test_the_dynamism_full_decode_gives_the_same_shots(clips):
    from assets.finevideo.dynamism import analyse

    for name in ("fade", "cut"):
        shots = detect_shots(clips[name])
        full = analyse(clips[name], shots.times[-1] + 1 / FPS, skim=False)
        assert full.scene_cuts_s == shots.cut_times
        assert full.transitions == [(t.start_s, t.end_s, t.kind) for t in shots.transitions]


def test_parameters_are_data_and_change_the_decision(clips):
    assert ShotParams.model_validate_json(SHOTS.fingerprint()) == SHOTS
    assert "AdaptiveDetector" in SHOTS.describe()
    strict = ShotParams(blend_residual=0.01)  # no real blend is that clean: the dissolve is missed
    assert detect_shots(clips["dissolve"], strict).transitions == []


@pytest.mark.parametrize("name, every", [("dissolve", 3), ("fade_in_and_out", 4), ("cut", 3)])
def test_transitions_are_found_where_only_every_few_frames_are_seen(clips, name, every):
    """A skipping decoder feeds every few frames with their numbers in the video: the transition
    windows count video frames, so they span the time they name, and the shots come out as on every
    frame, within the frames not seen (counting fed frames, the dissolve's cut fell on its first
    frame and the fades at the ends were not found)."""
    import av

    from assets.finevideo.scene_cuts import CutDetector

    with av.open(str(clips[name])) as c:
        stream = c.streams.video[0]
        detector = CutDetector(stream)
        for number, frame in enumerate(c.decode(stream)):
            if number % every == 0:
                detector.feed(frame, number=number)
        sparse = detector.shots()
    dense = detect_shots(clips[name])
    assert [t.kind for t in sparse.transitions] == [t.kind for t in dense.transitions]
    assert [c.kind for c in sparse.cuts] == [c.kind for c in dense.cuts]
    assert dense.cuts or dense.transitions
    for s, d in zip(sparse.transitions, dense.transitions, strict=True):
        assert abs(s.start_frame - d.start_frame) < every and abs(s.end_frame - d.end_frame) < every
    for s, d in zip(sparse.cuts, dense.cuts, strict=True):
        assert 0 <= s.frame - d.frame < every
