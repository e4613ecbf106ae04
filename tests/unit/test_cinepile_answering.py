"""CinePile answering: rotation arithmetic, lmms-eval's reply parser, the offline answerers and
what their answers' identity depends on."""

from __future__ import annotations

import numpy as np
import pytest

from assets.cinepile.answering import BlindAnswerTask, BlindParams, blind_pick, read_scene
from assets.cinepile.replies import format_options, parse_reply, rotate, rotated_key, score_reply
from tests.fakes.word_vectors import encode

MARGIN = BlindParams().blind_margin

CHOICES = ["a", "b", "c", "d", "e"]


def test_rotation_k_is_the_last_k_choices_first():
    assert rotate(CHOICES, 0) == CHOICES
    assert rotate(CHOICES, 1) == ["e", "a", "b", "c", "d"]
    assert rotate(CHOICES, 2) == ["d", "e", "a", "b", "c"]
    assert rotate(CHOICES, 4) == ["b", "c", "d", "e", "a"]
    assert rotate(CHOICES, 5) == CHOICES


@pytest.mark.parametrize("position", range(5))
def test_the_key_visits_every_slot_once_and_maps_back(position):
    slots = []
    for k in range(5):
        shown = rotate(CHOICES, k)
        slot = rotated_key(position, k)
        assert shown[slot] == CHOICES[position]
        assert (slot - k) % 5 == position  # how a blind vote is mapped back to the original order
        slots.append(slot)
    assert sorted(slots) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("reply, letter, text", [
    ("C", "C", ""),
    ("c", "C", ""),
    ("**B**", "B", ""),
    ("  E \n", "E", ""),
    ("Answer: D", "D", ""),
    ("answer: a", "A", ""),
    ("**Answer:** B) the red car", "B", "the red car"),
    ("Answer: C. Maria", "C", "Maria"),
    ("I think the answer is C", None, "I think the answer is C"),
    ("Answer: (E)", None, "Answer: (E)"),
    ("F", None, "F"),
    ("", None, ""),
    (None, None, ""),
])
def test_parse_reply_like_lmms_eval(reply, letter, text):
    assert parse_reply(reply) == (letter, text)


@pytest.mark.parametrize("reply, correct, parsed", [
    ("B", True, "B"),
    ("Answer: B) Maria", True, "B"),
    ("Answer: B) maria", True, "B"),  # texts compare case-insensitively
    ("Answer: B) Tom", False, "B"),  # right letter, wrong option text
    ("Answer: C", False, "C"),
    ("Answer: B\nRationale: she says it", False, "B"),  # lmms-eval reads the next line as the option text
    ("Maria", True, None),  # no letter: the text must be the key's
    ("Tom", False, None),
    ("no idea", False, None),
])
def test_score_reply(reply, correct, parsed):
    assert score_reply(reply, 1, "Maria") == (correct, parsed)


def test_options_are_laid_out_like_lmms_eval():
    assert format_options("Q?", ["x", "y"]) == "Q?\n- A) x\n- B) y\n"


def test_blind_pick_takes_a_clear_leader_else_the_first_near_tie_in_shown_order():
    assert blind_pick(np.array([0.0, 0.1, MARGIN + 0.2, 0.0, 0.0]), MARGIN) == 2
    assert blind_pick(np.array([0.0, 0.5, 0.6, 0.0, 0.0]), MARGIN) == 0
    assert blind_pick(np.array([-3.0, 0.5, 0.6, 0.0, 0.0]), MARGIN) == 1
    assert blind_pick(np.array([0.0, 0.5, 0.6, 0.0, 0.0]), 0.05) == 2  # a smaller margin: a lead is a cue


def test_the_blind_margin_and_the_encoder_are_part_of_the_answer_identity():
    base = BlindAnswerTask(encode, encoder="word-vectors")
    assert base.offline_model_used() == "text-only-baselines+word-vectors"
    assert base.config()["margin"] == MARGIN
    same = BlindAnswerTask(encode, encoder="word-vectors").identity("offline", "")
    assert base.identity("offline", "") == same
    assert BlindAnswerTask(encode, encoder="word-vectors", margin=0.75).identity("offline", "") != same
    assert BlindAnswerTask(encode, encoder="other-encoder").identity("offline", "") != same


