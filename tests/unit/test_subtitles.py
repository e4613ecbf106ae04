"""Subtitle files as users bring them: encodings, line endings, WebVTT's blocks and tags, SubRip's
quirks, malformed cues; every input is written here, small."""

import codecs

import pytest

from assets.finevideo.subtitles import decode, parse_subtitles, read_subtitles, speech_cues

VTT = """WEBVTT

00:00:01.000 --> 00:00:02.500
First line.

00:00:03.000 --> 00:00:04.000
Second line.
"""
SRT = """1
00:00:01,000 --> 00:00:02,500
First line.

2
00:00:03,000 --> 00:00:04,000
Second line.
"""


def texts(sub):
    return [(c.start, c.end, c.text) for c in sub.cues]


EXPECTED = [(1.0, 2.5, "First line."), (3.0, 4.0, "Second line.")]


@pytest.mark.parametrize("source", [VTT, SRT], ids=["vtt", "srt"])
@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE), ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-16-le", b""),
])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_every_encoding_and_line_ending_reads_the_same_cues(source, encoding, bom, newline):
    data = bom + source.replace("\n", newline).encode(encoding)
    sub = read_subtitles(data)
    assert texts(sub) == EXPECTED and sub.malformed == 0
    assert sub.format == ("vtt" if source is VTT else "srt")


def test_decoding_names_the_encoding_and_falls_back_to_cp1252():
    assert decode(codecs.BOM_UTF16_BE + "WEBVTT\r\n".encode("utf-16-be")) == ("WEBVTT\n", "utf-16-be")
    text, encoding = decode("1\n00:00:01,000 --> 00:00:02,000\nCafé crème\n".encode("cp1252"))
    assert encoding == "cp1252" and "Café crème" in text
    assert read_subtitles("1\n00:00:01,000 --> 00:00:02,000\nCafé\n".encode("cp1252")).cues[0].text == "Café"


def test_a_timing_line_without_a_blank_line_before_it_starts_a_new_cue():
    # YouTube auto-captions as some tools write them: no blank line between cues
    data = ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello there\n00:00:01.000 --> 00:00:02.000\n"
            "general kenobi\n00:00:02.000 --> 00:00:03.000\nyou are\n00:00:03.000 --> 00:00:04.000\na bold one\n")
    sub = read_subtitles(data)
    assert [c.text for c in sub.cues] == ["hello there", "general kenobi", "you are", "a bold one"]
    assert [c.start for c in sub.cues] == [0.0, 1.0, 2.0, 3.0]
    # SubRip without blank lines between numbered cues
    srt = "1\n00:00:00,000 --> 00:00:01,000\nhello\n2\n00:00:01,000 --> 00:00:02,000\nthere\n"
    assert [c.text for c in read_subtitles(srt).cues] == ["hello", "there"]


def test_note_style_and_region_blocks_are_not_cues_and_settings_stay_out_of_the_text():
    data = """WEBVTT - a header text
Kind: captions

REGION
id:fred
width:40%

STYLE
::cue { color: yellow }

NOTE a comment
that spans two lines

intro
00:00:01.000 --> 00:00:02.000 region:fred align:start position:10%,line-left size:35% line:0
Hello.

NOTE between cues

00:02.000 --> 00:03.000 vertical:rl
Short timings.
"""
    sub = read_subtitles(data)
    assert [(c.identifier, c.start, c.end, c.text) for c in sub.cues] == [
        ("intro", 1.0, 2.0, "Hello."), ("", 2.0, 3.0, "Short timings.")]
    assert sub.malformed == 0


