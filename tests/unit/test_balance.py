import math

import polars as pl
import pytest
from pydantic import ValidationError

from assets.hygiene.balance import (
    BalanceRules,
    balance_change,
    balance_measures,
    before_after,
    distribution,
    rebalance,
    target_shares,
)


def frame():
    """a: 6 rows, b: 3, c: 3 (shares 0.5, 0.25, 0.25); scores rank the rows inside each group."""
    return pl.DataFrame({
        "record_id": [f"r{i}" for i in range(12)],
        "g": ["a"] * 6 + ["b"] * 3 + ["c"] * 3,
        "score": [5, 1, 4, 2, 6, 3, 1, 3, 2, 2, 1, 3],
        "w": [1.0] * 6 + [2.0] * 3 + [4.0] * 3,
    })


def kept_ids(out):
    return out.filter("kept")["record_id"].to_list()


def test_distribution_counts_shares_and_weights():
    d = distribution(frame(), "g")
    assert d.columns == ["g", "count", "share", "weight", "weight_share"]
    assert d.rows() == [("a", 6, 0.5, 6.0, 0.5), ("b", 3, 0.25, 3.0, 0.25), ("c", 3, 0.25, 3.0, 0.25)]
    weighted = distribution(frame(), "g", weight_col="w")
    assert weighted["weight"].to_list() == [6.0, 6.0, 12.0]
    assert weighted["weight_share"].to_list() == [0.25, 0.25, 0.5]


def test_distribution_over_several_columns():
    df = frame().with_columns(lang=pl.Series(["en", "fr"] * 6))
    d = distribution(df, ["g", "lang"])
    assert d.select("g", "lang", "count").rows() == [("a", "en", 3), ("a", "fr", 3), ("b", "en", 2), ("b", "fr", 1),
                                                     ("c", "en", 1), ("c", "fr", 2)]
    assert d["share"].sum() == pytest.approx(1.0)


def test_uniform_cap_keeps_the_best_ranked_rows_down_to_the_smallest_group():
    out = rebalance(frame(), "g", BalanceRules(), rank_col="score")
    assert out.columns == [*frame().columns, "kept", "reason"]
    assert out.drop("kept", "reason").equals(frame())  # every row, in order: filters annotate, never delete
    assert out["kept"].to_list() == [True, False, True, False, True, False] + [True] * 6  # a keeps scores 6, 5, 4
    assert out["reason"].to_list() == [None, "over_represented", None, "over_represented", None,
                                       "over_represented"] + [None] * 6
    assert before_after(out, "g").rows() == [("a", 0.5, 1 / 3), ("b", 0.25, 1 / 3), ("c", 0.25, 1 / 3)]


