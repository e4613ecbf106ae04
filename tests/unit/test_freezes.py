"""freezedetect's semantics, FineVideo's segment rule, the fixed rule, and the keyframe proof, on
synthetic frame sequences whose "pixels" are numbers (distance |a - b|, a metric like the filter's)."""

import math
import random
from fractions import Fraction

import pytest

from assets.finevideo.freezes import (
    DynamismRules,
    FreezeRun,
    Window,
    WindowRun,
    finevideo_windows,
    fixed_windows,
    intervals,
    is_static,
    rescale_us,
    unbroken,
)

TB = Fraction(1, 1000)  # pts in milliseconds


def differs_by(noise):
    return lambda ref, frame: abs(ref - frame) > noise


def run_frames(values, fps=10, d_s=5, noise=0.05):
    """Feed values[i] at i / fps through one freezedetect; returns (run, events in seconds)."""
    run = FreezeRun(d_s * 1_000_000, TB)
    for i, v in enumerate(values):
        run.feed(int(Fraction(i, fps) / TB), v, differs_by(noise))
    return run, intervals(run.events, TB, Fraction(0), len(values) / fps)


def test_rescale_rounds_half_away_from_zero_like_av_rescale_q():
    assert rescale_us(1, Fraction(1, 3)) == 333333
    assert rescale_us(2, Fraction(1, 3)) == 666667
    assert rescale_us(1, Fraction(1, 2_000_000)) == 1  # 0.5 us rounds up
    assert rescale_us(-1, Fraction(1, 2_000_000)) == -1
    assert rescale_us(1001, Fraction(1, 30000)) == 33367


def test_a_freeze_is_reported_from_its_first_frame_once_it_lasts_d():
    # still 1.0-7.0 s (frames 10..70 equal), moving elsewhere
    values = [i * 1.0 for i in range(10)] + [100.0] * 61 + [200.0 + i for i in range(30)]
    _, events = run_frames(values)
    assert events == [(1.0, 7.1)]  # ends at the first differing frame, which becomes the reference


def test_slow_drift_ends_a_freeze_because_frames_are_compared_with_the_first():
    drift = [100.0 + 0.01 * i for i in range(100)]  # each step 0.01 < n, but 0.05 away after 5 frames
    _, events = run_frames(drift, d_s=1)
    assert events == []
    _, events = run_frames([100.0] * 100, d_s=1)
    assert events == [(0.0, 10.0)]  # still to the end: start only, closed at the duration


def test_the_frame_that_reaches_d_may_differ_and_still_reports_the_freeze():
    # reference at 0, frames 0.1..4.9 within n, the frame at exactly 5.0 s differs
    values = [100.0] * 50 + [300.0] + [400.0 + i for i in range(20)]
    run, events = run_frames(values)
    assert run.detected and events == [(0.0, 5.0)]
    run, _ = run_frames([100.0] * 49 + [300.0] + [400.0 + i for i in range(20)])  # 4.9 s: too short
    assert not run.detected


def test_per_segment_calls_see_from_the_first_frame_at_start_through_the_first_60_s_later():
    wr = WindowRun(Window(Fraction(60), Fraction(60)), Fraction(1, 10240), Fraction(0))
    seen = [i for i in range(1300) if wr.accepts(i * 1024)]  # 10 fps, 130 s
    assert seen[0] == 600 and seen[-1] == 1200  # 60.0 s .. 120.0 s, both ends included (601 frames)
    wr = WindowRun(Window(Fraction(60), Fraction(60)), Fraction(1, 30000), Fraction(0))
    seen = [i for i in range(3900) if wr.accepts(i * 1001)]  # 29.97 fps
    ntsc = Fraction(1001, 30000)
    assert len(seen) == 1800 and seen[0] * ntsc >= 60 > (seen[0] - 1) * ntsc  # as ffmpeg 9 passes them
    late = WindowRun(Window(Fraction(60), Fraction(60)), Fraction(1, 10240), Fraction(1, 2))
    assert [i for i in range(1300) if late.accepts(i * 1024)][0] == 605  # -ss counts from the container start


def test_finevideo_segments_and_denominator_follow_the_script():
    windows, n = finevideo_windows(122.0)
    assert [w.start for w in windows] == [0, 60, 120] and n == 3
    windows, n = finevideo_windows(120.02)  # the container runs 20 ms past two minutes
    assert [w.start for w in windows] == [0, 60] and n == 3  # range(0, int(d), 60) vs ceil(d / 60)
    assert is_static(2, 5) and not is_static(1, 3) and not is_static(0, 0)


