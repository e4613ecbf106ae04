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
    """Return `df` with `kept`, `reason`, `reasons` (all failed rules) and `detail` columns.

    The failed rules of a row are packed into a bit mask and the few distinct masks are turned
    into `reason`/`reasons` through a small lookup table: building a list per row in an expression
    costs several microseconds a row, which on a million-row shard is most of the screen."""
    if not rules:
        raise ValueError("screen() needs at least one rule")
    if len(rules) > 62:
        raise ValueError("screen() takes at most 62 rules")
    names = [f"__fail{i}" for i in range(len(rules))]
    out = df.with_columns((~r.keep).fill_null(True).alias(n) for r, n in zip(rules, names, strict=True))
    fails = [pl.col(n) for n in names]  # each rule evaluated once, then read twice
    detail = pl.when(fails[0]).then(rules[0].detail())
    for rule, failed in zip(rules[1:], fails[1:], strict=True):
        detail = detail.when(failed).then(rule.detail())
    mask = pl.sum_horizontal([f.cast(pl.Int64) * (1 << i) for i, f in enumerate(fails)])
    out = out.with_columns(
        mask.alias("__failed"), detail.otherwise(pl.lit(None, dtype=pl.String)).alias("__detail")
    ).drop(names)
    masks = out["__failed"].unique().to_list()
    failed = [[r.reason for i, r in enumerate(rules) if m >> i & 1] for m in masks]
    lookup = pl.DataFrame(
        {"__failed": masks, "__reason": [f[0] if f else None for f in failed], "__reasons": failed},
        schema={"__failed": pl.Int64, "__reason": pl.String, "__reasons": pl.List(pl.String)},
    )
    out = out.join(lookup, on="__failed", how="left", maintain_order="left").drop("__failed")
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
