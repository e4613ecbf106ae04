"""The CinePile card states the numbers of the tables it is built from."""

import json

import polars as pl

from assets.cinepile.dataset_card import card_data, markdown


def test_card_counts_come_from_the_tables():
    release = pl.DataFrame({
        "video_id": ["a", "a", "b"], "scene_record_id": ["a:1", "a:2", "b:1"], "split": ["train", "train", "test"],
        "question_category": ["Temporal", "Temporal", "Theme Exploration"], "hard_split": ["False", "True", "False"],
        "visual_reliance": ["0", "1", "0"], "backend": ["offline"] * 3, "model": ["m"] * 3, "task_version": ["1"] * 3,
    })
    scenes = pl.DataFrame({"kept": [True, True, True, False], "start_s": [0.0, 60.0, 0.0, 0.0],
                           "end_s": [60.0, 120.0, 1800.0, 5.0]})
    generated = pl.DataFrame({"kept": [True, True, True, True, False]})
    refined = pl.DataFrame({"kept": [True, True, True, False], "blind_correct_before": [0, 3, 4, 5],
                            "status": ["fine", "fixed", "fixed", "still_degenerate"]})
    licences = pl.DataFrame({"video_id": ["a", "b"], "license": ["CC-BY", None]})
    c = json.loads(json.dumps(card_data(release, scenes, generated, refined, licences)))
    assert (c["questions"], c["videos"], c["scenes"], c["scene_hours"]) == (3, 2, 3, 0.5333)
    assert c["refinement"]["degenerate_before"] == 3 and c["refinement"]["fixed_share"] == round(2 / 3, 4)
    assert c["funnel"][1] == {"stage": "scene_questions", "inputs": 5, "kept": 4}
    assert c["licences"] == [{"license": "(unknown)", "videos": 1}, {"license": "CC-BY", "videos": 1}]
    text = markdown(c)
    assert "3 multiple-choice questions" in text and "| still_degenerate | 1 |" in text and "## Known limitations" in text
