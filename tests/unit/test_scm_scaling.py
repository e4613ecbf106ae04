"""The scaling study's arithmetic: sizes by width, greedy intermediate times, the claims' verdicts."""

import pytest

from assets.training.scm.config import SCALING_WIDTHS, scaled, scm_config
from assets.training.scm.scaling import claims, greedy_t_mids


def test_sizes_scale_the_width_and_keep_groupnorm_divisible():
    base = scm_config("default")
    widths = {s: scaled(base, s).teacher.net.channels for s in SCALING_WIDTHS}
    assert widths == {"small": 16, "medium": 32, "large": 48}
    assert all(w % base.teacher.net.groups == 0 for w in widths.values())
    assert scaled(base, "large").student == base.student and scaled(base, "large").teacher.steps == base.teacher.steps
    assert scaled(scm_config("fast"), "small").teacher.net.channels == 64  # the residual MLP
    with pytest.raises(ValueError, match="unknown scaling size"):
        scaled(base, "huge")


def test_greedy_t_mids_adds_the_best_smaller_time_each_step():
    target = (1.1, 0.8, 0.3)

    def measure(tm):  # val FD falls with every time that matches the target sequence
        return (10.0 - sum(3.0 - abs(a - b) for a, b in zip(tm, target, strict=False)), "x")

    out = greedy_t_mids(measure, (0.3, 0.5, 0.8, 1.1, 1.4), 5)
    assert [out[k][0] for k in (1, 2, 3, 4)] == [(), (1.1,), (1.1, 0.8), (1.1, 0.8, 0.3)]
    assert out[5][0] == (1.1, 0.8, 0.3, 0.15)  # no candidate left below 0.3: the last time halved
    assert all(out[k][1][1] == "x" for k in out)


def _cell(size, params, steps, ratio, lo, hi, p=None):
    return {"size": size, "params": params, "network": "student", "steps": steps, "ratio_to_teacher": ratio,
            "ratio_lo": lo, "ratio_hi": hi, "p_no_gain": p}


def test_claims_hold_when_intervals_overlap_and_every_step_helps():
    rows = [_cell(s, n, 1, r, r - 0.1, r + 0.1) for s, n, r in (("small", 1, 1.3), ("medium", 4, 1.35), ("large", 9, 1.25))]
    rows += [_cell(s, n, 2, 1.1, 1.0, 1.2, 0.01) for s, n in (("small", 1), ("medium", 4), ("large", 9))]
    rows += [{"size": "small", "params": 1, "network": "teacher", "steps": 20}]
    out = claims(rows)
    assert out["consistent_across_sizes"]["holds"] and out["more_steps_narrow_gap"]["holds"]
    assert out["consistent_across_sizes"]["ratio_by_steps_and_size"][1] == {"small": 1.3, "medium": 1.35, "large": 1.25}
    assert "consistent across 3 sizes" in out["consistent_across_sizes"]["statement"]


def test_claims_fail_on_a_size_trend_and_on_a_step_that_does_not_help():
    rows = [_cell(s, n, 1, r, r - 0.05, r + 0.05) for s, n, r in (("small", 1, 1.2), ("medium", 4, 1.4), ("large", 9, 1.8))]
    rows += [_cell("small", 1, 2, 1.1, 1.0, 1.2, 0.01), _cell("medium", 4, 2, 1.3, 1.2, 1.4, 0.30),
             _cell("large", 9, 2, 1.5, 1.4, 1.6, 0.02)]
    out = claims(rows)
    assert not out["consistent_across_sizes"]["holds"] and "changes with size" in out["consistent_across_sizes"]["statement"]
    assert not out["more_steps_narrow_gap"]["holds"]
    assert "medium: 2 steps p=0.30" in out["more_steps_narrow_gap"]["statement"]
