"""No distractor of a CinePile question is a true answer: the facts checker, the offline writer's
wrong-answer pools, the asset's swap-or-reject step and its audit."""

from __future__ import annotations

import json

import polars as pl
import pytest

from assets.cinepile.facts import also_true, second_true_options, time_reference, true_options
from assets.cinepile.generation import Ungroundable, draft, groundable
from assets.cinepile.mcq import MCQ
from assets.cinepile.pools import scene_dict, video_pool, video_pools
from assets.cinepile.question_assets import settle, true_option_check
from assets.cinepile.scenes import Event, Line, SceneClip, cues_from, mmss, scenes_of

CUT = "hard cut (content detector)"


def clip(lines=(), events=(), start=0.0, end=20.0, scene_id=1, **attrs) -> SceneClip:
    return SceneClip("vid-rec", "vid", scene_id, start, end, lines=[Line(*x) for x in lines],
                     events=[Event(*x) for x in events], **attrs)


def pool_of(*scenes, speakers=("Ada", "Bo", "Cy", "Di"), themes=("Baking", "Cars", "Stars", "Code")):
    return video_pool(list(scenes), list(speakers), list(themes))


def mcq(question, choices, key=0):
    return MCQ(question=question, choices=choices, answer_key_position=key, rationale="r",
               start_timestamp="00:00", end_timestamp="00:01")


# -- the demo defect: an event text that happens at several times ------------------------------------------

DEMO_LINES = [(3.2, 4.8, None, "Look at this."), (9.5, 11.0, None, "Here it comes."),
              (15.1, 16.4, None, "Over there."), (17.2, 18.9, None, "Done.")]
DEMO_CUTS = [(1.0, CUT, "editing"), (6.2, CUT, "editing"), (7.0, CUT, "editing"), (12.4, CUT, "editing"),
             (13.9, CUT, "editing")]
DEMO = clip(lines=DEMO_LINES, events=DEMO_CUTS)
CUT_TIMES = {"00:01", "00:06", "00:07", "00:12", "00:13"}


def test_the_demo_question_has_four_true_distractors():
    q = f"At what time is this seen: {CUT}?"
    choices = ["00:06", "00:01", "00:07", "00:12", "00:13"]
    assert also_true("at_time", q, choices, "00:01", pool_of(DEMO)) == ["00:06", "00:07", "00:12", "00:13"]
    assert true_options("at_time", q, ["00:01", "00:03", "00:09"], "00:01", pool_of(DEMO)) == ["00:01"]


def test_the_writer_leaves_every_other_cut_time_out_of_the_pool():
    pool = pool_of(DEMO)
    d = draft("at_time", DEMO, pool, 4)  # four lines, then the first cut
    assert (d.question, d.key) == (f"At what time is this seen: {CUT}?", "00:01")
    assert not CUT_TIMES & set(d.wrong) and len(d.wrong) == 4  # the lines' times are what is left
    m = d.mcq()
    assert set(m.choices) & CUT_TIMES == {"00:01"} and also_true("at_time", m.question, m.choices, m.answer_key,
                                                                pool) == []


def test_the_asset_swaps_true_distractors_for_wrong_times_or_rejects():
    pool = pool_of(DEMO)
    defect = mcq(f"At what time is this seen: {CUT}?", ["00:01", "00:06", "00:07", "00:12", "00:13"])
    s = settle("at_time", defect, ["00:06", "00:07", "00:12", "00:13"], pool)
    assert s.judged and s.problem is None and s.replaced == ["00:06", "00:07", "00:12", "00:13"]
    assert s.mcq.answer_key == "00:01" and s.mcq.answer_key_position == 0
    assert sorted(s.mcq.choices[1:]) == ["00:03", "00:09", "00:15", "00:17"]  # every non-cut time in the video
    assert also_true("at_time", s.mcq.question, s.mcq.choices, "00:01", pool) == [] and s.pool == s.mcq.choices[1:]
    # with only three wrong times in the video, the question cannot be repaired: it is rejected with a reason
    short = pool_of(clip(lines=DEMO_LINES[:3], events=DEMO_CUTS))
    rejected = settle("at_time", defect, ["00:06", "00:07", "00:12", "00:13"], short)
    assert rejected.problem and "00:06" in rejected.problem and rejected.mcq == defect


# -- speakers, repeated lines, events at one time ---------------------------------------------------------

SAID_TWICE = clip(lines=[(1.0, 4.0, "Maria", "We need more flour."), (5.0, 8.0, "Tom", "Pass the bowl."),
                         (9.0, 12.0, "Tom", "We need more flour!"), (13.0, 16.0, "Ines", "Not again."),
                         (16.5, 19.0, "Omar", "I will go.")])


