"""CinePile scenes, grounded question drafts, the MCQ checks, templates, splits and the leaderboard."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from assets.cinepile.bank import BankRules, screen_bank
from assets.cinepile.categories import CATEGORIES
from assets.cinepile.generation import (
    KINDS,
    Ungroundable,
    draft,
    groundable,
    length_matched,
    template_kinds,
)
from assets.cinepile.mcq import MCQ
from assets.cinepile.pools import video_pool
from assets.cinepile.scenes import parse_scene_text, scene_text, scenes_of
from assets.cinepile.tables import leaderboard, prediction_row, predictions, split_of
from assets.cinepile.templates import cluster, distinctive_terms, medoid
from assets.kit.identity import parse_record_id
from assets.kit.provenance import model_entry
from tests.fakes.word_vectors import encode

VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
Maria: Welcome back to the kitchen.

00:00:05.000 --> 00:00:08.000
Tom: Today we bake a rye loaf.

00:00:09.000 --> 00:00:12.000
Maria: First weigh the flour carefully.

00:00:21.000 --> 00:00:24.000
Tom: Now the dough rests for an hour.

00:00:25.000 --> 00:00:29.000
Maria: Then shape it on the floured board.

00:00:30.000 --> 00:00:33.000
Tom: Score the top with one cut.

00:00:34.000 --> 00:00:36.000
Maria: Bake it until it sounds hollow.

00:00:37.000 --> 00:00:39.000
Tom: Let it cool before slicing.
"""


def content(scenes):
    return json.dumps({"scenes": scenes})


def scene(i, a, b, mood="Calm", events=()):
    return {"sceneId": i, "title": f"s{i}", "timestamps": {"start_timestamp": a, "end_timestamp": b},
            "activities": [{"description": d, "timestamp": {"start_timestamp": t, "end_timestamp": t}} for t, d in events],
            "props": [], "videoEditingDetails": [], "mood": {"description": mood, "keyMoments": []},
            "thematicElements": "Food > Baking", "dynamismScore": 0.5, "audioVisualCorrelation": 0.9}


@pytest.fixture
def clips():
    from assets.cinepile.scenes import cues_from

    meta = content([scene(1, "00:00:00.000", "00:00:20.000", events=[("00:00:06", "Tom lifts a bag of flour")]),
                    scene(2, "00:00:20.040", "00:00:40.000", mood="Proud")])
    return scenes_of("vid-rec", "vid", meta, 40.0, cues_from(VTT))


def test_scenes_carry_their_own_dialogue_descriptions_and_attributes(clips):
    first, second = clips
    assert [ln.text for ln in first.lines] == ["Welcome back to the kitchen.", "Today we bake a rye loaf.",
                                               "First weigh the flour carefully."]
    assert [ln.speaker for ln in second.lines] == ["Tom", "Maria", "Tom", "Maria", "Tom"]
    assert [e.text for e in first.events] == ["Tom lifts a bag of flour"] and second.events == []
    assert (first.mood, first.motion, first.speech, first.theme) == ("Calm", "moderate motion", "speech throughout",
                                                                     "Baking")
    entries, attrs = parse_scene_text(scene_text(first))
    assert [(e.time, e.speaker, e.seen) for e in entries] == [(1, "Maria", False), (5, "Tom", False),
                                                              (6, None, True), (9, "Maria", False)]
    assert attrs["mood"] == "Calm" and attrs["theme"] == "Baking"


def pool_of(clips, corpus_speakers=("Ada", "Bo", "Cy", "Di"), themes=("Baking", "Cars", "Stars", "Code", "Running")):
    return video_pool(clips, list(corpus_speakers), list(themes))


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "seen_at"])
def test_every_draft_has_five_distinct_same_type_choices_and_times_inside_the_scene(clips, kind):
    first = clips[0]
    pool = pool_of(clips)
    if kind not in groundable(first, pool):
        with pytest.raises(Ungroundable):
            draft(kind, first, pool, 0)
        return
    m = draft(kind, first, pool, 0).mcq()
    checked = MCQ.model_validate(m.model_dump(), context={"start": first.start, "end": first.end})
    assert len(set(checked.choices)) == 5 and checked.choices[checked.answer_key_position] == checked.answer_key


def test_drafts_read_the_answer_off_the_scene(clips):
    first, pool = clips[0], pool_of(clips)
    who = draft("who_says", first, pool, 1)
    assert (who.question, who.key) == ('Who says "Today we bake a rye loaf."?', "Tom")
    assert "speakers of other videos" in who.rationale  # two speakers in the video: corpus names fill in
    nxt = draft("said_next", first, pool, 0)
    assert nxt.key == "Today we bake a rye loaf." and "Welcome back to the kitchen." not in nxt.wrong
    before = draft("said_before", first, pool, 1)
    assert before.key == "Today we bake a rye loaf."
    assert len(before.wrong) == 5 and "Welcome back to the kitchen." not in before.wrong
    when = draft("at_time", first, pool, 3)  # the fourth moment is the timed description
    assert when.key == "00:06" and when.visual and "00:06" not in when.wrong
    assert draft("mood", first, pool, 0).key == "Calm"


def test_said_before_needs_four_later_lines(clips):
    with pytest.raises(Ungroundable, match="too_few_distractors"):
        draft("said_before", clips[0], pool_of(clips[:1]), 1)


def test_distractors_are_the_candidates_closest_in_length():
    # the key itself is skipped; equal length first, then one off (either side), then three off
    assert length_matched("abcde", ["a", "abcd", "abcdef", "abcdefghij", "ab", "abcde", "xyzuv"]) == [
        "xyzuv", "abcd", "abcdef", "ab"]


