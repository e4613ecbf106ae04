"""Subtitles held to the video: cues past the end clipped and counted, a file mostly past the end
rejected by a rule on a stored measurement, and validation errors that say what went wrong."""

import json

import pytest
from pydantic import ValidationError

from assets.cinepile.scenes import scenes_of, subtitles_text
from assets.finevideo.annotation_schema import Schema
from assets.finevideo.grounded_annotation import VideoSignals, annotate
from assets.finevideo.subtitles import (
    SubtitleRules,
    clip_cues,
    cue_timing,
    parse_subtitles,
    read_subtitles,
    subtitle_measures,
    subtitle_problem,
)
from assets.kit.errors import Problems, describe_error, describe_validation
from assets.kit.task import Task
from resources.llm import LLMResource
from tests.fakes.word_vectors import encode


def vtt(*cues: tuple[float, float, str]) -> str:
    def ts(t: float) -> str:
        return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:06.3f}"
    return "WEBVTT\n\n" + "\n\n".join(f"{ts(a)} --> {ts(b)}\n{text}" for a, b, text in cues) + "\n"


# a 24 s clip whose subtitles run on: the last cue crosses the end, one starts after it
RIGHT = vtt((1, 4, "Maria: We need 500 grams of flour."), (10, 14, "Tom: Bake it for 20 minutes."),
            (22, 26, "Maria: Wait 5 more minutes."), (25, 27, "Tom: Then 3 more."))
# the subtitles of a two-minute video given to the 24 s clip
WRONG = vtt(*[(float(t), t + 8.0, f"Line {t // 10}.") for t in range(0, 120, 10)])


def test_cues_past_the_end_are_clipped_and_counted():
    cues = parse_subtitles(RIGHT)
    clipped = clip_cues(cues, 24.0)
    assert [(c.start, c.end, c.speaker) for c in clipped] == [(1.0, 4.0, "Maria"), (10.0, 14.0, "Tom"),
                                                               (22.0, 24.0, "Maria")]
    t = cue_timing(read_subtitles(RIGHT).cues, 24.0)
    # 13 s of cue time, 4 of them after 24 s: 2 of the 3 s of the last two cues, all 2 s of the last
    assert (t.cues, t.clipped, t.last_end_s) == (4, 2, 27.0) and t.beyond_end == pytest.approx(4 / 13, abs=1e-4)


def test_a_file_mostly_after_the_end_is_a_subtitle_mismatch():
    rules = SubtitleRules()
    assert rules.describe() == "subtitle_mismatch: keep if subtitle_beyond_end <= 0.5"
    right = subtitle_measures(read_subtitles(RIGHT), 24.0)
    assert right == {"subtitle_cues": 4, "cues_malformed": 0, "cues_clipped": 2, "subtitle_beyond_end": 0.3077}
    assert subtitle_problem(right, 24.0) is None
    wrong = subtitle_measures(read_subtitles(WRONG), 24.0)
    # 96 s of cue time, 76 after 24 s (half of the cue at 20-28 s and all nine after it)
    assert wrong["subtitle_beyond_end"] == pytest.approx(76 / 96, abs=1e-4) and wrong["cues_clipped"] == 10
    reason, detail = subtitle_problem(wrong, 24.0)
    assert reason == "subtitle_mismatch"
    assert detail == ("79% of the subtitles' cue time is after the video's end (24.0 s; 10 of 12 cues run past it) "
                      "(keep if subtitle_beyond_end <= 0.5)")
    assert subtitle_problem(wrong, 24.0, SubtitleRules(max_beyond_end=0.9)) is None  # the threshold is config
    # no subtitle file: nothing after the end (the transcript is spread over the video)
    assert subtitle_problem(subtitle_measures(None, 24.0), 24.0) is None


def test_no_question_points_past_the_end_of_the_video():
    v = VideoSignals(title="Bread", duration_s=24.0, cues=clip_cues(parse_subtitles(RIGHT), 24.0), cuts_s=[12.0],
                     motion_per_second=[0.0] * 24)
    s = annotate(v, encode)
    Schema.model_validate(s.model_dump(), context={"duration_s": 24.0})
    asked = " ".join(q.question for q in s.qAndA)
    assert "(at 00:22)" in asked and "(at 00:25)" not in asked and "Then 3 more" not in asked
    assert [q.answer for q in s.qAndA] == ["500", "20", "5", "Maria", "Maria"]  # numbers, then who says