def test_the_window_length_and_freeze_duration_are_parameters_of_the_measurement():
    p = DynamismRules(segment_s=30, freeze_s=20)
    windows, n = finevideo_windows(122.0, p)
    assert [w.start for w in windows] == [0, 30, 60, 90, 120] and n == 5
    assert {w.span for w in windows} == {30} and {w.d_us for w in windows} == {20_000_000}
    fixed = fixed_windows(64.0, p)
    assert [w.start for w in fixed] == [0, 30, 34] and fixed[-1].d_us == 20_000_000
    assert fixed_windows(20.0, p)[0].d_us == round(20_000_000 * 20 / 30)
    assert is_static(1, 3) is False and is_static(1, 3, static_ratio=0.3)


def test_the_rules_compare_the_stored_fraction_and_describe_every_parameter():
    rules = DynamismRules(static_ratio=0.5).rules()
    assert [(r.reason, r.column, r.op, r.threshold) for r in rules] == [
        ("dynamism_failed", "dynamism_error", "is_null", None), ("static", "fixed_static_fraction", "lt", 0.5)]
    text = DynamismRules().describe()
    assert "static: keep if fixed_static_fraction < 0.4" in text and "n=0.05 d=50 s" in text
    assert "windows of 60 s" in text
    with pytest.raises(ValueError):
        DynamismRules(noise=0)


def segment_counts(still, duration, fps=5):
    """Per-window freezedetect over a video still in `still` (seconds), moving elsewhere."""
    def value(i):
        t = i / fps
        return 500.0 if still[0] <= t < still[1] else float(i)  # moving frames differ by 1 > n

    frames = [(int(Fraction(i, fps) / TB), value(i)) for i in range(round(duration * fps))]

    def count(windows):
        static = 0
        for w in windows:
            wr = WindowRun(w, TB, Fraction(0))
            for pts, v in frames:
                wr.feed(pts, v, differs_by(0.05))
            static += wr.run.detected
        return static

    compat, n = finevideo_windows(duration)
    fixed = fixed_windows(duration)
    return count(compat), n, count(fixed), len(fixed)


def test_recipes_122_s_slide_frozen_0_to_70_counts_one_static_segment_of_three():
    static, n, fixed, m = segment_counts((0, 70), 122)
    assert (static, n) == (1, 3) and not is_static(static, n)  # 33% < 40%: kept
    assert (fixed, m) == (1, 3)


def test_a_frozen_short_last_segment_is_invisible_to_finevideo_and_caught_by_the_fixed_rule():
    static, n, fixed, m = segment_counts((52, 105), 105)
    assert (static, n) == (0, 2) and not is_static(static, n)
    assert (fixed, m) == (1, 2) and is_static(fixed, m)  # the last 60 s (45-105) hold a 53 s freeze


def test_the_fixed_rule_judges_a_short_tail_on_the_last_60_s_not_on_the_tail_alone():
    windows = fixed_windows(64.0)
    assert windows[-1].start == 4 and windows[-1].span is None and windows[-1].d_us == 50_000_000
    static, n, fixed, m = segment_counts((60.4, 64), 64)
    assert (static, fixed) == (0, 0)  # a quiet 3.6 s tail is not half of the video
    short = fixed_windows(45.0)
    assert len(short) == 1 and short[0].d_us == 37_500_000  # whole video, 50 * 45 / 60 s
    assert segment_counts((0, 40), 45)[2] == 1 and segment_counts((0, 35), 45)[2] == 0


def test_freeze_intervals_of_the_whole_video_straddle_segment_boundaries():
    _, events = run_frames([float(i) for i in range(300)] + [7.0] * 700 + [float(i) for i in range(200)],
                           d_s=50)
    assert events == [(30.0, 100.0)]  # one 70 s freeze, not split at 60 s


def breaks_for(values, keyframes, d_s, fps=10, noise=0.05, breaks_above=None):
    """Breaks found the way dynamism.py skims: each keyframe against the pending earlier ones."""
    breaks, pending = [], []
    for k in keyframes:
        t, v = k / fps, values[k]
        rest = []
        for ti, vi in pending:
            if t - ti > d_s:
                continue
            if abs(vi - v) > (2 * noise if breaks_above is None else breaks_above):
                breaks.append((ti, t))
            else:
                rest.append((ti, vi))
        pending = [*rest, (t, v)]
    return breaks


def proven(values, keyframes, d_s, fps=10, noise=0.05, breaks_above=None):
    return not unbroken(breaks_for(values, keyframes, d_s, fps, noise, breaks_above), 0.0, len(values) / fps, d_s)


