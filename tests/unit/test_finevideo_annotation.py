"""The grounded (offline) annotator and its inputs: every field traced to a signal."""

import pytest

from assets.finevideo.annotation_schema import Schema
from assets.finevideo.annotation_tasks import outline, signals
from assets.finevideo.grounded_annotation import (
    VideoSignals,
    annotate,
    cloze,
    covered_fraction,
    dynamism,
    silences,
)
from assets.finevideo.shot_frames import frame_times, scene_spans
from assets.finevideo.subtitles import Cue, estimated_cues, parse_vtt, sentences
from assets.finevideo.timestamps import parse_timestamp
from tests.fakes.word_vectors import encode

VTT = """WEBVTT
Kind: captions
Language: en

00:00:00.600 --> 00:00:03.000 align:start position:0%
Maria: We need <c.colorE5E5E5>500 grams</c> of flour

00:00:03.000 --> 00:00:05.000
and 350 grams of water.

1
00:00:05.000 --> 00:00:05.000
zero-length cues are dropped

00:00:12.000 --> 00:00:16.000
Tom: Bake it for 20 minutes.
Tom: Bake it for 20 minutes.

00:00:16.500 --> 00:00:19.000
I feel so happy and joyful today!
"""


def test_vtt_cues_lose_tags_settings_repeats_and_empty_timings():
    cues = parse_vtt(VTT)
    assert [(c.start, c.end) for c in cues] == [(0.6, 3.0), (3.0, 5.0), (12.0, 16.0), (16.5, 19.0)]
    # the speaker label is the turn's speaker, not part of what is said
    assert (cues[0].speaker, cues[0].text) == ("Maria", "We need 500 grams of flour")
    assert (cues[2].speaker, cues[2].text) == ("Tom", "Bake it for 20 minutes.")
    assert not any(c.estimated for c in cues)


def test_captions_join_into_sentences_and_transcripts_spread_over_the_video():
    joined = sentences(parse_vtt(VTT))
    assert joined[0] == Cue(0.6, 5.0, "We need 500 grams of flour and 350 grams of water.", speaker="Maria", turn=True)
    assert len(joined) == 3
    est = estimated_cues("One two three. Four five six seven eight nine!", 30.0)
    assert [(c.start, c.end) for c in est] == [(0.0, 10.0), (10.0, 30.0)] and all(c.estimated for c in est)


def test_signal_helpers():
    assert scene_spans([0.4, 20.0, 20.5, 59.6], 60.0) == [(0.0, 20.0), (20.0, 60.0)]  # cuts < 1 s apart or from an end
    assert covered_fraction([(0, 5), (3, 8), (20, 30)], 0, 10) == pytest.approx(0.8)
    assert silences([Cue(2, 4, ""), Cue(12, 13, "")], 25.0) == [(4, 12), (13, 25.0)]
    assert dynamism([0.0] * 10, 0, 10) == 0.0
    # one second holding a cut's jump does not make a still scene dynamic
    assert dynamism([0.0, 0.0, 0.5, 0.0, 0.0], 0, 5) == 0.0
    assert dynamism([0.01] * 5, 0, 5) == pytest.approx(0.632, abs=1e-3)
    assert cloze("Bake it for 20 minutes.") == ("Bake it for ___ minutes.", "20")
    assert cloze("No numbers here.") is None


def video(**kw) -> VideoSignals:
    v = dict(title="Bread", duration_s=30.0, cues=parse_vtt(VTT), cuts_s=[10.0], motion_per_second=[0.0] * 10 + [0.02] * 20,
             freeze_intervals=[(0.0, 10.0)], category="Recipe Videos", transcript="We bake. It is good.")
    v.update(kw)
    return VideoSignals(**v)


def test_grounded_annotation_traces_every_field_to_a_signal():
    s = annotate(video(), encode)
    Schema.model_validate(s.model_dump(), context={"duration_s": 30.0})
    assert [(parse_timestamp(x.timestamps.start_timestamp), parse_timestamp(x.timestamps.end_timestamp))
            for x in s.scenes] == [(0.0, 10.0), (10.0, 30.0)]
    first, second = s.scenes
    assert first.cast == ["Maria"] and second.cast == ["Tom"]
    assert [c.name for c in s.characterList] == ["Maria", "Tom"]
    assert first.dynamismScore == 0.0 and second.dynamismScore == pytest.approx(0.865, abs=1e-3)
    # speech covers 4.4 of scene 1's 10 s; 6.5 of scene 2's 20 s
    assert first.audioVisualCorrelation == pytest.approx(0.44) and second.audioVisualCorrelation == pytest.approx(0.325)
    assert second.videoEditingDetails[0].timestamps.start_timestamp == "00:00:10.000" and not first.videoEditingDetails
    assert second.mood.description == "Happy"  # the hashed words of "happy", "joyful" match the mood's text
    assert first.activities == [] and first.props == []  # nothing visual grounds them
    assert [q.answer for q in s.qAndA] == ["500", "20", "Maria", "Tom"]  # numbers first, then who said it
    assert s.qAndA[0].question.endswith('(at 00:00): "We need ___ grams of flour and 350 grams of water."?')
    assert s.trimmingSuggestions[0].description == "7 s without speech on a frozen picture"  # 5-12 s, frozen to 10 s
    assert s.trimmingSuggestions[1].description == "11 s without speech"
    assert s.storylines.scenes == [1, 2] and s.storylines.climax.timestamp == "00:00:10.500"
    assert first.thematicElements == "Recipe Videos"


def test_a_frozen_silence_says_so_and_estimated_cues_give_no_times_in_questions():
    cues = estimated_cues("Mix 300 grams of flour. Wait.", 30.0)
    s = annotate(video(cues=cues, freeze_intervals=[(0.0, 30.0)], cuts_s=[]), encode)
    assert s.qAndA[0].question == 'What number completes what is said in the video: "Mix ___ grams of flour."?'
    assert annotate(video(cues=[Cue(20, 22, "hi")]), encode).trimmingSuggestions[0].description == \
        "20 s without speech on a frozen picture"


def test_without_measured_motion_the_annotation_fails_instead_of_inventing_it():
    with pytest.raises(ValueError, match="no per-second motion"):
        annotate(video(motion_per_second=[]), encode)


def test_task_items_round_trip_and_the_offline_description_is_an_outline():
    item = {"title": "Bread", "duration_s": 30.0, "category": "Lifestyle > Food & Cooking > Recipe Videos",
            "cues": [[0.6, 5.0, "Maria: hi.", False]], "cuts": [10.0], "motion": [0.0] * 30,
            "freezes": [[0.0, 10.0]], "transcript": "hi."}
    v = signals(item)
    assert v.category == "Recipe Videos" and v.cues[0] == Cue(0.6, 5.0, "Maria: hi.")
    assert outline(v).splitlines() == ["Bread (00:30)", "Scene 1, 00:00-00:10, motion 0.00: Maria: hi.",
                                       "Scene 2, 00:10-00:30, motion 0.00: (no speech)"]
    assert frame_times([10.0], 30.0) == [5.0, 20.0]
    assert frame_times([10.0], 95.0) == [5.0, 52.5, 75.0, 92.5]  # windows without a shot middle get one
    assert len(frame_times([float(c) for c in range(5, 600, 5)], 600.0)) == 16
