from datetime import timedelta

import polars as pl
import pytest

from assets.finevideo.youtube_commons import (
    SCHEMA,
    ShardError,
    extra_columns,
    missing_columns,
    normalise,
    read_shard,
)
from assets.kit.identity import parse_record_id
from assets.kit.provenance import contract_problems


def test_heterogeneous_shards_map_to_one_schema():
    card_only = pl.DataFrame({"video_id": ["a"], "text": ["one two three"], "word_count": [3],
                              "source_language": ["en"]})
    ytdlp = pl.DataFrame({
        "video_id": ["b"], "language_id_method": ["fasttext"], "view_count": ["1,234"],
        "like_count": [7.0], "tags": ['["cooking", "pasta"]'], "categories": [["Howto"]],
        "uploader_url": ["http://x"],
    })
    a = normalise(card_only, "s1", "s1.parquet", "sha")
    b = normalise(ytdlp, "s2", "s2.parquet", "sha")
    assert a.schema == b.schema
    assert b["view_count"][0] == 1234 and b["like_count"][0] == 7
    assert b["tags"][0].to_list() == ["cooking", "pasta"]
    assert b["categories"][0].to_list() == ["Howto"]
    assert a["view_count"][0] is None and a["source_language"][0] == "en"
    assert extra_columns(ytdlp) == ["uploader_url"]
    assert "source_language" in missing_columns(ytdlp)
    assert set(SCHEMA) <= set(a.columns)


def test_uncastable_values_become_null_with_a_recorded_issue():
    df = normalise(pl.DataFrame({"video_id": ["a", "b"], "view_count": ["12", "lots"]}), "s", "f", "h")
    assert df["view_count"].to_list() == [12, None]
    assert df["normalization_issues"][1].to_list() == ["view_count: 'lots' is not Int64"]


def test_missing_word_count_is_derived_and_flagged():
    df = normalise(pl.DataFrame({"video_id": ["a"], "text": ["  hello   big world "]}), "s", "f", "h")
    assert df["word_count"][0] == 3 and df["character_count"][0] == 20
    assert "word_count: derived from text" in df["normalization_issues"][0].to_list()


def test_non_utf8_bytes_are_decoded_with_replacement():
    df = normalise(pl.DataFrame({"video_id": ["a"], "title": [b"caf\xe9"]}), "s", "f", "h")
    assert df["title"][0] == "caf\ufffd"


def test_record_ids_name_the_landed_row_and_source_keys_the_video():
    raw = pl.DataFrame({"video_id": ["x", "y", "x", None, " ", "a:b"]})
    df = normalise(raw, "shard-1", "s3://b/shard-1.parquet", "abc")
    assert df["record_id"].to_list() == ["yt:shard-1:x:0", "yt:shard-1:y:1", "yt:shard-1:x:2", "yt:shard-1::3",
                                         "yt:shard-1::4", "yt:shard-1:(a:b):5"]
    assert df["record_id"].n_unique() == df.height
    assert df["source_key"].to_list() == ["yt:x", "yt:y", "yt:x", None, None, "yt:(a:b)"]
    assert parse_record_id(df["record_id"][5]) == ("yt", ("shard-1", "a:b", "5"))
    assert df["source_row"].to_list() == [0, 1, 2, 3, 4, 5]
    assert set(df["source_file"]) == {"s3://b/shard-1.parquet"} and set(df["source_sha256"]) == {"abc"}
    assert contract_problems(df) == [] and df["parent_ids"].to_list() == [[]] * 6  # landed: no parents


def test_the_same_video_in_two_shards_is_two_records_with_one_source_key():
    a = normalise(pl.DataFrame({"video_id": ["v1", "v2"]}), "s1", "s1.parquet", "h1")
    b = normalise(pl.DataFrame({"video_id": ["v2"]}), "s2", "s2.parquet", "h2")
    both = pl.concat([a, b])
    assert both["record_id"].n_unique() == 3
    assert both.filter(pl.col("video_id") == "v2")["source_key"].to_list() == ["yt:v2", "yt:v2"]
    # shard names that look like other ids cannot make two rows collide: parts are escaped
    odd = normalise(pl.DataFrame({"video_id": ["x"]}), "s1:x", "f", "h")
    assert odd["record_id"][0] == "yt:(s1:x):x:0" and odd["record_id"][0] not in both["record_id"].to_list()


def test_unreadable_shard_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ShardError, match="unreadable shard broken.parquet"):
        read_shard(bad)


def test_ids_are_normalised_once_and_stored_so():
    df = normalise(pl.DataFrame({"video_id": ["dupB", "dupB ", "x", "x", "x#row2", "e\u0301", "   "]}), "s", "f", "h")
    assert df["video_id"].to_list() == ["dupB", "dupB", "x", "x", "x#row2", "\u00e9", None]
    assert df["record_id"].n_unique() == df.height
    assert df["source_key"].to_list()[:4] == ["yt:dupB", "yt:dupB", "yt:x", "yt:x"]
    assert df["normalization_issues"][1].to_list() == ["video_id: 'dupB ' normalised to 'dupB'"]
    assert df["normalization_issues"][0].to_list() == [] and df["normalization_issues"][2].to_list() == []


@pytest.mark.parametrize(("column", "values", "kept"), [
    ("view_count", pl.Series([2**64 - 1, 60], dtype=pl.UInt64), [None, 60]),
    ("view_count", pl.Series([2**100, 7], dtype=pl.Int128), [None, 7]),
    ("view_count", pl.Series([[1, 2], [60]]), [None, None]),
    ("view_count", pl.Series([timedelta(seconds=5), None]), [None, None]),
    ("title", pl.Series([timedelta(seconds=5), None]), [None, None]),
    ("title", pl.Series([[1, 2], [3]]), [None, None]),
    ("title", pl.Series([{"a": 1}, {"a": 2}]), [None, None]),
    ("title", pl.Series([["a", "b"], ["c"]]), ["a, b", "c"]),  # a list of names is joined
    ("tags", pl.Series([[{"a": 1}], [{"a": 2}]]), [None, None]),
    ("tags", pl.Series([[1, 2], [3, 4]], dtype=pl.Array(pl.Int64, 2)), [["1", "2"], ["3", "4"]]),
])
def test_a_value_no_cast_can_take_is_null_with_an_issue_and_the_rest_of_the_shard_survives(column, values, kept):
    df = normalise(pl.DataFrame({"video_id": ["a", "b"], "text": ["one two", "three"]}).with_columns(
        values.alias(column)), "s", "f", "h")
    assert df[column].to_list() == kept
    for i, value in enumerate(kept):
        issues = [x for x in df["normalization_issues"][i] if x.startswith(f"{column}: ")]
        lost = values[i] is not None and value is None
        assert (issues[:1] != []) == lost and all("is not" in x for x in issues), (i, issues)


def test_a_word_count_past_int64_is_derived_from_the_transcript_and_says_so():
    df = normalise(pl.DataFrame({"video_id": ["a"], "text": ["one two three"],
                                 "word_count": pl.Series([2**64 - 1], dtype=pl.UInt64)}), "s", "f", "h")
    assert df["word_count"].to_list() == [3]
    assert df["normalization_issues"][0].to_list() == [f"word_count: '{2**64 - 1}' is not Int64",
                                                      "word_count: derived from text"]
