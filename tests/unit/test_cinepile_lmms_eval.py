"""The release drops into lmms-eval's CinePile task: its category strings, its reply reading and its
aggregation (restated in `lmms_eval_scoring.py`), and the lenient reading next to it."""

from __future__ import annotations

import json

import polars as pl
import pytest

from assets.cinepile.categories import CATEGORIES, label
from assets.cinepile.dataset_card import card_data, lmms_eval_readiness, markdown
from assets.cinepile.lmms_eval_scoring import CATEGORIES as SCORED_CATEGORIES
from assets.cinepile.lmms_eval_scoring import (
    cinepile_aggregate_results,
    cinepile_process_results,
    normalize_string,
)
from assets.cinepile.mcq import MCQ
from assets.cinepile.refinement import Check, Vote, refine
from assets.cinepile.replies import letter, parse_lenient, parse_reply, score_reply
from assets.cinepile.sources import CLIP_SCHEMA, scene_rows
from assets.cinepile.tables import (
    DATASET_SCHEMA,
    dataset_rows,
    final_rows,
    leaderboard,
    prediction_row,
    predictions,
    round_rows,
)
from assets.kit.identity import record_id
from assets.kit.provenance import model_entry

# lmms_eval/tasks/cinepile/utils.py (EvolvingLMMs-Lab/lmms-eval @ 08c9bdaab608642c0877ef0d693e0122a8b234ea)
LMMS_EVAL_CATEGORIES = ["Character and\nRelationship Dynamics", "Narrative and\nPlot Analysis",
                        "Setting and\nTechnical Analysis", "Temporal", "Theme Exploration"]
CHOICES = ["Maria", "Tom", "Lena", "Sam", "Kim"]  # key: B) Tom


def test_the_categories_are_cinepile_strings_and_shown_on_one_line():
    assert list(CATEGORIES.values()) == SCORED_CATEGORIES == LMMS_EVAL_CATEGORIES
    assert [label(c) for c in CATEGORIES.values()] == [
        "Character and Relationship Dynamics", "Narrative and Plot Analysis", "Setting and Technical Analysis",
        "Temporal", "Theme Exploration"]


@pytest.mark.parametrize("reply, read", [
    ("B", ("B", "")),
    ("b", ("B", "")),
    ("**Answer:** B", ("B", "")),
    ("Answer: b) Tom", ("B", "Tom")),
    ("Final answer: B. Tom", ("B", "Tom")),
    ("Answer: B\nRationale: he says it", ("B", "Rationale: he says it")),  # `\s*` crosses the line break
    ("Answer: Because he left", ("B", "ecause he left")),  # a word after "Answer:" gives its first letter
    ("B.", (None, "B.")),
    ("(B)", (None, "(B)")),
    ("The answer is (B).", (None, "The answer is (B).")),
    ("Option B", (None, "Option B")),
    ("  Tom ", (None, "Tom")),
])
def test_the_strict_reading_is_lmms_evals(reply, read):
    assert normalize_string(reply) == parse_reply(reply) == read


@pytest.mark.parametrize("reply, correct", [
    ("B", True), ("Answer: B) tom", True), ("Answer: B) Lena", False), ("Answer: B\nRationale: he says it", False),
    ("tom", True), ("B.", False), ("The answer is (B).", False), ("Answer: C", False), (None, False),
])
def test_the_strict_score_is_lmms_evals(reply, correct):
    doc = {"question": "Who?", "answer_key": "Tom", "answer_key_position": 1, "question_category": "Temporal",
           "hard_split": "False"}
    got = score_reply(reply, 1, "Tom")
    assert got[0] is correct
    if reply is not None:  # lmms-eval never sees a failed call
        assert cinepile_process_results(doc, [reply])["cinepile_accuracy"]["correct"] == int(correct)


@pytest.mark.parametrize("reply", [
    "B", "B.", "(B)", "b", "B)", "B) Tom", "(B) Tom", "B. tom", "The answer is (B).", "The answer is B, since he left",
    "Option B", "Option B is right", "choice (b)", "Answer: B", "**Answer:** B", "answer: b",
    "Answer: B\nRationale: option C is wrong", "Tom", "the answer is tom.", "Answer: Tom",
])
def test_the_lenient_reading_accepts_what_a_person_reads_as_b(reply):
    assert parse_lenient(reply, CHOICES) == "B"


@pytest.mark.parametrize("reply", [
    "a dog", "each of them", "A dog", "e.g. someone", "Because he left", "Answer: Because he left",
    "The answer is a dog", "I think B", "B) Lena",  # a letter and another option's text
    "Option A or option C", "Answer: A\nAnswer: C", "", "   ", None,
])
def test_the_lenient_reading_reads_no_letter_from_a_word_or_a_contradiction(reply):
    assert parse_lenient(reply, CHOICES) is None


def test_an_option_text_is_read_as_that_option_never_as_a_letter():
    choices = ["a cat", "dog", "the red car", "each of them", "E. coli"]
    assert parse_lenient("A dog", choices) == "B"  # the article, and B's text
    assert parse_lenient("each of them", choices) == "D"
    assert parse_lenient("E. coli", choices) == "E"
    assert parse_lenient("The answer is the red car.", choices) == "C"


