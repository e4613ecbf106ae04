"""Speaker turns in every style subtitles use, and sentences that never join two speakers."""

import pytest

from assets.finevideo.speakers import is_name, label, turns
from assets.finevideo.subtitles import Cue, estimated_cues, parse_subtitles, read_subtitles, said, sentences


def who(raw: str, fmt: str = "vtt") -> list[tuple[str | None, str]]:
    return [(t.speaker, t.text) for t in turns(raw, fmt)]


def test_voice_spans_name_their_speakers_and_a_closed_span_ends_the_voice():
    raw = "<v Chris Pearce> Okay, we're good now.</v>\n<v Kyle Huey> Oh, now we're good?</v>\n<i>Laughter</i>"
    assert who(raw) == [("Chris Pearce", "Okay, we're good now."), ("Kyle Huey", "Oh, now we're good?"),
                        (None, "Laughter")]
    assert who("<v.loud.first Neil deGrasse Tyson><i>Laughs</i>") == [("Neil deGrasse Tyson", "Laughs")]
    assert who("<v Esme>Hi</v> there") == [("Esme", "Hi"), (None, "there")]


@pytest.mark.parametrize("raw, expected", [
    ("- Why?\n- Now!", [(None, "Why?"), (None, "Now!")]),
    ("- Why? - Now!", [(None, "Why?"), (None, "Now!")]),  # one line, two turns
    ("—¿Qué? —Nada.", [(None, "¿Qué?"), (None, "Nada.")]),  # Spanish em dashes
    ("Why?\n- Because.", [(None, "Why?"), (None, "Because.")]),  # only the second speaker dashed
    (">> Hello there >> Hi", [(None, "Hello there"), (None, "Hi")]),  # YouTube's speaker change
    ("<i>- Stop!</i>\n<i>- No.</i>", [(None, "Stop!"), (None, "No.")]),  # dashes inside tags
    ("-5 degrees today", [(None, "-5 degrees today")]),  # a minus sign is not a dash turn
    ("It costs 5 - 6 euros", [(None, "It costs 5 - 6 euros")]),  # nor a dash inside a sentence
])
def test_dialogue_dashes_are_turns(raw, expected):
    assert who(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("Maria: We need flour", [("Maria", "We need flour")]),
    ("DR. SMITH: Sit down. - JOHN: No!", [("DR. SMITH", "Sit down."), ("JOHN", "No!")]),
    ("Neil deGrasse Tyson: Hi", [("Neil deGrasse Tyson", "Hi")]),
    ("MAN 2: Over here!", [("MAN 2", "Over here!")]),
    ("- ANA: ¿Vienes?\n- LUIS: Sí.", [("ANA", "¿Vienes?"), ("LUIS", "Sí.")]),
    ("MARIA:\nWe need flour\nand water", [("MARIA", "We need flour\nand water")]),  # a label alone on its line
    ("[Alba] En 1928,", [("Alba", "En 1928,")]),  # an SDH speaker label
    ("Note: preheat the oven", [(None, "Note: preheat the oven")]),
    ("Step 3: mix", [(None, "Step 3: mix")]),
    ('Digo: "Le doy un abrazo"', [(None, 'Digo: "Le doy un abrazo"')]),  # reported speech
    ("At 10:30: we start", [(None, "At 10:30: we start")]),
    ("see http://example.com", [(None, "see http://example.com")]),
    ("[Music] la la", [(None, "[Music] la la")]),  # sounds are not speakers
    ("[ríe] Vale.", [(None, "[ríe] Vale.")]),
    ("we need: flour", [(None, "we need: flour")]),  # lower-case: not a name
])
def test_name_labels_and_what_is_not_one(raw, expected):
    assert who(raw) == expected