def test_who_says_a_line_two_speakers_say():
    pool = pool_of(SAID_TWICE)
    q = 'Who says "We need more flour."?'
    assert also_true("who_says", q, ["Maria", "Tom", "Ines", "Omar", "Ada"], "Maria", pool) == ["Tom"]
    d = draft("who_says", SAID_TWICE, pool, 0)
    assert (d.question, d.key) == (q, "Maria") and "Tom" not in d.wrong and len(d.wrong) >= 4


def test_who_says_is_also_judged_for_the_rewriters_time_reference():
    # Ines is still talking at 00:13 when Omar's line starts (13.2 s): "the line at 00:13" is hers too
    scene = clip(lines=[(1.0, 4.0, "Maria", "Hello there."), (5.0, 13.9, "Ines", "It is a long story."),
                        (13.2, 15.0, "Omar", "Tell me."), (16.0, 18.0, "Tom", "Later.")])
    pool = pool_of(scene)
    d = draft("who_says", scene, pool, 2)
    assert d.key == "Omar" and time_reference(d.question, d.quote_time) == "Who says the line at 00:13?"
    assert also_true("who_says", "Who says the line at 00:13?", ["Ines", "Tom"], "Omar", pool) == ["Ines"]
    assert "Ines" not in d.wrong and "Tom" in d.wrong


REPEATED = clip(end=60.0, lines=[(t, t + 3.0, None, text) for t, text in [
    (0, "Hello all."), (5, "Start the oven."), (10, "Weigh the rye."), (15, "Mix it well."),
    (20, "Start the oven."), (25, "Clean the board."), (30, "Shape the loaf."), (35, "Score the top."),
    (40, "Bake it long."), (45, "Let it cool."), (50, "Slice it thin.")]])


def test_said_next_after_a_repeated_line():
    pool = pool_of(REPEATED)
    q = 'What is said right after "Start the oven."?'
    assert also_true("said_next", q, ["Weigh the rye.", "Clean the board.", "Mix it well."], "Weigh the rye.",
                     pool) == ["Clean the board."]
    d = draft("said_next", REPEATED, pool, 1)
    assert (d.question, d.key) == (q, "Weigh the rye.") and "Clean the board." not in d.wrong


def test_said_before_a_repeated_line():
    pool = pool_of(REPEATED)
    d = draft("said_before", REPEATED, pool, 0)  # anchor: the first "Start the oven." (00:05)
    assert (d.question, d.key) == ('Which of these lines is said before "Start the oven."?', "Hello all.")
    # said after 00:05 but before the line's second time (00:20): also true
    assert {"Weigh the rye.", "Mix it well."}.isdisjoint(d.wrong) and "Clean the board." in d.wrong
    assert also_true("said_before", d.question, ["Mix it well.", "Shape the loaf."], "Hello all.", pool) == [
        "Mix it well."]


def test_seen_at_two_events_at_one_time_and_one_event_at_two_times():
    scene = clip(events=[(5.0, "Tom lifts a bag of flour", "activity"), (5.4, "A dog barks", "activity"),
                         (9.0, "A dog barks", "activity"), (11.0, "A timer rings", "activity"),
                         (14.0, "Steam rises", "activity"), (17.0, "Maria waves", "activity"),
                         (18.0, "The lights dim", "activity")])
    pool = pool_of(scene)
    assert also_true("seen_at", "What is seen at 00:05?", ["Tom lifts a bag of flour", "A dog barks",
                                                           "Steam rises"], "Tom lifts a bag of flour", pool) == [
        "A dog barks"]
    d = draft("seen_at", scene, pool, 0)
    assert d.key == "Tom lifts a bag of flour" and "A dog barks" not in d.wrong  # its 00:09 time is no excuse


def test_said_at_counts_a_line_still_being_said():
    scene = clip(lines=[(20.02, 27.26, "Ines", "Add the rose."), (27.58, 35.2, None, "The blue goes on top."),
                        (36.0, 38.0, None, "Tilt it."), (39.0, 41.0, None, "Let it dry."), (42.0, 44.0, None, "Mix."),
                        (45.0, 47.0, None, "Paint the hills.")], start=20.0, end=48.0)
    pool = pool_of(scene)
    q = "What does someone say at 00:27?"
    assert also_true("said_at", q, ["The blue goes on top.", "Add the rose.", "Tilt it."], "The blue goes on top.",
                     pool) == ["Add the rose."]
    assert also_true("said_at", "What does Ines say at 00:28?", ["Add the rose."], "x", pool) == []


def test_who_first_only_the_first_speaker_or_one_at_the_same_second():
    scene = clip(lines=[(1.2, 3.0, "Maria", "Hi."), (1.7, 3.0, "Tom", "Hey."), (5.0, 7.0, "Ines", "Morning.")])
    pool = pool_of(scene)
    q = "Who speaks first in the scene from 00:00 to 00:20?"
    assert true_options("who_first", q, ["Maria", "Tom", "Ines", "Ada"], "Maria", pool) == ["Maria", "Tom"]


