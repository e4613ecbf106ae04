import copy

import pytest
from pydantic import ValidationError

from assets.finevideo.annotation_schema import MOODS, Schema


def scene(i, start, end, **kw):
    s = {
        "sceneId": i, "title": f"scene {i}", "timestamps": {"start_timestamp": start, "end_timestamp": end},
        "cast": ["Maria"], "activities": [{"description": "kneads", "timestamp": {"start_timestamp": start,
                                                                                  "end_timestamp": end}}],
        "props": [{"name": "bowl", "timestamp": {"start_timestamp": "n/a", "end_timestamp": "n/a"}}],
        "videoEditingDetails": [], "mood": {"description": "Calm", "keyMoments": []},
        "narrativeProgression": [{"description": "starts", "timestamp": start}],
        "characterInteraction": [], "thematicElements": "baking", "contextualRelevance": "",
        "dynamismScore": 0.4, "audioVisualCorrelation": 0.8,
    }
    s.update(kw)
    return s


def annotation(**kw):
    a = {
        "title": "Bread", "description": "a loaf",
        "characterList": [{"characterId": "c1", "name": "Maria", "description": "apron"}],
        "scenes": [scene(1, "00:00", "00:30"), scene(2, "00:30", "end")],
        "storylines": {"description": "one loaf", "scenes": [1, 2],
                       "climax": {"description": "the bake", "timestamp": "00:45"}},
        "qAndA": [{"question": "How much flour?", "answer": "500 g"}],
        "trimmingSuggestions": [{"timestamps": {"start_timestamp": "00:50", "end_timestamp": "00:55"},
                                 "description": "silence"}],
    }
    a.update(kw)
    return a


def validate(a, duration=60.0):
    return Schema.model_validate(a, context={"duration_s": duration})


def errors(a, duration=60.0) -> str:
    with pytest.raises(ValidationError) as e:
        validate(a, duration)
    return str(e.value)


def test_a_sound_annotation_keeps_finevideo_field_names():
    s = validate(annotation())
    dumped = s.model_dump()
    assert list(dumped) == ["title", "description", "characterList", "scenes", "storylines", "qAndA",
                            "trimmingSuggestions"]
    assert list(dumped["scenes"][0]) == [
        "sceneId", "title", "timestamps", "cast", "activities", "props", "videoEditingDetails", "mood",
        "narrativeProgression", "characterInteraction", "thematicElements", "contextualRelevance",
        "dynamismScore", "audioVisualCorrelation"]
    assert dumped["scenes"][0]["timestamps"] == {"start_timestamp": "00:00", "end_timestamp": "00:30"}


def test_timestamps_must_lie_inside_the_video():
    a = annotation(scenes=[scene(1, "00:00", "00:30"), scene(2, "00:30", "01:05")])
    assert "after the video's end" in errors(a)
    a = annotation(scenes=[scene(1, "00:00", "00:30"), scene(2, "00:30", "01:00.8")])
    validate(a)  # within a second of the end: models round
    a = annotation()
    a["scenes"][0]["narrativeProgression"][0]["timestamp"] = "02:00"
    assert "scene 1 narrative moment 1" in errors(a)
    a = annotation()
    a["storylines"]["climax"]["timestamp"] = "5:00"
    assert "climax" in errors(a)


def test_scenes_must_be_ordered_and_not_overlap():
    assert "before the previous scene ends" in errors(annotation(scenes=[scene(1, "00:00", "00:31"),
                                                                         scene(2, "00:30", "end")]))
    assert "before the previous scene ends" in errors(annotation(scenes=[scene(2, "00:30", "end"),
                                                                         scene(1, "00:00", "00:30")]))
    assert "ends (10 s) before it starts (20 s)" in errors(annotation(scenes=[scene(1, "00:20", "00:10")],
                                                                      storylines={"description": "", "scenes": [1],
                                                                                  "climax": {"description": "",
                                                                                             "timestamp": "n/a"}}))
    assert "sceneIds repeat" in errors(annotation(scenes=[scene(1, "00:00", "00:30"), scene(1, "00:30", "end")]))


def test_scene_times_must_be_times_and_every_timestamp_readable():
    assert "is not a time" in errors(annotation(scenes=[scene(1, "n/a", "00:30"), scene(2, "00:30", "end")]))
    a = annotation()
    a["scenes"][1]["activities"][0]["timestamp"]["start_timestamp"] = "when the dough rises"
    assert "unreadable timestamp" in errors(a)


@pytest.mark.parametrize("field", ["dynamismScore", "audioVisualCorrelation"])
@pytest.mark.parametrize("value", [-0.1, 1.01])
def test_scores_are_between_0_and_1(field, value):
    a = annotation()
    a["scenes"][0][field] = value
    assert field in errors(a)


def test_moods_come_from_the_fifteen():
    assert len(MOODS) == 15
    a = annotation()
    a["scenes"][0]["mood"]["description"] = "calm."
    assert validate(a).scenes[0].mood.description == "Calm"
    a["scenes"][0]["mood"]["description"] = ""
    assert validate(a).scenes[0].mood.description == ""
    a["scenes"][0]["mood"]["description"] = "Euphoric"
    assert "is not one of Happy, Excited" in errors(a)


def test_storylines_name_existing_scenes_and_qa_has_at_most_five_pairs():
    a = annotation()
    a["storylines"]["scenes"] = [1, 2, 3]
    assert "do not exist: [3]" in errors(a)
    a = annotation(qAndA=[{"question": f"q{i}", "answer": "a"} for i in range(6)])
    assert "qAndA" in errors(a)
    a = annotation(qAndA=[{"question": "", "answer": "a"}])
    assert "question" in errors(a)


def test_without_a_duration_only_the_shape_and_order_are_checked():
    a = copy.deepcopy(annotation(scenes=[scene(1, "00:00", "09:00"), scene(2, "09:00", "10:00")]))
    assert Schema.model_validate(a).scenes[1].sceneId == 2
    with pytest.raises(ValidationError, match="no end time"):
        Schema.model_validate(annotation())  # "end" cannot be read without the duration