def test_blind_answerer_follows_a_length_and_overlap_cue_in_every_rotation():
    question = "Which line mentions the blue harbour lighthouse at night?"
    key = "The blue harbour lighthouse shines all night over the quiet water"
    choices = [key, "Yes", "No way", "Maybe", "Fine"]
    task = BlindAnswerTask(encode, encoder="word-vectors")
    picks = []
    for k in range(5):
        answer = task.offline_batch([{"question": question, "choices": rotate(choices, k)}])[0]
        picks.append("ABCDE".index(answer.answer) == rotated_key(0, k))
    assert all(picks)


def test_blind_answerer_without_a_cue_is_right_in_exactly_one_rotation():
    question = "What colour is it?"
    choices = ["red", "blue", "teal", "gold", "pink"]  # same length, no overlap, orthogonal vectors
    task = BlindAnswerTask(encode, encoder="word-vectors")
    right = sum("ABCDE".index(task.offline_batch([{"question": question, "choices": rotate(choices, k)}])[0].answer)
                == rotated_key(3, k) for k in range(5))
    assert right == 1


SCENE = """Scene 2 (00:20-00:50)
[00:21-00:25] Maria: The starter should be active and bubbly before you mix.
[00:26-00:30] Tom: Wet your hands so the dough does not stick.
[00:31] (seen) hard cut (content detector)
[00:33-00:38] Maria: Now we shape it into a tight ball.
Mood: Calm
Motion: little motion"""


@pytest.mark.parametrize("question, choices, key", [
    ('Who says "Wet your hands so the dough does not stick."?', ["Lena", "Tom", "Maria", "Sam", "Ada"], 1),
    ("Who says the line at 00:33?", ["Lena", "Tom", "Maria", "Sam", "Ada"], 2),
    ('What is said right after "The starter should be active and bubbly before you mix."?',
     ["Now we shape it into a tight ball.", "Wet your hands so the dough does not stick.", "Bake for an hour.",
      "Preheat the oven to 250 degrees.", "Cool it on a rack."], 1),
    ('Which of these lines is said before "Now we shape it into a tight ball."?',
     ["Bake it at 250 degrees.", "Slice it after an hour.", "Wet your hands so the dough does not stick.",
      "Store the loaf in a bag.", "Score the top once."], 2),
    ('At what time is "Now we shape it into a tight ball." said?', ["00:21", "00:26", "00:31", "00:33", "00:45"], 3),
    ("At what time is this seen: hard cut (content detector)?", ["00:21", "00:26", "00:31", "00:33", "00:45"], 2),
    ("What does Tom say at 00:26?", ["Now we shape it into a tight ball.", "Bake for an hour at 250 degrees.",
                                     "Wet your hands so the dough does not stick.", "Cool it on a rack.",
                                     "Score it once."], 2),
    ("What is the mood of the scene from 00:20 to 00:50?", ["Angry", "Calm", "Proud", "Sad", "Bored"], 1),
    ("How much on-screen motion is there in the scene from 00:20 to 00:50?",
     ["almost no motion", "little motion", "moderate motion", "a lot of motion", "constant motion"], 1),
    ("Who speaks first in the scene from 00:20 to 00:50?", ["Tom", "Maria", "Lena", "Sam", "Ada"], 1),
])
def test_scene_reader_finds_the_answer_in_the_scene_text(question, choices, key):
    chosen, support, _ = read_scene(question, choices, SCENE)
    assert chosen == key, support


def test_scene_reader_gives_no_support_to_options_absent_from_the_scene():
    _, support, found = read_scene('Who says "The oven is hot."?', ["Lena", "Sam", "Ada", "Kim", "Bo"], SCENE)
    assert max(support) == 0 and found == "no option found in the scene"