def test_whatever_lmms_eval_scores_right_the_lenient_reading_scores_right():
    replies = ["A", "c", "Answer: D", "Answer: A) Maria", "Answer: e. kim", "**Answer:** C) Lena", "sam", "Kim",
               "Answer: B\nRationale: x", "The answer is B", "no idea", "Answer: C) Tom", "Lena "]
    checked = 0
    for key in range(5):
        for reply in replies:
            if score_reply(reply, key, CHOICES[key])[0]:
                checked += 1
                assert parse_lenient(reply, CHOICES) == letter(key), reply
    assert checked == 9


def result(category: str, hard_split: str, correct: int) -> dict:
    return {"question_category": category, "hard_split": hard_split, "correct": correct}


def hand_results() -> list[dict]:
    crd, npa, sta, temp, th = LMMS_EVAL_CATEGORIES
    return [result(crd, "True", 1), result(crd, "False", 0),
            result(npa, "True", 1), result(npa, "False", 1), result(npa, "False", 0),
            result(sta, "False", 1),
            result(temp, "True", 0), result(temp, "True", 0),
            result(th, "True", 1), result(th, "False", 0)]


def test_the_aggregation_gives_lmms_evals_figures():
    crd, npa, sta, temp, th = LMMS_EVAL_CATEGORIES
    # a result in the old one-line spelling is counted nowhere, as in lmms-eval
    figures = cinepile_aggregate_results([*hand_results(), result("Character and Relationship Dynamics", "True", 1)])
    assert figures["accuracy"] == 50.0  # 5 of 10
    assert figures["categories"] == {crd: 50.0, npa: pytest.approx(200 / 3), sta: 100.0, temp: 0.0, th: 50.0}
    assert figures["hard_split"] == {crd: {"True": 100.0, "False": 0.0}, npa: {"True": 100.0, "False": 50.0},
                                     sta: {"True": 0, "False": 100.0}, temp: {"True": 0.0, "False": 0},
                                     th: {"True": 100.0, "False": 0.0}}
    assert figures["uncounted"] == 1


def test_the_aggregation_fails_like_lmms_eval_without_a_category_or_with_another_split():
    missing_temporal = [r for r in hand_results() if r["question_category"] != "Temporal"]
    with pytest.raises(KeyError, match="True"):
        cinepile_aggregate_results(missing_temporal)
    one_line = [{**r, "question_category": label(r["question_category"])} for r in hand_results()]
    with pytest.raises(KeyError):
        cinepile_aggregate_results(one_line)
    with pytest.raises(KeyError, match="answered"):
        cinepile_aggregate_results([*hand_results(), result("Temporal", "true", 1)])


# -- a release built from scenes through the refinement tables ----------------------------------

WRITER = model_entry("question", "offline", "offline:grounded-scene-reader", "cinepile_question@1", "w", "f")
BLIND = model_entry("blind_answer", "offline", "offline:text-only-baselines", "cinepile_blind_answer@1", "b", "f")
CONTEXT = model_entry("context_answer", "offline", "offline:scene-text-reader", "cinepile_context_answer@1", "c", "f")
# v0 falls in the test split at test_share 0.5, v3 in train (a salted hash of the video id)
PLAN = {"v0": ["CRD", "NPA", "STA", "TEMP"], "v3": ["CRD", "NPA", "STA", "TEMP", "TH", "TH"]}


def scenes() -> pl.DataFrame:
    meta = json.dumps({"scenes": [{"sceneId": 1, "timestamps": {"start_timestamp": "00:00:00.000",
                                                                "end_timestamp": "00:00:30.000"},
                                   "mood": {"description": "Calm", "keyMoments": []}}]})
    return scene_rows(pl.DataFrame([{"record_id": f"rec-{v}", "video_id": v, "duration_s": 30.0, "content_metadata": meta,
                                     "subtitles": None, "movie_name": "m", "year": 2021, "genre": ["Drama"],
                                     "video_link": f"https://youtu.be/{v}?x=1", "source": "clip_table"}
                                    for v in PLAN], schema=CLIP_SCHEMA))


def release() -> pl.DataFrame:
    """Scene questions in every category of PLAN, the odd ones lost by the scene-text answerer (hard)."""
    sc = scenes()
    rows, triples = [], []
    for s in sc.iter_rows(named=True):
        for n, code in enumerate(PLAN[s["video_id"]]):
            qid = record_id("question", s["record_id"], "t", n)
            text = f"Question {n} about {s['video_id']}?" + (" lost" if n % 2 else "")
            m = MCQ(question=text, choices=[f"{c} {n}" for c in CHOICES], answer_key_position=n % 5, rationale="r",
                    start_timestamp="00:01", end_timestamp="00:02")
            rows.append({"record_id": qid, "video_record_id": s["video_record_id"], "scene_record_id": s["record_id"],
                         "video_id": s["video_id"], "scene_id": s["scene_id"], "template_id": "t", "kind": "who_says",
                         "category": code, "question_category": label(CATEGORIES[code]),  # an old spelling upstream
                         "question": text, "models": [WRITER]})
            triples.append((qid, m, {"question_id": qid}))
    outcomes = refine(triples, lambda ms: [[Vote((0 - k) % 5, model=BLIND) for k in range(5)] for _ in ms],
                      lambda pairs: [Check("lost" not in m.question, model=CONTEXT) for m, _ in pairs],
                      lambda pairs: [])
    questions = pl.DataFrame(rows)
    return dataset_rows(final_rows(round_rows(outcomes, questions, {}, degenerate_at=3), questions), sc, 0.5)


