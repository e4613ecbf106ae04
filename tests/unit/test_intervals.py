"""Scene-bootstrap intervals for the MLLM and DPO figures: whole scenes are resampled, copies of a
scene stay apart, clustered items widen the interval, paired figures share their draws."""

import numpy as np
import pytest

from assets.training.hallucination import chair_change
from assets.training.intervals import formatted, means, scene_bootstrap
from assets.training.mllm_metrics import summary_intervals


def _items(n_scenes: int, per_scene: int, right) -> list[dict]:
    return [{"scene_id": f"s{i}", "metric": "acc", "score": float(right(i))} for i in range(n_scenes)
            for _ in range(per_scene)]


def test_every_round_draws_as_many_scenes_as_there_are_and_keeps_copies_apart():
    rows = [{"scene_id": f"s{i}", "v": i} for i in range(7)] + [{"scene_id": "s0", "v": 0}]
    seen = []

    def statistic(sample):
        seen.append(len({(r["scene_id"], r["copy"]) for r in sample}))
        return {"n": float(len(sample))}

    out = scene_bootstrap(rows, statistic, rounds=200, seed=1)
    assert seen == [7] * 200  # 7 scenes drawn per round, each copy its own scene
    assert 7 <= out["n"][0] <= out["n"][1] <= 14


def test_interval_holds_the_truth_and_narrows_with_more_scenes():
    small = scene_bootstrap(_items(100, 1, lambda i: i % 2), means, rounds=500)["acc"]
    large = scene_bootstrap(_items(1600, 1, lambda i: i % 2), means, rounds=500)["acc"]
    assert small[0] < 0.5 < small[1] and large[0] < 0.5 < large[1]
    # binomial standard error 0.05 at n=100, 0.0125 at n=1600: the width shrinks about fourfold
    assert (small[1] - small[0]) / (large[1] - large[0]) == pytest.approx(4, rel=0.3)
    assert small[1] - small[0] == pytest.approx(2 * 1.96 * 0.05, rel=0.2)


def test_items_of_one_scene_are_not_counted_as_independent():
    clustered = scene_bootstrap(_items(100, 10, lambda i: i % 2), means, rounds=500)["acc"]
    independent = scene_bootstrap([{**r, "scene_id": f"{r['scene_id']}:{k}"} for k, r in
                                   enumerate(_items(100, 10, lambda i: i % 2))], means, rounds=500)["acc"]
    # 1,000 items but 100 scenes: the honest interval is about sqrt(10) times wider
    assert (clustered[1] - clustered[0]) / (independent[1] - independent[0]) > 2.5


def test_a_certain_figure_has_a_point_interval_and_an_empty_input_none():
    assert scene_bootstrap(_items(20, 2, lambda i: 1), means, rounds=50) == {"acc": [1.0, 1.0]}
    assert scene_bootstrap([], means) == {}


def test_summary_intervals_cover_every_summarised_figure():
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        rows.append({"scene_id": f"s{i}", "kind": "qa", "qtype": "count", "score": float(rng.random() < 0.8)})
        rows.append({"scene_id": f"s{i}", "kind": "qa", "qtype": "where", "score": float(rng.random())})
        for _ in range(2):
            rows.append({"scene_id": f"s{i}", "kind": "dialogue", "dialogue_id": f"d{i}", "qtype": "exist",
                         "score": float(rng.random() < 0.7)})
    from assets.training.mllm_metrics import summarise

    point, ci = summarise(rows), summary_intervals(rows)
    assert set(ci) == set(point)
    for k, (lo, hi) in ci.items():
        assert lo <= point[k] <= hi and lo < hi, k


def test_chair_change_is_paired_and_computed_from_parsed_sets():
    rows = [{"scene_id": "a", "variant": "before_dpo", "mentioned": {1, 7}, "true": {7}},
            {"scene_id": "a", "variant": "after_dpo", "mentioned": {7}, "true": {7}},
            {"scene_id": "b", "variant": "before_dpo", "mentioned": {3, 8}, "true": {3, 5}},
            {"scene_id": "b", "variant": "after_dpo", "mentioned": {3, 8}, "true": {3, 5}}]
    out = chair_change(rows)
    assert out["chair_relative_reduction"] == pytest.approx((2 / 4 - 1 / 3) / (2 / 4))
    assert out["cover_change_points"] == 0.0
    ci = scene_bootstrap(rows, chair_change, rounds=300)
    # drawing only scene b leaves CHAIR unchanged; drawing only a removes every hallucination
    assert ci["chair_relative_reduction"][0] == pytest.approx(0.0) and ci["chair_relative_reduction"][1] == 1.0


def test_formatted():
    assert formatted(0.9213, [0.9, 0.94]) == "0.921 [0.900, 0.940]"
    assert formatted(-1.5, None, 1) == "-1.5"