def footage(seed):
    """12 s of shots: still, drifting, or wobbling around a level (frames on both sides of a
    reference, the case where two frames of one freeze differ by up to 2n)."""
    rng = random.Random(seed)
    values, v = [], 0.0
    while len(values) < 120:
        v += rng.uniform(-0.3, 0.3)
        n, kind = rng.randint(3, 40), rng.random()
        if kind < 0.4:
            amp, speed = rng.choice([0.02, 0.045, 0.06]), rng.uniform(0.5, 2.5)
            values += [v + amp * math.sin(i * speed) for i in range(n)]
        else:
            slope = 0.0 if kind < 0.55 else rng.choice([0.004, 0.01, 0.02, 0.04])
            values += [v + slope * i for i in range(n)]
        v = values[-1]
    return values, rng.randint(2, 10)


def test_keyframe_proof_never_rules_out_a_freeze_that_exists():
    n_proven = detected = unsound_with_n = 0
    for seed in range(300):
        values, gop = footage(seed)
        keyframes = range(0, len(values), gop)
        run, _ = run_frames(values, fps=10, d_s=3)
        settled = proven(values, keyframes, d_s=3)
        assert not (settled and run.detected), f"seed {seed}: keyframes ruled out a real freeze"
        n_proven += settled
        detected += run.detected
        unsound_with_n += proven(values, keyframes, d_s=3, breaks_above=0.05) and run.detected
        for a, b in unbroken(breaks_for(values, keyframes, d_s=3), 0.0, len(values) / 10, 3):
            assert a <= b
        if run.detected:  # every reported freeze starts where the keyframes left a freeze possible
            first = run.events[0][0] / 1000
            gaps = unbroken(breaks_for(values, keyframes, d_s=3), 0.0, len(values) / 10, 3)
            assert any(a - 1e-9 <= first <= b + 1e-9 for a, b in gaps), seed
    assert n_proven >= 10 and detected >= 100  # both outcomes are exercised
    assert unsound_with_n > 0  # breaks at > n instead of > 2n would rule out real freezes


def test_the_keyframes_settle_moving_footage_and_leave_still_stretches_open():
    moving = [float(i % 7) for i in range(1000)]  # differs by >= 1 within every second
    assert proven(moving, range(0, 1000, 20), d_s=50)
    still = [3.0] * 1000
    ((a, b),) = unbroken(breaks_for(still, range(0, 1000, 20), 50), 0.0, 100.0, 50)
    assert (a, b) == (0.0, pytest.approx(50.001))
    # slides every 20 s: keyframes either side of a slide change differ, so no 50 s freeze fits
    slides = [float(i // 200) for i in range(1200)]
    assert proven(slides, range(0, 1200, 20), d_s=50)
    assert not proven(slides, range(0, 1200, 20), d_s=15)  # 20 s slides hold 15 s freezes
    # moving, then still from 60 s on: only references from about 60 s on stay possible
    mixed = [float(i % 7) if i < 600 else 9.0 for i in range(1300)]
    ((a, b),) = unbroken(breaks_for(mixed, range(0, 1300, 20), 50), 0.0, 130.0, 50)
    assert 56 <= a <= 60 and b == pytest.approx(80.001)


def test_unbroken_intervals_by_hand():
    # breaks (10, 20) and (30, 45); d = 20; video 0-100
    gaps = unbroken([(10, 20), (30, 45)], 0.0, 100.0, 20)
    # refs <= 10 with 20 - x < 20 -> x > 0 ruled out; x = 0 has 20 - 0 = 20 >= d: open
    # refs in (10, 30]: ruled out from 45 - 20 = 25 on -> (10, 25) open; after 30: up to 80 open
    assert [iv for gap in gaps for iv in gap] == pytest.approx([0.0, 0.001, 10, 25.001, 30, 80.001])


def test_a_run_is_settled_once_no_frame_still_to_come_can_complete_a_freeze():
    same = lambda a, b: a != b  # noqa: E731 - frames are numbers; equal ones are frozen
    run = FreezeRun(5_000_000, Fraction(1))  # d = 5 s, one tick a second
    assert not run.settled(100)  # nothing fed: any frame may be the reference
    for pts, picture in enumerate([0, 1, 2, 3]):  # every frame differs: the reference is the last one, at 3 s
        run.feed(pts, picture, same)
    assert run.settled(7) and not run.settled(8)  # 7 - 3 < 5 s, 8 - 3 = 5 s could still freeze
    for pts in range(4, 9):
        run.feed(pts, 3, same)  # the picture of 3 s holds: a freeze reported at 8 s, still open
    assert run.detected and run.in_freeze and not run.settled(9)

    window = WindowRun(Window(Fraction(0), Fraction(60), 50_000_000), Fraction(1), Fraction(0))
    assert window.settled(list(range(30)))  # 30 frames, 1 s apart: a 50 s freeze cannot fit
    assert not window.settled(list(range(120)))
    for pts in range(20):
        window.feed(pts, pts, same)  # moving: the reference is at 19 s, the call's last frame at 60 s
    assert window.settled(list(range(120)))  # 60 - 19 < 50
