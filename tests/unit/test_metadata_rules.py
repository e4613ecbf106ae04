import polars as pl

from assets.finevideo.metadata_rules import language_screen, word_density_screen


def raw(rows):
    cols = ["video_id", "original_language", "transcription_language", "word_count"]
    df = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows],
                      schema={"video_id": pl.String, "original_language": pl.String,
                              "transcription_language": pl.String, "word_count": pl.Int64})
    return df.with_columns(pl.format("r{}", pl.int_range(pl.len())).alias("record_id"), pl.lit("s").alias("shard"))


def test_language_screen_names_every_failed_rule_and_keeps_only_english_with_enough_words():
    out = language_screen(raw([
        ("a", "en", "en", 51),        # kept
        ("b", "en", "en", 50),        # 50 is not more than 50
        ("c", "fr", "de", 10),        # three failures, the first names the row
        ("d", " EN", "en ", 300),     # case and stray whitespace are not a language change
        ("e", "en", None, 300),       # unknown transcription language: rejected, not waved through
        ("f", "en", "en", None),      # no word count
        ("a", "en", "en", 900),       # the same video listed again
        ("  ", "en", "en", 900),      # blank id
        (None, "en", "en", 900),
    ]))
    assert out.columns[:6] == ["record_id", "video_id", "shard", "original_language",
                               "transcription_language", "word_count"]
    assert out["kept"].to_list() == [True, False, False, True, False, False, False, False, False]
    assert out["reason"].to_list() == [None, "word_count", "original_language", None, "transcription_language",
                                       "word_count", "duplicate_video_id", "empty_video_id", "empty_video_id"]
    assert out["reasons"][2].to_list() == ["original_language", "transcription_language", "word_count"]
    assert out["detail"][1] == "50 (keep if > 50)"
    assert out["detail"][4] == "null (keep if == 'en')"
    assert "text" not in out.columns and out.height == 9  # annotate, never delete


def test_word_density_is_strictly_above_half_a_word_per_second_of_measured_duration():
    videos = pl.DataFrame({"record_id": ["a", "b", "c", "d"], "video_id": ["a", "b", "c", "d"], "shard": "s",
                           "word_count": [60, 61, 500, 500], "duration_s": [120.0, 120.0, 0.0, None]})
    out = word_density_screen(videos)
    assert out["words_per_second"].to_list()[:2] == [0.5, 61 / 120]
    assert out["kept"].to_list() == [False, True, False, False]  # 0.5 exactly is dropped, as in FineVideo
    assert out["reason"].to_list() == ["word_density", None, "word_density", "word_density"]
    assert out["detail"][0] == "0.5 (keep if > 0.5 words/s)"
    assert out["detail"][2] == "null (keep if > 0.5 words/s)"  # no duration: unmeasurable, rejected
