"""The CinePile card states the numbers of the tables it is built from."""

import json

import polars as pl

from assets.cinepile.categories import CATEGORIES
from assets.cinepile.dataset_card import card_data, markdown
from assets.kit.provenance import model_entry, models_series


def entry(role: str, prompt: str = "p") -> dict[str, str]:
    return model_entry(role, "offline", f"offline:{role}-rules", f"cinepile_{role}@1", prompt, "f")


def test_card_counts_come_from_the_tables():
    release = pl.DataFrame({
        "record_id": ["r1", "r2", "r3"],
        "video_id": ["a", "a", "b"], "scene_record_id": ["a:1", "a:2", "b:1"], "split": ["train", "train", "test"],
        "question_category": [CATEGORIES["TEMP"], CATEGORIES["CRD"], CATEGORIES["TH"]],
        "hard_split": ["False", "True", "False"], "visual_reliance": ["0", "1", "0"],
        "question": ["q1", "q2", "q3"], "answer_key": ["x", "y", "z"], "answer_key_position": [0, 1, 4],
        "models": models_series([[entry("question"), entry("blind_answer", "p1"), entry("blind_answer", "p2")],
                                 [entry("rewrite"), entry("blind_answer")], [entry("question")]]),
    })
    scenes = pl.DataFrame({"kept": [True, True, True, False], "start_s": [0.0, 60.0, 0.0, 0.0],
                           "end_s": [60.0, 120.0, 1800.0, 5.0]})
    generated = pl.DataFrame({"kept": [True, True, True, True, False]})
    refined = pl.DataFrame({"kept": [True, True, True, False], "blind_correct_before": [0, 3, 4, 5],
                            "degenerate_at": [3] * 4, "degenerate_before": [False, True, True, True],
                            "rounds": [0, 2, 1, 5], "status": ["fine", "fixed", "fixed", "still_degenerate"]})
    licences = pl.DataFrame({"video_id": ["a", "b"], "license": ["CC-BY", None]})
    c = json.loads(json.dumps(card_data(release, scenes, generated, refined, licences)))
    assert (c["questions"], c["videos"], c["scenes"], c["scene_hours"]) == (3, 2, 3, 0.5333)
    assert c["refinement"]["degenerate_before"] == 3 and c["refinement"]["fixed_share"] == round(2 / 3, 4)
    assert c["funnel"][1] == {"stage": "scene_questions", "inputs": 5, "kept": 4}
    assert c["licences"] == [{"license": "(unknown)", "videos": 1}, {"license": "CC-BY", "videos": 1}]
    # questions per model of the rows' provenance, a question counted once per role however many calls
    assert {(m["role"], m["questions"]) for m in c["models"]} == {("question", 2), ("blind_answer", 2), ("rewrite", 1)}
    # all five categories, absent ones at zero; lmms-eval cannot aggregate a test split without all five
    assert [(x["question_category"], x["questions"], x["test_questions"]) for x in c["categories"]] == [
        (CATEGORIES["CRD"], 1, 0), (CATEGORIES["NPA"], 0, 0), (CATEGORIES["STA"], 0, 0), (CATEGORIES["TEMP"], 1, 0),
        (CATEGORIES["TH"], 1, 1)]
    assert c["lmms_eval"]["scores"] is False and c["lmms_eval"]["test_questions"] == 1
    assert c["lmms_eval"]["missing_test_categories"] == [
        "Character and Relationship Dynamics", "Narrative and Plot Analysis", "Setting and Technical Analysis",
        "Temporal"]
    text = markdown(c)
    assert "| Character and Relationship Dynamics | 1 | 0 |" in text  # the line break shown as a space
    assert "cannot aggregate this test split of 1 question (its aggregation raises KeyError" in text
    assert "3 multiple-choice questions" in text and "| still_degenerate | 1 |" in text and "## Known limitations" in text
    assert "correct on at least 3 of the 5" in text and "| blind_answer | offline |" in text


def test_the_card_states_the_threshold_the_rows_were_judged_on():
    refined = pl.DataFrame({"kept": [True, False], "blind_correct_before": [4, 4], "degenerate_at": [5, 5],
                            "degenerate_before": [False, False], "rounds": [0, 0], "status": ["fine", "fine"]})
    empty = pl.DataFrame({"record_id": [], "video_id": [], "scene_record_id": [], "models": []},
                         schema={"record_id": pl.String, "video_id": pl.String, "scene_record_id": pl.String,
                                 "models": models_series([]).dtype})
    c = card_data(empty, pl.DataFrame({"kept": [True], "start_s": [0.0], "end_s": [1.0]}),
                  pl.DataFrame({"kept": [True]}), refined, pl.DataFrame({"video_id": ["a"], "license": ["x"]}))
    assert c["refinement"]["degenerate_before"] == 0 and "at least 5 of the 5" in markdown(c)