def test_proportional_with_a_cap_trims_only_the_group_over_it():
    # a's 0.5 is capped at 0.4 and b, c share the 0.1: 0.3 each; b and c fill 10 rows at 0.3 -> a keeps 4.
    rules = BalanceRules(target="proportional", max_share=0.4)
    assert target_shares(frame(), "g", rules)["target"].to_list() == pytest.approx([0.4, 0.3, 0.3])
    out = rebalance(frame(), "g", rules, rank_col="score")
    assert kept_ids(out) == ["r0", "r2", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"]
    assert before_after(out, "g")["after_share"].to_list() == pytest.approx([0.4, 0.3, 0.3])


def test_proportional_without_a_cap_keeps_everyone():
    assert rebalance(frame(), "g", BalanceRules(target="proportional"))["kept"].all()


def test_explicit_target_shares():
    out = rebalance(frame(), "g", BalanceRules(target={"a": 0.6, "b": 0.2, "c": 0.2, "z": 0.5}), rank_col="score")
    assert kept_ids(out) == ["r0", "r1", "r2", "r3", "r4", "r5", "r7", "r8", "r9", "r11"]  # b, c keep their 2 best


def test_shares_that_do_not_divide_the_rows_are_floored():
    # targets 0.25, 0.25, 0.5: c's 3 rows fill 6 at 0.5, so a and b may keep 1.5 rows each: 1
    out = rebalance(frame(), "g", BalanceRules(target={"a": 1, "b": 1, "c": 2}), rank_col="score")
    assert kept_ids(out) == ["r4", "r7", "r9", "r10", "r11"]


def test_a_group_without_an_explicit_target_is_an_error():
    with pytest.raises(ValueError, match=r"\['c'\] have no target share"):
        rebalance(frame(), "g", BalanceRules(target={"a": 1, "b": 1}))


def test_a_cap_no_mix_can_respect_is_an_error():
    with pytest.raises(ValueError, match="below 1/3 groups"):
        rebalance(frame(), "g", BalanceRules(max_share=0.3))


def test_without_a_rank_the_id_hash_decides_whatever_the_row_order():
    rules = BalanceRules(seed=7)
    out = rebalance(frame(), "g", rules)
    assert out.group_by("g").agg(pl.col("kept").sum()).sort("g")["kept"].to_list() == [3, 3, 3]
    assert sorted(kept_ids(rebalance(frame().reverse(), "g", rules))) == sorted(kept_ids(out))
    choices = {tuple(kept_ids(rebalance(frame(), "g", BalanceRules(seed=s)))) for s in range(10)}
    assert len(choices) > 1  # the seed is a salt


def test_null_ranks_go_first_and_an_id_column_is_needed():
    df = frame().with_columns(score=pl.Series([None, 3, None, 2, 1, None, 1, 1, 1, 1, 1, 1]))
    assert kept_ids(rebalance(df, "g", rank_col="score"))[:3] == ["r1", "r3", "r4"]
    with pytest.raises(ValueError, match="record_id"):
        rebalance(frame().drop("record_id"), "g", rank_col="score")


def test_reweight_keeps_everyone_and_matches_the_target_with_mean_one_weights():
    out = rebalance(frame(), "g", BalanceRules(method="reweight"))
    assert out["kept"].all() and out["reason"].is_null().all()
    # uniform: 1/3 x 12 rows / 6 rows for a, / 3 rows for b and c
    assert out["sample_weight"].to_list() == pytest.approx([2 / 3] * 6 + [4 / 3] * 6)
    assert out["sample_weight"].mean() == pytest.approx(1.0)
    assert distribution(out, "g", "sample_weight")["weight_share"].to_list() == pytest.approx([1 / 3] * 3)
    assert before_after(out, "g")["after_share"].to_list() == pytest.approx([1 / 3] * 3)


def test_rebalancing_its_own_output_gives_the_same_output():
    for rules in (BalanceRules(), BalanceRules(method="reweight")):
        once = rebalance(frame(), "g", rules, rank_col="score")
        assert rebalance(once, "g", rules, rank_col="score").equals(once)


def test_a_null_group_is_a_group_and_an_empty_frame_comes_back_empty():
    df = pl.DataFrame({"record_id": ["p", "q", "r", "s", "t"], "g": ["a", "a", "a", None, "b"]})
    assert rebalance(df, "g")["kept"].to_list().count(True) == 3
    empty = rebalance(frame().head(0), "g")
    assert empty.height == 0 and {"kept", "reason"} <= set(empty.columns)


def test_balance_measures():
    assert balance_measures([1 / 3] * 3) == pytest.approx({"entropy": 1.0, "max_min_ratio": 1.0})
    # H = 0.5 ln 2 + 2 x 0.25 ln 4 = 1.5 ln 2, over ln 3
    assert balance_measures([0.5, 0.25, 0.25]) == pytest.approx({"entropy": 1.5 * math.log(2) / math.log(3),
                                                                  "max_min_ratio": 2.0})
    assert balance_measures([0.5, 0.5, 0.0]) == {"entropy": pytest.approx(math.log(2) / math.log(3)),
                                                 "max_min_ratio": math.inf}
    assert balance_measures([1.0]) == {"entropy": 1.0, "max_min_ratio": 1.0}


def test_balance_change_before_and_after():
    change = balance_change(rebalance(frame(), "g", rank_col="score"), "g")
    assert change == pytest.approx({"entropy_before": 0.9463946303571863, "max_min_ratio_before": 2.0,
                                    "entropy_after": 1.0, "max_min_ratio_after": 1.0})


def test_rules_are_frozen_strict_and_described():
    with pytest.raises(ValidationError):
        BalanceRules(target="even")
    with pytest.raises(ValidationError):
        BalanceRules(target={"a": 0})
    with pytest.raises(ValidationError):
        BalanceRules(max_shares=0.5)
    with pytest.raises(ValidationError):
        BalanceRules().seed = 1
    assert BalanceRules(target={"b": 1, "a": 2}, max_share=0.6).describe() == \
        "target a 2, b 1, at most 60% per group: rows over a group's target rejected as over_represented"
    assert BalanceRules(method="reweight").describe() == \
        "target uniform: rows weighted (sample_weight, mean 1) to the target"