def test_cinepile_scenes_hold_the_dialogue_to_the_video():
    content = json.dumps({"scenes": [{"sceneId": 1, "timestamps": {"start_timestamp": "00:00", "end_timestamp": "00:24"}}]})
    (scene,) = scenes_of("v", "vid", content, 24.0, parse_subtitles(RIGHT))
    assert [(ln.speaker, ln.text, ln.end) for ln in scene.lines][-1] == ("Maria", "Wait 5 more minutes.", 24.0)
    assert "Then 3 more" not in subtitles_text(scene)


def annotation(end: str, climax: str, trim: str) -> dict:
    scene = {"sceneId": 1, "title": "all", "timestamps": {"start_timestamp": "00:00", "end_timestamp": end},
             "mood": {"description": "Calm", "keyMoments": []}, "dynamismScore": 0.5, "audioVisualCorrelation": 0.5}
    return {"title": "t", "description": "d", "scenes": [scene],
            "storylines": {"description": "", "scenes": [1], "climax": {"description": "", "timestamp": climax}},
            "trimmingSuggestions": [{"timestamps": {"start_timestamp": trim, "end_timestamp": trim},
                                     "description": "x"}]}


def test_a_validation_error_keeps_its_first_message_whole_and_counts_every_problem():
    with pytest.raises(ValidationError) as e:
        Schema.model_validate(annotation("00:06:16.942", "00:05:00", "00:04:00"), context={"duration_s": 122.6})
    # the scene's end, the climax, the trimming suggestion's start and its end: four problems
    assert describe_error(e.value) == ("ValidationError: 4 validation errors; first: scene 1 end: '00:06:16.942' "
                                       "is after the video's end (122.6 s)")
    with pytest.raises(ValidationError) as e:  # field errors say where they are
        Schema.model_validate({"title": "t", "description": "d", "scenes": [{"sceneId": 1}]})
    first = describe_validation(e.value)
    assert first.startswith(f"{e.value.error_count()} validation errors; first: scenes.0.") and "Field required" in first
    assert describe_error(RuntimeError("a\nb")) == "RuntimeError: a"
    wrapped = RuntimeError("retries exhausted")
    wrapped.__cause__ = e.value
    assert describe_error(wrapped).startswith("ValidationError: ")  # a retry wrapper's cause is what went wrong
    assert str(Problems([f"p{i}" for i in range(7)])) == "p0; p1; p2; p3; p4 (and 2 more)"


class TooLong(Task):
    """An offline answer that runs past the video: the row's error is the validator's message."""

    name = "too_long_annotation"
    version = "1"
    response_model = Schema
    offline_model = "fixed"

    def messages(self, item):
        return [{"role": "user", "content": "annotate"}]

    def offline(self, item):
        return Schema.model_validate(annotation("00:06:16.942", "00:01:00", "00:01:00"))

    def validation_context(self, item):
        return {"duration_s": item["duration_s"]}


def test_a_failed_annotation_row_says_why():
    (result,) = LLMResource().run(TooLong(), [{"duration_s": 122.6}]).results
    assert result.error == ("ValidationError: 1 validation error; first: scene 1 end: '00:06:16.942' is after "
                            "the video's end (122.6 s)")


def test_annotation_rules_judge_duration_first_then_the_subtitles():
    from assets.finevideo.annotation_rules import AnnotationRules, annotation_problem
    from assets.kit.screening import evaluate

    fine = {"subtitle_beyond_end": 0.0, "cues_clipped": 0, "subtitle_cues": 3}
    assert annotation_problem(fine, 660.0, AnnotationRules())[0] == "too_long"
    assert annotation_problem(fine, 660.0, AnnotationRules(max_minutes=12)) is None  # a run-config change
    wrong = {**fine, "subtitle_beyond_end": 0.9}
    assert annotation_problem(wrong, 60.0, AnnotationRules())[0] == "subtitle_mismatch"
    verdicts = evaluate({"duration_s": 660.0, "subtitle_beyond_end": 0.9}, AnnotationRules().rules())
    assert [v for _, v, _ in verdicts] == ["FAIL", "not evaluated"]
    assert "duration_s <= 600" in AnnotationRules().describe()