def test_inline_tags_are_markup_not_text():
    data = ("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v.loud Maria>We need <c.colorE5E5E5>500</c> "
            "<00:00:02.000><i>grams</i> &amp; more</v>\n")
    (cue,) = read_subtitles(data).cues
    assert cue.text == "We need 500 grams & more"
    assert cue.raw.startswith("<v.loud Maria>We need <c.colorE5E5E5>")
    srt = ("1\n00:00:01,000 --> 00:00:02,000\n{\\an8}<i>Top</i> <font color=\"#fff\">line</font> {\\i1}here\n\n"
           "2\n00:00:03,000 --> 00:00:04,000\nThis { \\an2} stays, x < y\n")
    assert [c.text for c in read_subtitles(srt).cues] == ["Top line here", "This { \\an2} stays, x < y"]


def test_subrip_numbering_from_zero_odd_field_widths_and_dots():
    srt = ("0\n00:00:00,000 --> 00:00:01,000\nZero.\n\n1\n00:00:5,000 --> 00:00:6,500\nShort fields.\n\n"
           "2\n00:00:013,567 --> 00:00:14,901\nThree-digit seconds.\n\n3\n00:00:15.000 --> 00:00:16.000  X1:10 X2:20\n"
           "Dots and coordinates.\n")
    sub = read_subtitles(srt)
    assert [(c.start, c.end, c.text) for c in sub.cues] == [
        (0.0, 1.0, "Zero."), (5.0, 6.5, "Short fields."), (13.567, 14.901, "Three-digit seconds."),
        (15.0, 16.0, "Dots and coordinates.")]
    assert [c.identifier for c in sub.cues] == ["0", "1", "2", "3"]


def test_malformed_cues_are_skipped_and_counted_never_fatal():
    srt = ("1\n00:00:00,000 --> 00:00:01,234\nFirst.\n\n2\nNo timing line.\nSecond line.\n\n"
           "3\n02:00:04,567 --> 02:00:08,901\nThird.\n\n4\n             --> 02:00:10,901\nNo start.\n\n"
           "5\n02:00:12,901 -->\nNo end.\n")
    sub = read_subtitles(srt)
    assert [(c.start, c.text) for c in sub.cues] == [(0.0, "First."), (7204.567, "Third.")]
    assert sub.malformed == 3
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nGood.\n\n00:00:99.000 --> 00:01:00.000\nBad seconds.\n"
    sub = read_subtitles(vtt)
    assert [c.text for c in sub.cues] == ["Good."] and sub.malformed == 1
    for junk in (b"", b"\x00\xff\x13garbage", b"no cues here", b"WEBVTT\n\n--> -->\n"):
        assert read_subtitles(junk).cues == ()


def test_an_index_a_blank_line_then_its_timing_is_one_cue():
    srt = "1\n\n00:00:01,000 --> 00:00:02,000\nSpaced out.\n"
    sub = read_subtitles(srt)
    assert [c.text for c in sub.cues] == ["Spaced out."] and sub.malformed == 0


def test_webvtt_cues_without_the_header_are_still_read():
    assert [c.text for c in read_subtitles("00:01.000 --> 00:02.000\nNo header.\n").cues] == ["No header."]


def test_speech_drops_empty_zero_length_and_rolling_repeats():
    data = """WEBVTT

00:00:00.000 --> 00:00:02.000 align:start position:0%
 
hey<00:00:00.500><c> guys</c>

00:00:02.000 --> 00:00:02.010 align:start position:0%
hey guys
 

00:00:02.010 --> 00:00:04.000 align:start position:0%
hey guys
welcome<00:00:02.500><c> back</c>

00:00:05.000 --> 00:00:05.000
zero length
"""
    cues = parse_subtitles(data)
    assert [(c.start, c.end, c.text) for c in cues] == [(0.0, 2.0, "hey guys"), (2.01, 4.0, "welcome back")]


def test_file_cues_keep_what_the_published_parsers_keep():
    sub = read_subtitles("WEBVTT\n\n00:00:01.000 --> 00:00:01.000\nzero length\n")
    assert len(sub.cues) == 1  # the file has it (webvtt-py, vtt.js count it) ...
    assert speech_cues(sub) == []  # ... the annotators hear nothing
