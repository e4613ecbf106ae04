"""Filters annotate, never delete (DESIGN principle 3), in columnar form, with rules as data.

A `Rule` is the columnar cousin of datatrove's filter, written as data: the stored measurement it
reads (`column`), a comparison (`op`) and its `threshold`. From that one declaration come the
polars expression that screens a shard, the sentence a person reads ("keep if word_count > 50"),
and the re-evaluation the audit runs on a stored row. A stage first stores what it measured, then
screens on those columns, so any verdict can be re-checked later from the row alone.

A `RuleSet` is a pydantic model whose fields are a screen's parameters (thresholds); `rules()`
turns them into `Rule`s. The parameters are asset config (a run can try other thresholds), enter
the asset's code version (editing a default marks the asset stale), and write the asset's
description, so what the UI says is what the code does.

`screen` applies rules in order: the first failing rule names the row's `reason`, every failing
rule is listed in `reasons`, and a null measurement fails (a row that cannot be measured is
rejected, not waved through). A stage screens the kept rows of the stage before it, so per stage
inputs == kept + rejected.
"""

from __future__ import annotations

import json
import math
import operator
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

SCREEN_COLUMNS = ("kept", "reason", "reasons", "detail")
Op = Literal["gt", "ge", "lt", "le", "eq", "ne", "in", "not_in", "is_null", "is_true", "is_false"]
_SYMBOL = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!=", "in": "in", "not_in": "not in"}
NOT_EVALUATED = "not evaluated"
_COMPARE = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le, "eq": operator.eq,
            "ne": operator.ne}


class Rule(BaseModel):
    """Keep a row when `column <op> threshold`; `shown` is the column a rejection displays."""

    model_config = ConfigDict(frozen=True)
    reason: str
    column: str
    op: Op
    threshold: float | int | str | bool | tuple[str, ...] | None = None
    shown: str | None = None

    def keep(self) -> pl.Expr:
        c, t = pl.col(self.column), self.threshold
        if self.op in _COMPARE:
            return _COMPARE[self.op](c, t)
        return {"in": lambda: c.is_in(list(t)), "not_in": lambda: ~c.is_in(list(t)), "is_null": c.is_null,
                "is_true": lambda: c, "is_false": lambda: ~c}[self.op]()

    def passes(self, value: Any) -> bool:
        """The same test on one stored value (a null measurement fails, except for `is_null`)."""
        if self.op == "is_null":
            return value is None
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        t = self.threshold
        if self.op in _COMPARE:
            return bool(_COMPARE[self.op](value, t))
        return {"in": lambda: value in t, "not_in": lambda: value not in t, "is_true": lambda: bool(value),
                "is_false": lambda: not value}[self.op]()

    def text(self) -> str:
        """'keep if word_count > 50' — what a description or an audit line says."""
        if self.op == "is_null":
            return f"keep if {self.column} is null"
        if self.op in ("is_true", "is_false"):
            return f"keep if {self.column} is {self.op == 'is_true'}"
        t = list(self.threshold) if isinstance(self.threshold, tuple) else self.threshold
        return f"keep if {self.column} {_SYMBOL[self.op]} {t}"

    def detail(self) -> pl.Expr:
        """'<shown value> (keep if ...)' for the row, so a rejection reads on its own."""
        shown = pl.col(self.shown or self.column).cast(pl.String).fill_null("null")
        return pl.format("{} ({})", shown, pl.lit(self.text()))


class RuleSet(BaseModel):
    """A screen's parameters; subclasses add fields and `rules()`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @abstractmethod
    def rules(self) -> list[Rule]:
        """The screen's rules, in the order they decide a row."""

    def params_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def describe(self) -> str:
        """The rules in order, as the asset's description and the dataset card state them."""
        return "; ".join(f"{r.reason}: {r.text()}" for r in self.rules())


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
    out = df.with_columns((~r.keep()).fill_null(True).alias(n) for r, n in zip(rules, names, strict=True))
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


def evaluate(row: dict[str, Any], rules: Sequence[Rule]) -> list[tuple[str, str, str]]:
    """The rules re-run on one stored row, in order: (reason, 'pass' | 'FAIL' | 'not evaluated',
    'measured (keep if ...)'). Evaluation stops at the deciding rule, as the screen's verdict
    does; a rule whose measurement the row does not store is reported, never guessed."""
    out, decided = [], False
    for rule in rules:
        if decided:
            out.append((rule.reason, NOT_EVALUATED, rule.text()))
            continue
        if rule.column not in row:
            out.append((rule.reason, NOT_EVALUATED, f"{rule.text()}; the stored row has no {rule.column}"))
            continue
        ok = rule.passes(row[rule.column])
        shown = row.get(rule.shown or rule.column)
        out.append((rule.reason, "pass" if ok else "FAIL", f"{'null' if shown is None else shown} ({rule.text()})"))
        decided = not ok
    return out


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
