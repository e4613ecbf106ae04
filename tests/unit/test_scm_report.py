import time

import numpy as np
import pytest

from assets.training.scm.report import (
    bracket,
    choose_sampler,
    interval,
    matched_nfe,
    reference_steps,
    time_at,
    time_samplers,
)


def test_reference_is_the_smallest_step_count_within_tolerance_of_the_largest():
    fds = {1: 40.0, 4: 3.0, 8: 1.035, 16: 1.015, 32: 1.01, 63: 1.0}
    assert reference_steps(fds, 0.02) == 16
    assert reference_steps(fds, 0.04) == 8
    assert reference_steps({63: 1.0}, 0.02) == 63
    assert reference_steps({8: 0.99, 63: 1.0}, 0.02) == 8  # a smaller FD also qualifies


def test_chosen_sampler_is_the_cheapest_meeting_the_target_else_the_best():
    assert choose_sampler({"one": 1.4, "two": 1.1}, 1.0, 1.5) == "one"
    assert choose_sampler({"one": 1.6, "two": 1.1}, 1.0, 1.5) == "two"
    assert choose_sampler({"one": 3.0, "two": 2.0}, 1.0, 1.5) == "two"
    assert choose_sampler({"one": 2.0, "two": 3.0}, 1.0, 1.5) == "one"


def test_timing_is_per_sample_and_interleaved():
    calls = []

    def slow():
        calls.append("slow")
        time.sleep(0.02)

    def fast():
        calls.append("fast")

    t = time_samplers({"slow": slow, "fast": fast}, batch=10, repeats=3)
    assert calls == ["slow", "fast"] * 4  # one warm-up round, then interleaved rounds
    assert t["slow"] >= 0.002 and t["fast"] < t["slow"]


def test_matched_nfe_interpolates_in_log_nfe_and_says_when_it_is_a_bound():
    nfes, fds = [2, 4, 8, 16, 32], [40.0, 10.0, 4.0, 2.0, 1.9]
    nfe, bound = matched_nfe(nfes, fds, 3.0)  # halfway between 4.0 (8 NFE) and 2.0 (16 NFE)
    assert bound == "" and nfe == pytest.approx(8 * 2 ** 0.5)
    assert matched_nfe(nfes, fds, 4.0) == (pytest.approx(8.0), "")
    assert matched_nfe(nfes, fds, 50.0) == (2.0, "<=")  # worse than the teacher's cheapest point
    assert matched_nfe(nfes, fds, 1.0) == (32.0, ">=")  # better than the teacher anywhere swept
    assert matched_nfe([2, 4, 8], [5.0, 2.0, 2.5], 3.0)[0] < 4  # the first crossing of a noisy plateau
    assert bracket(nfes, 8 * 2 ** 0.5) == (8, 16) and bracket(nfes, 8.0) == (8, 8) and bracket(nfes, 99) == (32, 32)


def test_teacher_time_is_linear_in_nfe_through_the_timed_points():
    timed = {8: 0.8, 16: 1.6, 32: 3.0}
    assert time_at(timed, 12) == pytest.approx(1.2)
    assert time_at(timed, 24) == pytest.approx(2.3)
    assert time_at(timed, 4) == pytest.approx(0.4) and time_at(timed, 40) == pytest.approx(3.7)
    assert time_at({10: 1.0}, 25) == pytest.approx(2.5)


def test_bootstrap_rounds_share_the_real_draw_so_ratios_are_paired():
    from assets.training.scm.data import load_images
    from assets.training.scm.evaluate import Judge

    data = load_images("digits", 8, seed=0)
    judge = Judge(data, (32, 16), seed=0)
    x_tr, _ = data.part("train")
    rng = np.random.default_rng(1)
    noisy = x_tr[:300] + rng.normal(0, 0.8, x_tr[:300].shape).astype(np.float32)
    boot = judge.bootstrap_fd({"real": x_tr[:300], "noisy": noisy}, "test", 40, seed=3)
    assert {k: v.shape for k, v in boot.items()} == {"real": (40,), "noisy": (40,)}
    assert (boot["noisy"] > boot["real"]).all()
    for name, x in (("real", x_tr[:300]), ("noisy", noisy)):
        point = judge.fd(x, "test")
        # redrawing with replacement inflates an FD; the interval keeps the spread, centred on the estimate
        assert np.median(boot[name]) > point
        lo, hi = interval(boot[name], point)
        assert lo < point < hi and hi - lo == pytest.approx(np.percentile(boot[name], 97.5) - np.percentile(boot[name], 2.5))
    again = judge.bootstrap_fd({"real": x_tr[:300], "noisy": noisy}, "test", 40, seed=3)
    assert all(np.array_equal(boot[k], again[k]) for k in boot)  # seeded