def test_name_rules():
    assert is_name("Maria") and is_name("Kyle Huey") and is_name("Speaker #3") and is_name("María José")
    assert not is_name("Warning") and not is_name("the host") and not is_name("One Two Three Four Five")
    assert label("Q: Why?") == ("Q", "Why?", True) and label("A: Because.") == ("A", "Because.", True)
    assert label("Yes: I agree")[0] is None and label("First: preheat")[0] is None


def test_subrip_speakers_come_from_dashes_and_labels_not_html():
    srt = "1\n00:00:01,000 --> 00:00:03,000\n<i>- Ready?</i>\n<i>- TOM: Go!</i>\n"
    (cue,) = read_subtitles(srt).cues
    assert [(t.speaker, t.text, t.marked) for t in cue.turns] == [(None, "Ready?", True), ("TOM", "Go!", True)]
    assert cue.text == "- Ready?\n- TOM: Go!"  # the file's text keeps what is shown


def test_a_cue_of_several_turns_shares_its_time_in_order():
    cues = parse_subtitles("WEBVTT\n\n00:00:10.000 --> 00:00:12.000\n- Why?\n- Go home now.\n")
    # in proportion to their length: 4 and 12 characters
    assert [(c.start, c.end, c.text, c.turn) for c in cues] == [
        (10.0, 10.5, "Why?", True), (10.5, 12.0, "Go home now.", True)]


VTT = """WEBVTT

00:00:01.000 --> 00:00:03.000
- Why? - Now!

00:00:04.000 --> 00:00:06.000
Maria: We need 500 grams

00:00:06.000 --> 00:00:08.000
of flour.

00:00:09.000 --> 00:00:10.000
Tom: Bake it for

00:00:10.000 --> 00:00:11.000
<v Ana>twenty minutes.

00:00:12.000 --> 00:00:13.000
- I will bake

00:00:13.000 --> 00:00:14.000
- You will not

00:00:15.000 --> 00:00:17.000
<v Roger>We are in New York City

00:00:17.000 --> 00:00:19.000
<v Roger>at the museum.

00:00:20.000 --> 00:00:21.000
[Alba] Diez años

00:00:21.000 --> 00:00:22.000
no son nada.
"""


def test_sentences_join_cues_but_never_two_turns():
    joined = sentences(parse_subtitles(VTT))
    assert [(c.speaker, c.text) for c in joined] == [
        (None, "Why?"), (None, "Now!"),  # "- Why? - Now!" is two turns, not one sentence
        ("Maria", "We need 500 grams of flour."),  # an unmarked cue goes on with the sentence
        ("Tom", "Bake it for"), ("Ana", "twenty minutes."),  # another speaker: another turn
        (None, "I will bake"), (None, "You will not"),  # each dash a turn, even unfinished
        ("Roger", "We are in New York City at the museum."),  # the same voice goes on
        ("Alba", "Diez años no son nada."),
    ]
    assert [(c.start, c.end) for c in joined[2:4]] == [(4.0, 8.0), (9.0, 10.0)]


def test_a_finished_sentence_does_not_lend_its_speaker_to_the_next_cue():
    cues = parse_subtitles("WEBVTT\n\n00:01.000 --> 00:02.000\nTom: Done.\n\n00:03.000 --> 00:04.000\nWho knows?\n")
    assert [(c.speaker, c.text) for c in sentences(cues)] == [("Tom", "Done."), (None, "Who knows?")]


def test_transcript_sentences_keep_their_labels_as_speakers():
    cues = estimated_cues("Maria: Welcome back. Today we bake. Tom: Hi there!", 30.0)
    assert [(c.speaker, c.text) for c in cues] == [("Maria", "Welcome back."), (None, "Today we bake."),
                                                   ("Tom", "Hi there!")]
    assert all(c.estimated for c in cues) and cues[-1].end == 30.0


def test_a_transcript_line_shows_the_speaker():
    assert said(Cue(0, 1, "Hi.", speaker="Maria")) == "Maria: Hi." and said(Cue(0, 1, "Hi.")) == "Hi."