def test_the_checker_knows_every_kind_the_writer_asks():
    from assets.cinepile import facts, generation

    assert set(facts.KINDS) == set(generation.KINDS)


def test_closed_sets_only_the_key():
    assert also_true("mood", "What is the mood?", ["Calm", "calm.", "Tense"], "Calm", pool_of(DEMO)) == ["calm."]
    assert true_options("theme", "What is it about?", ["Baking", "Cars"], "Baking", pool_of(DEMO)) == ["Baking"]


# -- questions a model wrote ------------------------------------------------------------------------------


def test_llm_worded_questions_are_parsed_from_their_text():
    pool = pool_of(SAID_TWICE)
    # curly quotes, a fragment of the line, times written as m:ss and h:mm:ss
    assert also_true("at_time", "When does somebody say “need more flour”?", ["0:01", "00:00:09", "0:05"], "0:01",
                     pool) == ["00:00:09"]
    assert also_true("who_says", "Which character says “We need more flour”?", ["Maria", "Tom", "Ines"], "Maria",
                     pool) == ["Tom"]
    assert also_true("said_at", "What does Tom say at 0:09?", ["We need more flour", "Pass the bowl."],
                     "Pass the bowl.", pool) == ["We need more flour"]
    assert also_true("said_at", "What does Maria say at 0:09?", ["We need more flour"], "x", pool) == []
    # nothing to anchor on, or an anchor the video never has: cannot be judged
    assert also_true("at_time", "When does the mood change?", ["00:01", "00:05"], "00:01", pool) is None
    assert also_true("who_says", 'Who says "Good night."?', ["Maria", "Tom"], "Maria", pool) is None
    with pytest.raises(ValueError, match="unknown question kind"):
        also_true("colour", "What colour?", ["red"], "red", pool)


def test_an_llm_question_gets_same_type_replacements_from_the_video():
    pool = pool_of(SAID_TWICE)
    written = mcq('Who says "We need more flour."?', ["Maria", "Tom", "Ines", "Omar", "Zed"])
    s = settle("who_says", written, ["Tom", "Ines", "Omar", "Zed"], pool)  # its own distractors
    # the untaken video and corpus speakers are Ada, Bo, Cy, Di: Ada is closest in length to Maria
    assert s.replaced == ["Tom"] and s.mcq.choices[1] == "Ada"
    assert s.pool == ["Ines", "Omar", "Zed", "Ada"] and also_true("who_says", s.mcq.question, s.mcq.choices, "Maria",
                                                                 pool) == []
    unread = mcq("How does Tom feel?", ["Happy", "Sad", "Calm", "Tense", "Bored"])
    assert not settle("who_says", unread, ["Sad"], pool).judged


# -- the audit and the asset check ------------------------------------------------------------------------


def question_rows(ms, video="vid-rec", kind="at_time"):
    return [{"record_id": f"q{i}", "video_record_id": video, "kind": kind, "question": m.question,
             "choices": m.choices, "answer_key": m.answer_key, "kept": True} for i, m in enumerate(ms)]


def test_the_audit_names_the_questions_and_the_check_fails_on_them():
    pools = {"vid-rec": pool_of(DEMO)}
    bad = mcq(f"At what time is this seen: {CUT}?", ["00:01", "00:06", "00:03", "00:09", "00:15"])
    good = mcq(f"At what time is this seen: {CUT}?", ["00:01", "00:17", "00:03", "00:09", "00:15"])
    rows = question_rows([good, bad])
    assert second_true_options(rows, pools) == ["q1"]
    assert second_true_options([{**rows[0], "choices": None}], pools) == []
    # a stored pool holding a true option would let a rewrite bring it back
    assert second_true_options([{**rows[0], "distractor_pool": ["00:03", "00:07"]}], pools) == ["q0"]
    with pytest.raises(ValueError, match="no facts for video"):
        second_true_options(rows, {})
    schema = {"record_id": pl.String, "video_record_id": pl.String, "kind": pl.String, "question": pl.String,
              "choices": pl.List(pl.String), "answer_key": pl.String, "kept": pl.Boolean}
    df = pl.DataFrame(rows, schema=schema)
    failed = true_option_check(df, pools)
    assert not failed.passed and failed.metadata["with_second_true_option"].value == 1
    assert true_option_check(df.with_columns(kept=pl.Series([True, False])), pools).passed


# -- end to end: every question the writer drafts on a scene set with repeats -------------------------------

