import time

from assets.training.scm.report import choose_sampler, reference_steps, time_samplers


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
