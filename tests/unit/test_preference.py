"""Preference pairs: claims judged against a reading of the scene, on-policy RLAIF-V ranking,
thumbnails."""

import io
import random

import numpy as np

from assets.training import digit_scenes as ds
from assets.training import preference as pf
from assets.training.claim_labeler import scene_reading

SCENE = ds.Scene("s", "pref", (ds.Placed(3, 0, 0, 0, 0), ds.Placed(7, 8, 24, 24, 1)))
SEEN = scene_reading(SCENE)
TRUE = "a 3 at the top left and a 7 at the bottom right"


def test_judge_counts_each_kind_of_wrong_claim():
    assert pf.judge(TRUE, SEEN).faithful
    v = pf.judge("a 5 at the top left and a 7 at the bottom right", SEEN)
    assert (v.hallucinated, v.misplaced, v.missing, v.fault) == (1, 0, 1, "hallucinated_digit")
    v = pf.judge("a 3 at the top left and a 7 at the center", SEEN)
    assert (v.hallucinated, v.misplaced, v.missing, v.fault) == (0, 1, 1, "wrong_position")
    v = pf.judge("a 3 at the top left", SEEN)
    assert (v.faithful, v.fault, v.missing) == (False, None, 1)
    # the verdict follows the reading it is given: a labeler that misreads the 7 as a 1
    v = pf.judge(TRUE, {0: 3, 8: 1})
    assert (v.hallucinated, v.missing) == (1, 1)


def test_pair_is_the_best_and_the_worst_sample():
    samples = [TRUE, "a 3 at the top left and a 7 at the center", "a 5 at the top left and a 9 at the bottom right"]
    p = pf.build_pair("describe the image.", samples, SEEN, random.Random(0))
    assert p["chosen"] == TRUE and p["rejected"] == samples[2] and p["reason"] is None
    assert (p["rejected_fault"], p["chosen_wrong"], p["rejected_wrong"]) == ("hallucinated_digit", 0, 2)
    assert p["faithful_samples"] == 1 and p["hallucinating_samples"] == 1


def test_saying_less_beats_inventing_and_a_pair_needs_a_difference():
    p = pf.build_pair("q", ["a 3 at the top left", "a 3 at the top left and a 1 at the bottom right"], SEEN,
                      random.Random(0))
    assert p["chosen"] == "a 3 at the top left" and p["rejected_fault"] == "hallucinated_digit"
    # chosen need not be perfect, only strictly better (RLAIF-V's relative preference)
    p = pf.build_pair("q", ["a 3 at the top left and a 1 at the center", "a 5 at the top left and a 1 at the center"],
                      SEEN, random.Random(0))
    assert (p["chosen_wrong"], p["rejected_wrong"]) == (1, 2)
    same = pf.build_pair("q", ["a 3 at the top left", "a 7 at the bottom right"], SEEN, random.Random(0))
    assert same["chosen"] is None and same["reason"] == "samples rank the same"
    assert pf.build_pair("q", ["", TRUE], SEEN, random.Random(0))["reason"] == "fewer than two answers"


def test_thumbnail_shrinks_and_never_enlarges():
    from PIL import Image

    png = ds.png_bytes(np.zeros((72, 72), dtype=np.uint8))
    small, before, after = pf.thumbnail_png(png, 36)
    assert before == (72, 72) and after == (36, 36)
    assert Image.open(io.BytesIO(small)).size == (36, 36)
    _, _, same = pf.thumbnail_png(png, 100)
    assert same == (72, 72)


def test_rejected_is_the_worst_of_the_samples_that_rank_below_chosen():
    one_wrong = "a 5 at the top left and a 7 at the bottom right"  # 1 hallucinated, 1 missing
    two_wrong = "a 3 at the center and a 7 at the top left"  # 2 misplaced, 2 missing
    p = pf.build_pair("q", [one_wrong, two_wrong], SEEN, random.Random(0))
    assert (p["chosen"], p["rejected"], p["rejected_fault"]) == (one_wrong, two_wrong, "wrong_position")
    p = pf.build_pair("q", [TRUE, one_wrong, two_wrong], SEEN, random.Random(0))
    assert (p["chosen"], p["rejected"], p["rejected_wrong"]) == (TRUE, two_wrong, 2)