VTT = "WEBVTT\n\n" + "\n".join(f"00:00:{a:02d}.000 --> 00:00:{b:02d}.000\n{text}\n" for a, b, text in [
    (1, 4, "Maria: Welcome back to the kitchen."), (5, 8, "Tom: We need more flour."),
    (9, 12, "Maria: First weigh the flour carefully."), (13, 16, "Maria: We need more flour."),
    (21, 24, "Tom: Now the dough rests for an hour."), (25, 28, "Maria: Welcome back to the kitchen."),
    (29, 32, "Tom: Score the top with one cut."), (34, 36, "Maria: Bake it until it sounds hollow."),
    (41, 44, "Tom: Let it cool before slicing."), (45, 48, "Maria: First weigh the flour carefully."),
    (49, 52, "Tom: That is our loaf for today."), (53, 56, "Ines: Thanks for watching.")])


def aligned_scene(i, a, b, events):
    kinds = {"activity": ("activities", "timestamp", "start_timestamp"),
             "editing": ("videoEditingDetails", "timestamps", "start_timestamp")}
    out = {"sceneId": i, "title": f"s{i}", "timestamps": {"start_timestamp": a, "end_timestamp": b}, "props": [],
           "activities": [], "videoEditingDetails": [], "mood": {"description": "Calm", "keyMoments": []},
           "thematicElements": "Food > Baking", "dynamismScore": 0.5, "audioVisualCorrelation": 0.9}
    for t, text, source in events:
        field, stamp, start = kinds[source]
        out[field].append({"description": text, stamp: {start: t}})
    return out


@pytest.fixture(scope="module")
def scene_set():
    meta = json.dumps({"scenes": [
        aligned_scene(1, "00:00:00.000", "00:00:20.000", [
            ("00:00:01", CUT, "editing"), ("00:00:06", CUT, "editing"), ("00:00:07", CUT, "editing"),
            ("00:00:12", CUT, "editing"), ("00:00:13", CUT, "editing"), ("00:00:06", "Tom lifts a bag of flour",
                                                                         "activity"),
            ("00:00:06", "Maria opens the oven", "activity"), ("00:00:10", "A timer rings", "activity")]),
        aligned_scene(2, "00:00:20.040", "00:00:40.000", [
            ("00:00:22", CUT, "editing"), ("00:00:30", "Steam rises from the bread", "activity"),
            ("00:00:35", "Maria opens the oven", "activity")]),
        aligned_scene(3, "00:00:40.040", "00:01:00.000", [
            ("00:00:47", CUT, "editing"), ("00:00:50", "Tom slices the loaf", "activity")])]})
    return scenes_of("vid-rec", "vid", meta, 60.0, cues_from(VTT))


def test_no_drafted_question_offers_a_second_true_answer(scene_set):
    pool = pool_of(*scene_set)
    rows, ambiguous = [], 0
    for scene in scene_set:
        for kind in groundable(scene, pool):
            for variant in range(len(scene.lines) + len(scene.events)):
                try:
                    m = draft(kind, scene, pool, variant).mcq()
                except Ungroundable:
                    continue
                rows.append({"record_id": f"{scene.scene_id}/{kind}/{variant}", "video_record_id": "vid-rec",
                             "kind": kind, "question": m.question, "choices": m.choices, "answer_key": m.answer_key})
                # the facts agree with the writer's key, so the checker reads the writer's wording
                assert m.answer_key in true_options(kind, m.question, m.choices, m.answer_key, pool), rows[-1]
                if kind == "at_time" and CUT in m.question:
                    cut_times = {mmss(e[0]) for e in pool["events"] if e[1] == CUT}
                    ambiguous += len(cut_times) > 1
    timed = [r for r in rows if r["kind"] in ("at_time", "said_at", "seen_at", "who_says", "who_first",
                                              "said_next", "said_before")]
    assert len(timed) >= 60 and ambiguous >= 5 and {r["kind"] for r in timed} == {
        "at_time", "said_at", "seen_at", "who_says", "who_first", "said_next", "said_before"}
    assert second_true_options(rows, {"vid-rec": pool}) == []


def test_video_pools_are_rebuilt_from_the_scenes_table(scene_set):
    table = pl.DataFrame({"record_id": [f"s{c.scene_id}" for c in scene_set], "video_record_id": ["vid-rec"] * 3,
                          "scene_id": [c.scene_id for c in scene_set],
                          "scene": [json.dumps(scene_dict(c)) for c in scene_set],
                          "speakers": [sorted({ln.speaker for ln in c.lines if ln.speaker}) for c in scene_set],
                          "kept": [True, True, False]})
    pools = video_pools(table)
    assert list(pools) == ["vid-rec"] and {x[4] for x in pools["vid-rec"]["lines"]} == {1, 2}
    said_twice = {"record_id": "q", "video_record_id": "vid-rec", "kind": "who_says", "answer_key": "Tom",
                  "question": 'Who says "We need more flour."?', "choices": ["Tom", "Maria", "Ada", "Bo", "Cy"]}
    assert second_true_options([said_twice], table) == ["q"]  # the audit also takes the scenes table
