"""Preference pairs: the labeler, synthetic faults, RLAIF-V ranking, thumbnails."""

import io
import random

import numpy as np
import pytest

from assets.training import digit_scenes as ds
from assets.training import preference as pf

SCENE = ds.Scene("s", "pref", (ds.Placed(3, 0, 0, 0, 0), ds.Placed(7, 8, 24, 24, 1)))
TRUE = "a 3 at the top left and a 7 at the bottom right"


def test_judge_counts_each_kind_of_wrong_claim():
    assert pf.judge(TRUE, SCENE).faithful
    v = pf.judge("a 5 at the top left and a 7 at the bottom right", SCENE)
    assert (v.hallucinated, v.misplaced, v.missing, v.fault) == (1, 0, 1, "hallucinated_digit")
    v = pf.judge("a 3 at the top left and a 7 at the center", SCENE)
    assert (v.hallucinated, v.misplaced, v.missing, v.fault) == (0, 1, 1, "wrong_position")
    v = pf.judge("a 3 at the top left", SCENE)
    assert (v.faithful, v.fault, v.missing) == (False, None, 1)


@pytest.mark.parametrize("fault", pf.FAULTS)
def test_synthetic_faults_are_what_they_say(fault):
    for seed in range(5):
        text = pf.perturb(SCENE, fault, random.Random(seed))
        v = pf.judge(text, SCENE)
        if fault == "wrong_position":
            assert v.misplaced == 1 and v.hallucinated == 0
        else:
            assert v.hallucinated == 1
        assert text != TRUE


def test_pair_prefers_policy_samples_and_the_worst_hallucination():
    samples = [TRUE, "a 3 at the top left and a 7 at the center", "a 5 at the top left and a 9 at the bottom right"]
    p = pf.build_pair(SCENE, "describe the image.", samples, random.Random(0))
    assert p["chosen"] == TRUE and p["chosen_source"] == "policy"
    assert p["rejected"] == samples[2] and p["rejected_fault"] == "hallucinated_digit"
    assert p["rejected_source"] == "policy" and p["faithful_samples"] == 1 and p["hallucinating_samples"] == 1


def test_saying_less_beats_inventing_and_reference_fills_in():
    p = pf.build_pair(SCENE, "q", ["a 3 at the top left", "a 3 at the top left and a 1 at the bottom right"],
                      random.Random(0))
    assert p["chosen"] == "a 3 at the top left" and p["chosen_source"] == "policy_partial"
    p = pf.build_pair(SCENE, "q", [], random.Random(0))
    assert p["chosen"] == TRUE and p["chosen_source"] == "reference" and p["rejected_source"] == "synthetic"
    assert pf.judge(p["rejected"], SCENE).fault is not None


def test_thumbnail_shrinks_and_never_enlarges():
    from PIL import Image

    png = ds.png_bytes(np.zeros((72, 72), dtype=np.uint8))
    small, before, after = pf.thumbnail_png(png, 36)
    assert before == (72, 72) and after == (36, 36)
    assert Image.open(io.BytesIO(small)).size == (36, 36)
    _, _, same = pf.thumbnail_png(png, 100)
    assert same == (72, 72)
