import polars as pl

from assets.finevideo.metadata_rules import (
    LanguageRules,
    WordDensityRules,
    language_screen,
    word_density_screen,
)
from assets.kit.screening import NOT_EVALUATED, evaluate


def raw(rows):
    cols = ["video_id", "original_language", "transcription_language", "word_count"]
    df = pl.DataFrame([dict(zip(cols, r, strict=True)) for r in rows],
                      schema={"video_id": pl.String, "original_language": pl.String,
                              "transcription_language": pl.String, "word_count": pl.Int64})
    return df.with_columns(pl.format("r{}", pl.int_range(pl.len())).alias("record_id"), pl.lit("s").alias("shard"))


ROWS = [
    ("a", "en", "en", 51),        # kept
    ("b", "en", "en", 50),        # 50 is not more than 50
    ("c", "fr", "de", 10),        # three failures, the first names the row
    ("d", " EN", "en ", 300),     # case and stray whitespace are not a language change
    ("e", "en", None, 300),       # unknown transcription language: rejected, not waved through
    ("f", "en", "en", None),      # no word count
    ("a", "en", "en", 900),       # the same video listed again
    ("  ", "en", "en", 900),      # blank id
    (None, "en", "en", 900),
]


def test_language_screen_names_every_failed_rule_and_keeps_only_english_with_enough_words():
    out = language_screen(raw(ROWS))
    assert out.columns[:6] == ["record_id", "video_id", "shard", "original_language",
                               "transcription_language", "word_count"]
    assert out["kept"].to_list() == [True, False, False, True, False, False, False, False, False]
    assert out["reason"].to_list() == [None, "word_count", "original_language", None, "transcription_language",
                                       "word_count", "duplicate_video_id", "empty_video_id", "empty_video_id"]
    assert out["reasons"][2].to_list() == ["original_language", "transcription_language", "word_count"]
    assert out["detail"][1] == "50 (keep if word_count > 50)"
    assert out["detail"][4] == "null (keep if transcription_language_code == en)"
    assert "text" not in out.columns and out.height == 9  # annotate, never delete


def test_the_language_rules_compare_stored_measurements_so_a_stored_row_re_evaluates_to_its_verdict():
    out = language_screen(raw(ROWS))
    assert out["duplicate_in_shard"].to_list() == [False] * 6 + [True, False, False]
    assert out["has_video_id"].to_list() == [True] * 7 + [False, False]
    assert out["original_language_code"][3] == "en" and out["original_language"][3] == " EN"
    rules = LanguageRules().rules()
    for row in out.to_dicts():
        verdicts = [v for _, v, _ in evaluate(row, rules)]
        if row["kept"]:
            assert verdicts == ["pass"] * len(rules), row
        else:  # the deciding rule is the stored reason; nothing after it is judged
            decided = [r.reason for r in rules].index(row["reason"])
            assert verdicts[: decided + 1] == ["pass"] * decided + ["FAIL"], row
            assert set(verdicts[decided + 1 :]) <= {NOT_EVALUATED}, row


def test_language_parameters_change_verdicts():
    out = language_screen(raw(ROWS), LanguageRules(min_words=49, language=" FR "))
    assert out["reason"][1] == "original_language"  # 'en' is no longer the language asked for
    out = language_screen(raw(ROWS), LanguageRules(min_words=49))
    assert out["kept"][1]  # 50 words now pass


def test_word_density_is_strictly_above_half_a_word_per_second_of_measured_duration():
    videos = pl.DataFrame({"record_id": ["a", "b", "c", "d"], "video_id": ["a", "b", "c", "d"], "shard": "s",
                           "word_count": [60, 61, 500, 500], "duration_s": [120.0, 120.0, 0.0, None]})
    out = word_density_screen(videos)
    assert out["words_per_second"].to_list()[:2] == [0.5, 61 / 120]
    assert out["kept"].to_list() == [False, True, False, False]  # 0.5 exactly is dropped, as in FineVideo
    assert out["reason"].to_list() == ["word_density", None, "word_density", "word_density"]
    assert out["detail"][0] == "0.5 (keep if words_per_second > 0.5)"
    assert out["detail"][2] == "null (keep if words_per_second > 0.5)"  # no duration: unmeasurable, rejected
    looser = word_density_screen(videos, WordDensityRules(min_words_per_second=0.4))
    assert looser["kept"].to_list() == [True, True, False, False]


def test_descriptions_are_generated_from_the_parameters():
    assert WordDensityRules().describe() == "word_density: keep if words_per_second > 0.5"
    assert "word_count: keep if word_count > 70" in LanguageRules(min_words=70).describe()


def test_duplicates_are_found_on_the_id_the_record_id_is_minted_from():
    out = language_screen(raw([("dupB", "en", "en", 99), ("dupB ", "en", "en", 99), ("x", "en", "en", 99),
                               ("x", "en", "en", 99), ("x#row2", "en", "en", 99), ("e\u0301", "en", "en", 99),
                               ("\u00e9", "en", "en", 99)]))
    assert out["reason"].to_list() == [None, "duplicate_video_id", None, "duplicate_video_id", None, None,
                                       "duplicate_video_id"]  # é composed or not is one id