@pytest.mark.parametrize("change, message", [
    ({"choices": ["a", "b", "c", "d"]}, "exactly 5"),
    ({"choices": ["a", "b", "c", "d", "A."]}, "repeat"),
    ({"start_timestamp": "00:40"}, "outside the scene"),
    ({"end_timestamp": "00:09", "start_timestamp": "00:12"}, "before start"),
    ({"answer_key_position": 5}, "less than or equal"),
])
def test_mcq_checks(change, message):
    good = {"question": "Who is it?", "choices": ["a", "b", "c", "d", "e"], "answer_key_position": 1,
            "rationale": "r", "start_timestamp": "00:10", "end_timestamp": "00:12"}
    MCQ.model_validate(good, context={"start": 5, "end": 20})
    with pytest.raises(ValidationError, match=message):
        MCQ.model_validate({**good, **change}, context={"start": 5, "end": 20})


BANK = pl.DataFrame({"question": ["Who says it?", "", "Why?", "who  says IT?", "What next?"],
                     "source_category": ["CRD", None, None, "CRD", None]})


def test_bank_screen_rejects_empty_short_and_repeated_questions():
    df = screen_bank(BANK, source="bank.parquet")
    assert df["reason"].to_list() == [None, "empty", "too_short", "duplicate", "too_short"]
    assert df["duplicate_of"].to_list() == [None, None, None, 0, None]  # the measurement the rule compares
    assert df["record_id"].to_list() == [f"bank:bank.parquet:{i}" for i in range(5)]
    assert [parse_record_id(r) for r in df["record_id"]] == [("bank", ("bank.parquet", str(i))) for i in range(5)]


def test_the_bank_threshold_is_a_rule_parameter():
    strict = screen_bank(BANK, BankRules(min_words=4))
    assert strict["reason"].to_list() == ["too_short", "empty", "too_short", "too_short", "too_short"]
    loose = screen_bank(BANK, BankRules(min_words=1))
    assert loose["reason"].to_list() == [None, "empty", None, "duplicate", None]
    assert "too_short: keep if words >= 3" in BankRules().describe()


def test_cluster_finds_separated_groups_and_their_medoids():
    rng = np.random.default_rng(0)
    centers = np.eye(8)[:3]
    vectors = np.concatenate([c + 0.05 * rng.standard_normal((10, 8)) for c in centers])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    fit = cluster(vectors, k_min=2, k_max=8, step=2)
    assert fit.k == 3 and len(set(fit.labels[:10])) == 1 and fit.silhouettes[3] == max(fit.silhouettes.values())
    assert medoid(np.array([[1.0, 0.0], [0.8, 0.6], [0.6, 0.8]])) == 1


def test_distinctive_terms_skip_what_every_cluster_says():
    terms = distinctive_terms(["what happens when the phone rings what happens", "what happens when the door opens"])
    assert terms[0][0] == "phone" and "happens" not in terms[0]


def test_every_kind_of_a_category_gets_a_template_when_there_are_enough():
    protos = ["Who says this line?", "Who speaks first?", "What is said next?", "What does she say at noon?"]
    kinds = template_kinds(protos, ["CRD", "CRD", "NPA", "NPA"], encode)
    assert sorted(kinds[:2]) == ["who_first", "who_says"] and sorted(kinds[2:]) == ["said_at", "said_next"]


def test_split_by_video_is_stable_and_near_its_share():
    ids = [f"video{i}" for i in range(2000)]
    splits = [split_of(v, 0.3) for v in ids]
    assert splits == [split_of(v, 0.3) for v in ids]
    assert 0.27 < splits.count("test") / len(ids) < 0.33


def test_leaderboard_micro_accuracy_per_category_and_hard_split():
    items = [{"record_id": f"q{i}", "answer_key_position": 0, "answer_key": "k", "hard_split": h,
              "choices": ["k", "l", "m", "n", "o"], "question_category": CATEGORIES[c]} for i, (h, c) in enumerate([("True", "TEMP"), ("False", "TEMP"),
                                                                               ("False", "TH")])]
    rows = [prediction_row(items[0], "m", "A"), prediction_row(items[1], "m", "Answer: B"),
            prediction_row(items[2], "m", "I cannot tell")]
    preds = predictions(rows, [[model_entry("vlm", "openai", "m", "cinepile_vlm_answer@1", f"p{i}")] for i in range(3)])
    assert preds["parent_ids"].to_list() == [["q0"], ["q1"], ["q2"]]
    assert preds["record_id"].to_list() == ["prediction:q0:m", "prediction:q1:m", "prediction:q2:m"]
    board = leaderboard(preds)
    acc = {(s, v): (n, a, u) for s, v, n, a, u in board.select("slice", "value", "questions", "accuracy",
                                                               "unparseable").rows()}
    assert acc[("overall", "all")] == (3, pytest.approx(33.33), 1)
    assert acc[("question_category", CATEGORIES["TEMP"])] == (2, 50.0, 0)
    assert acc[("question_category", CATEGORIES["TH"])] == (1, 0.0, 1)
    assert acc[("question_category", CATEGORIES["NPA"])] == (0, None, 0)
    assert acc[("hard_split", "True")] == (1, 100.0, 0) and acc[("hard_split", "False")] == (2, 0.0, 1)
    overall = board.filter(pl.col("slice") == "overall").row(0, named=True)
    assert overall["record_id"] == "leaderboard:m:overall:all"
    assert overall["parent_ids"] == preds["record_id"].to_list()
    assert [m["model"] for m in overall["models"]] == ["m"]  # the adapter's model once, not once per item
