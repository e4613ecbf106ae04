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


def test_record_ids_are_unique_and_provenance_is_kept():
    raw = pl.DataFrame({"video_id": ["x", "y", "x", None, " "]})
    df = normalise(raw, "shard-1", "s3://b/shard-1.parquet", "abc")
    assert df["record_id"].to_list() == ["yt:x", "yt:y", "yt:x#row2", "yt-row:shard-1:3", "yt-row:shard-1:4"]
    assert df["record_id"].n_unique() == df.height
    assert df["source_row"].to_list() == [0, 1, 2, 3, 4]
    assert set(df["source_file"]) == {"s3://b/shard-1.parquet"} and set(df["source_sha256"]) == {"abc"}


def test_unreadable_shard_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ShardError, match="unreadable shard broken.parquet"):
        read_shard(bad)