def test_a_built_release_has_cinepiles_fields_and_lmms_eval_aggregates_it():
    ds = release()
    assert ds.schema == pl.Schema(DATASET_SCHEMA) and ds.height == 10
    assert set(ds["question_category"]) == set(CATEGORIES.values())  # re-spelled from the category code
    assert ds["videoID"].to_list() == ds["video_id"].to_list()
    assert ds["choices"].list.len().to_list() == [5] * 10 and set(ds["hard_split"]) == {"True", "False"}
    assert ds["genre"].to_list()[0] == ["Drama"] and ds["year"].to_list()[0] == 2021
    # v3 alone has Theme Exploration: coverage moves it into the test split beside v0
    assert dict(ds.group_by("video_id").agg(pl.col("split").first()).rows()) == {"v0": "test", "v3": "test"}
    assert sorted(ds["answer_key_position"].value_counts().rows()) == [(k, 2) for k in range(5)]
    assert all(c[p] == k for c, p, k in ds.select("choices", "answer_key_position", "answer_key").iter_rows())
    docs = list(ds.iter_rows(named=True))

    def aggregate(reply) -> dict:
        return cinepile_aggregate_results([cinepile_process_results(d, [reply(d)])["cinepile_accuracy"] for d in docs])

    assert aggregate(lambda d: letter(d["answer_key_position"]))["accuracy"] == 100
    assert aggregate(lambda d: d["answer_key"])["accuracy"] == 100  # the key's text, no letter
    always_a = aggregate(lambda d: "Answer: A")
    assert always_a["accuracy"] == 20.0  # the key takes every slot equally often
    assert lmms_eval_readiness(ds)["scores"] is True
    # without v3 the test split has no Theme Exploration question: lmms-eval could not aggregate it
    ready = lmms_eval_readiness(ds.filter(pl.col("video_id") == "v0"))
    assert ready["scores"] is False and ready["missing_test_categories"] == ["Theme Exploration"]
    assert ready["error"] == "KeyError: 'True'" and ready["test_questions"] == 4
    all_test = ds.with_columns(split=pl.lit("test"))
    assert lmms_eval_readiness(all_test)["scores"] is True
    card = card_data(all_test, scenes().with_columns(kept=pl.lit(True)), pl.DataFrame({"kept": [True]}),
                     pl.DataFrame({"kept": [True], "degenerate_before": [False], "degenerate_at": [3], "status": ["fine"],
                                   "rounds": [0]}), pl.DataFrame({"video_id": ["v0"], "license": ["CC-BY"]}))
    assert "the answer key of the test split (10 questions) scores 100%" in markdown(card)


def test_the_leaderboard_headline_is_lmms_evals_figure_and_lenient_is_beside_it():
    docs = list(release().iter_rows(named=True))
    replies = {0: "{L}", 1: "{L}.", 2: "The answer is ({L}).", 3: "Answer: {L}", 4: "{T}", 5: "I cannot tell"}
    rows = [prediction_row(d, "m", replies[n % 6].format(L=letter(d["answer_key_position"]), T=d["answer_key"]))
            for n, d in enumerate(docs)]
    preds = predictions(rows, [[model_entry("vlm", "openai", "m", "cinepile_vlm_answer@1", "p")]] * len(rows))
    board = {(r["slice"], r["value"]): r for r in leaderboard(preds).iter_rows(named=True)}
    figures = cinepile_aggregate_results([cinepile_process_results(d, [p["reply"]])["cinepile_accuracy"]
                                          for d, p in zip(docs, rows, strict=True)])
    assert board[("overall", "all")]["accuracy"] == round(figures["accuracy"], 2) == 50.0
    for name, acc in figures["categories"].items():
        assert board[("question_category", name)]["accuracy"] == round(acc, 2)
    # replies 0 1 2 3 4 5 0 1 2 3: "B." and "The answer is (B)." count only leniently, the key's text (4)
    # counts in both though lmms-eval reads no letter in it, "I cannot tell" in neither
    overall = board[("overall", "all")]
    assert (overall["correct"], overall["unparseable"]) == (5, 6)
    assert (overall["correct_lenient"], overall["accuracy_lenient"], overall["unparseable_lenient"]) == (9, 90.0, 1)
    assert board[("question_category", CATEGORIES["TH"])]["questions"] == 2
