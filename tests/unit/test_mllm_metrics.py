"""Caption/QA/box scores with hand-computed values."""

import pytest

from assets.training import digit_scenes as ds
from assets.training.mllm_metrics import caption_claim_f1, caption_correct, iou, score_answer, summarise


def _scene():
    return ds.Scene("s", "test", (ds.Placed(3, 0, 0, 0, 0), ds.Placed(7, 8, 24, 24, 1)))


def test_iou_hand_values():
    assert iou((0, 0, 8, 8), (0, 0, 8, 8)) == 1.0
    assert iou((0, 0, 8, 8), (4, 4, 12, 12)) == pytest.approx(16 / 112)
    assert iou((0, 0, 8, 8), (8, 8, 16, 16)) == 0.0
    assert iou((0, 0, 8, 8), (1, 0, 9, 8)) == pytest.approx(56 / 72)


def test_caption_must_match_exactly_as_a_set_of_claims():
    s = _scene()
    assert caption_correct("a 3 at the top left and a 7 at the bottom right", s)
    assert not caption_correct("a 3 at the top left", s)  # missing digit
    assert not caption_correct("a 3 at the top left and a 7 at the bottom middle", s)  # wrong cell
    assert not caption_correct("a 3 at the top left, a 7 at the bottom right and a 1 at the center", s)


def test_score_answer_per_type():
    s = _scene()
    assert score_answer("count", " 2 ", "2") == 1.0
    assert score_answer("exist", "Yes.", "yes") == 1.0
    assert score_answer("read", "3 7", "7 3") == 0.0
    assert score_answer("where", "[1, 0, 9, 8]", "[0, 0, 8, 8]") == pytest.approx(56 / 72)
    assert score_answer("where", "somewhere", "[0, 0, 8, 8]") == 0.0
    assert score_answer("caption", "a 3 at the top left and a 7 at the bottom right", "", s) == 1.0


def test_summarise_micro_averages_qa_and_keeps_boxes_apart():
    rows = [
        {"kind": "qa", "qtype": "count", "score": 1.0},
        {"kind": "qa", "qtype": "exist", "score": 1.0},
        {"kind": "qa", "qtype": "exist", "score": 0.0},
        {"kind": "qa", "qtype": "read", "score": 1.0},
        {"kind": "qa", "qtype": "where", "score": 0.6},
        {"kind": "qa", "qtype": "where", "score": 0.2},
        {"kind": "caption", "qtype": "caption", "score": 0.0},
        {"kind": "dialogue", "dialogue_id": "d1", "qtype": "count", "score": 1.0},
        {"kind": "dialogue", "dialogue_id": "d1", "qtype": "where", "score": 0.55},
        {"kind": "dialogue", "dialogue_id": "d2", "qtype": "exist", "score": 0.0},
    ]
    out = summarise(rows)
    assert out["qa_accuracy"] == pytest.approx(3 / 4)
    assert out["exist_accuracy"] == 0.5 and out["count_accuracy"] == 1.0
    assert out["bbox_iou"] == pytest.approx(0.4) and out["bbox_acc50"] == 0.5
    assert out["caption_accuracy"] == 0.0
    assert out["dialogue_turn_accuracy"] == pytest.approx(2 / 3)
    assert out["dialogue_all_correct"] == 0.5


def test_caption_claim_f1_gives_partial_credit():
    s = _scene()
    assert caption_claim_f1("a 3 at the top left and a 7 at the bottom right", s) == 1.0
    assert caption_claim_f1("a 3 at the top left", s) == pytest.approx(2 * 1 / 3)
    assert caption_claim_f1("a 3 at the top left and a 7 at the center", s) == 0.5
    assert caption_claim_f1("nothing here", s) == 0.0
    rows = [{"kind": "caption", "qtype": "caption", "score": 0.0, "claim_f1": 0.5},
            {"kind": "qa", "qtype": "count", "score": 1.0, "claim_f1": None},
            {"kind": "dialogue", "dialogue_id": "d", "qtype": "caption", "score": 1.0, "claim_f1": 1.0}]
    assert summarise(rows)["caption_claim_f1"] == 0.5  # single-turn captions only
