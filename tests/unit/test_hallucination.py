"""AMBER-style metrics with hand-computed values."""

import pytest

from assets.training import digit_scenes as ds
from assets.training import hallucination as hl


def test_chair_cover_hal_hand_computed():
    mentioned = [{3, 5}, {7}, set()]
    truth = [{3}, {7, 1}, {2}]
    s = hl.chair_scores(mentioned, truth)
    assert s.mentions == 3 and s.hallucinated == 1
    assert s.chair == pytest.approx(1 / 3)
    assert s.cover == pytest.approx(2 / 4)
    assert s.hal == pytest.approx(1 / 3)


def test_chair_works_on_located_objects_too():
    s = hl.chair_scores([{(3, "top left"), (7, "center")}], [{(3, "top left"), (7, "bottom right")}])
    assert s.chair == 0.5 and s.cover == 0.5 and s.hal == 1.0


def test_caption_objects_and_position_errors():
    scene = ds.Scene("s", "test", (ds.Placed(3, 0, 0, 0, 0), ds.Placed(7, 8, 24, 24, 1)))
    text = "a 3 at the top left, a 7 at the center and a 5 at the top right"
    assert hl.caption_objects(text) == {3, 5, 7}
    # of the two claims naming present digits, the 7 is in the wrong cell
    assert hl.position_error_rate([text], [scene]) == 0.5


def test_yes_no_scores_with_no_as_positive():
    preds = ["no", "Yes.", "no", "maybe"]
    truth = ["no", "no", "yes", "no"]
    s = hl.yes_no_scores(preds, truth)
    # TP=1 (first), FP=1 (third), FN=2 (second said yes, fourth unparsed)
    assert s.precision_no == 0.5 and s.recall_no == pytest.approx(1 / 3)
    assert s.f1_no == pytest.approx(0.4)
    assert s.accuracy == 0.25 and s.unparsed == 1


def test_existence_probes_are_balanced():
    scenes = [ds.Scene(f"s{i}", "test", (ds.Placed(i % 10, 0, 0, 0, 0),)) for i in range(6)]
    probes = hl.existence_probes(scenes, seed=0)
    assert [t for _, _, t in probes].count("yes") == [t for _, _, t in probes].count("no") == 6
    for i, q, t in probes:
        d = int(q.split()[3].rstrip("?"))
        assert (d in scenes[i].classes) == (t == "yes")
