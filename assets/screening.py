"""Filters annotate, never delete (DESIGN principle 3), in columnar form.

A `Rule` is the columnar cousin of datatrove's filter: a boolean polars expression that is true when
a row passes, the reason recorded when it does not, and the measured value and threshold shown beside
the decision. `screen` applies rules in order; the first failing rule names the row's `reason`, every
failing rule is listed in `reasons`, and a null measurement fails (a row that cannot be measured is
rejected, not waved through). A stage screens the kept rows of the stage before it, so per stage
inputs == kept + rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

SCREEN_COLUMNS = ("kept", "reason", "reasons", "detail")


@dataclass(frozen=True)
class Rule:
    reason: str
    keep: pl.Expr
    value: pl.Expr | None = None
    threshold: str | None = None

    def detail(self) -> pl.Expr:
        """'<value> (threshold ...)' for the row, so a rejection reads on its own."""
        if self.value is None:
            return pl.lit(self.reason)
        shown = self.value.cast(pl.String).fill_null("null")
        if self.threshold:
            return pl.format("{} (keep if {})", shown, pl.lit(self.threshold))
        return shown


def screen(df: pl.DataFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    """Return `df` with `kept`, `reason`, `reasons` (all failed rules) and `detail` columns."""
    if not rules:
        raise ValueError("screen() needs at least one rule")
    fails = [(~r.keep).fill_null(True) for r in rules]
    reason = pl.when(fails[0]).then(pl.lit(rules[0].reason))
    detail = pl.when(fails[0]).then(rules[0].detail())
    for rule, failed in zip(rules[1:], fails[1:], strict=True):
        reason = reason.when(failed).then(pl.lit(rule.reason))
        detail = detail.when(failed).then(rule.detail())
    reasons = pl.concat_list(
        [pl.when(f).then(pl.lit(r.reason)).otherwise(pl.lit(None)) for r, f in zip(rules, fails, strict=True)]
    ).list.drop_nulls()
    out = df.with_columns(
        reason.otherwise(pl.lit(None, dtype=pl.String)).alias("__reason"),
        detail.otherwise(pl.lit(None, dtype=pl.String)).alias("__detail"),
        reasons.alias("__reasons"),
    )
    out = out.drop([c for c in SCREEN_COLUMNS if c in out.columns]).rename(
        {"__reason": "reason", "__detail": "detail", "__reasons": "reasons"}
    )
    return out.with_columns(pl.col("reason").is_null().alias("kept"))


def kept(df: pl.DataFrame) -> pl.DataFrame:
    return df.filter(pl.col("kept"))


def reject_all(df: pl.DataFrame, reason: str, detail: str | None = None) -> pl.DataFrame:
    """Mark every row rejected with one reason (a stage that could not run on this input)."""
    return df.with_columns(
        pl.lit(False).alias("kept"),
        pl.lit(reason).alias("reason"),
        pl.lit([reason], dtype=pl.List(pl.String)).alias("reasons"),
        pl.lit(detail or reason).alias("detail"),
    )
