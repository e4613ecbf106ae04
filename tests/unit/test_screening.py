import polars as pl
import pytest

from assets.kit.screening import NOT_EVALUATED, Rule, evaluate, kept, reject_all, screen

RULES = [
    Rule(reason="not_english", column="lang", op="eq", threshold="en"),
    Rule(reason="too_few_words", column="words", op="gt", threshold=50),
]


def test_first_failing_rule_names_the_reason_and_all_are_listed():
    df = pl.DataFrame({"lang": ["en", "fr", "fr", "en"], "words": [60, 60, 10, 50]})
    out = screen(df, RULES)
    assert out["kept"].to_list() == [True, False, False, False]
    assert out["reason"].to_list() == [None, "not_english", "not_english", "too_few_words"]
    assert out["reasons"].to_list() == [[], ["not_english"], ["not_english", "too_few_words"], ["too_few_words"]]
    assert out["detail"][3] == "50 (keep if words > 50)"
    assert out.height == df.height  # annotate, never delete


def test_unmeasurable_rows_are_rejected_not_waved_through():
    out = screen(pl.DataFrame({"lang": [None], "words": [None]}, schema={"lang": pl.String, "words": pl.Int64}), RULES)
    assert out["kept"].to_list() == [False] and out["reason"][0] == "not_english"


def test_inputs_equal_kept_plus_rejected():
    df = pl.DataFrame({"lang": ["en"] * 7 + ["de"] * 3, "words": list(range(45, 55))})
    out = screen(df, RULES)
    assert kept(out).height + out.filter(~pl.col("kept")).height == df.height


def test_a_stored_row_is_re_evaluated_up_to_the_deciding_rule():
    assert evaluate({"lang": "fr", "words": 10}, RULES) == [
        ("not_english", "FAIL", "fr (keep if lang == en)"), ("too_few_words", NOT_EVALUATED, "keep if words > 50")]
    assert [v for _, v, _ in evaluate({"lang": "en", "words": 60}, RULES)] == ["pass", "pass"]


def test_reject_all_and_empty_rules():
    out = reject_all(pl.DataFrame({"x": [1, 2]}), "stage_failed", "decoder crashed")
    assert out["kept"].to_list() == [False, False] and set(out["detail"]) == {"decoder crashed"}
    with pytest.raises(ValueError):
        screen(pl.DataFrame({"x": [1]}), [])
