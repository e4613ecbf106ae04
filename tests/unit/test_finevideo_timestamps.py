import pytest

from assets.finevideo.timestamps import TimestampError, format_timestamp, parse_range, parse_timestamp


@pytest.mark.parametrize("text, seconds", [
    ("01:23", 83.0),              # mm:ss
    ("1:23", 83.0),
    ("75:10", 4510.0),            # minutes past the hour in mm:ss
    ("1:02:03", 3723.0),          # hh:mm:ss
    ("00:01:23.400", 83.4),       # the aligned release's frame timecode
    ("0:05,5", 5.5),              # comma decimal
    ("83s", 83.0),                # Ns
    ("83.5 s", 83.5),
    ("12 seconds", 12.0),
    ("42", 42.0),                 # bare seconds
    ("~01:23", 83.0),             # approximate
    ("~ 83s", 83.0),
    ("around 1:23", 83.0),
    ("approximately 00:05", 5.0),
    ("about 0:07", 7.0),
    ("01:23-01:30", 83.0),        # a range gives its start
    ("01:23 – 01:30", 83.0),
    ("end", 100.0),               # the end of the video (or scene)
    ("End of the video", 100.0),
])
def test_every_written_form_reads_as_seconds(text, seconds):
    assert parse_timestamp(text, end_s=100.0) == pytest.approx(seconds)


@pytest.mark.parametrize("text", [None, "", "n/a", "N/A", "none", "throughout the scene", "Throughout",
                                  "varies", "not applicable", "scene 3", "-"])
def test_no_particular_time_is_none(text):
    assert parse_timestamp(text, end_s=100.0) is None
    assert parse_range(text, end_s=100.0) == (None, None)


@pytest.mark.parametrize("text, expected", [
    ("01:23-01:30", (83.0, 90.0)),
    ("12s to 15s", (12.0, 15.0)),
    ("around 00:10 until around 00:20", (10.0, 20.0)),
    ("01:23 - end", (83.0, 100.0)),
    ("00:07", (7.0, 7.0)),
])
def test_ranges_give_both_ends(text, expected):
    assert parse_range(text, end_s=100.0) == expected


@pytest.mark.parametrize("text, message", [
    ("soon", "unreadable"),
    ("1:75", "60 or more"),
    ("1:61:00", "60 or more"),
    ("abc-def", "unreadable"),
])
def test_unreadable_text_is_an_error_naming_it(text, message):
    with pytest.raises(TimestampError, match=message):
        parse_timestamp(text, end_s=100.0)


def test_end_needs_a_known_end():
    with pytest.raises(TimestampError, match="no end time"):
        parse_timestamp("end")


def test_format_is_a_frame_timecode_that_parses_back():
    assert format_timestamp(83.4) == "00:01:23.400"
    assert format_timestamp(3723.0004) == "01:02:03.000"
    assert format_timestamp(-1) == "00:00:00.000"
    assert parse_timestamp(format_timestamp(4510.25)) == 4510.25
