"""Balance: how a dataset's rows spread over groups (category, language, source), and evening it out.

A model trained on a skewed mix learns the skew; the fix is either fewer rows of the groups that
dominate (`cap`, for a release) or weights that count them less (`reweight`, for a trainer that takes
sample weights and should see every row). Either way every input row comes back annotated: a capped
row is `kept=False` with a reason, never dropped, so inputs == kept + rejected and the cut can be
audited or undone.

Target shares sum to one, so "no group above its target share" forces every group onto its target:
the cap keeps the largest selection with the target shares, which under `proportional` with a
`max_share` keeps the small groups whole and trims only those above the cap. Which rows of a group go
is decided by a rank (the best kept) or, without one, by a salted hash of the row's id, so a rerun
drops the same rows whatever order the rows arrive in.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

OVER_REPRESENTED = "over_represented"


class BalanceRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target: Literal["uniform", "proportional"] | dict[str, PositiveFloat] = Field(
        "uniform", description="Share each group should have: equal, as observed (with `max_share`, a cap on the "
        "largest), or explicit shares by group name (normalised over the groups present; every group must be named).")
    max_share: float | None = Field(None, gt=0, le=1, description="No group's target above this share; the excess "
                                    "goes to the other groups in proportion to their targets.")
    method: Literal["cap", "reweight"] = Field("cap", description="cap: reject the rows over a group's target; "
                                               "reweight: keep all rows and weight them to the target.")
    seed: int = Field(0, description="Salt of the id hash that orders the rows of a group when there is no rank.")
    id_col: str = Field("record_id", description="Column whose hash orders rows without a rank, and breaks ties.")

    def describe(self) -> str:
        target = self.target if isinstance(self.target, str) else \
            ", ".join(f"{g} {s:g}" for g, s in sorted(self.target.items()))
        cap = f", at most {self.max_share:.0%} per group" if self.max_share is not None else ""
        how = "rows over a group's target rejected as over_represented" if self.method == "cap" \
            else "rows weighted (sample_weight, mean 1) to the target"
        return f"target {target}{cap}: {how}"


def _columns(group_cols: str | Sequence[str]) -> list[str]:
    return [group_cols] if isinstance(group_cols, str) else list(group_cols)


def distribution(df: pl.DataFrame, group_cols: str | Sequence[str], weight_col: str | None = None) -> pl.DataFrame:
    """One row per group: `count`, `share` of rows, `weight` (sum of `weight_col`, else the count) and
    `weight_share`, sorted by group."""
    cols = _columns(group_cols)
    weight = pl.col(weight_col).cast(pl.Float64).sum() if weight_col else pl.len().cast(pl.Float64)
    return (df.group_by(cols).agg(count=pl.len().cast(pl.Int64), weight=weight)
            .with_columns(share=pl.col("count") / pl.col("count").sum(),
                          weight_share=pl.col("weight") / pl.col("weight").sum())
            .select(*cols, "count", "share", "weight", "weight_share")
            .sort(cols, nulls_last=True))


def _base_shares(groups: list, counts: list[int], target: str | dict[str, float]) -> list[float]:
    if target == "uniform":
        return [1 / len(groups) for _ in groups]
    if target == "proportional":
        return [n / sum(counts) for n in counts]
    unknown = [g for g in groups if str(g) not in target]
    if unknown:
        raise ValueError(f"groups {unknown} have no target share; name every group (known: {sorted(target)})")
    raw = [target[str(g)] for g in groups]
    return [r / sum(raw) for r in raw]


def _water_fill(shares: list[float], cap: float | None) -> list[float]:
    """Shares at most `cap`, the excess spread over the uncapped groups in proportion, until none is over."""
    if cap is None or not shares:
        return shares
    if cap * len(shares) < 1 - 1e-9:
        raise ValueError(f"max_share {cap} is below 1/{len(shares)} groups: no mix can respect it")
    capped = [False] * len(shares)
    while True:
        room = 1 - cap * sum(capped)
        free = sum(s for s, c in zip(shares, capped, strict=True) if not c)
        out = [cap if c else s * room / free for s, c in zip(shares, capped, strict=True)]
        if all(o <= cap + 1e-12 for o in out):
            return out
        capped = [c or o > cap + 1e-12 for c, o in zip(capped, out, strict=True)]


def target_shares(df: pl.DataFrame, group_col: str, rules: BalanceRules) -> pl.DataFrame:
    """One row per group: `n` rows and its `target` share (after the cap), sorted by group."""
    groups = df.group_by(group_col).agg(n=pl.len().cast(pl.Int64)).sort(group_col, nulls_last=True)
    shares = _base_shares(groups[group_col].to_list(), groups["n"].to_list(), rules.target)
    return groups.with_columns(target=pl.Series(_water_fill(shares, rules.max_share), dtype=pl.Float64))


def _id_order(ids: pl.Series, seed: int) -> pl.Series:
    """sha256 of `seed:id`: stable across runs, machines and library versions (polars' hash is not)."""
    return pl.Series([int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big") for i in ids],
                     dtype=pl.UInt64)


def _cap(df: pl.DataFrame, group_col: str, targets: pl.DataFrame, rules: BalanceRules,
         rank_col: str | None) -> pl.DataFrame:
    """Total kept = the largest total every group can fill at its target (min n / target); each group
    keeps floor(target x total) rows, best rank first, so shares can miss the target by a row's worth."""
    if rules.id_col not in df.columns:
        raise ValueError(f"rebalance(method='cap') orders rows by a hash of {rules.id_col!r}, which df lacks")
    total = (pl.col("n") / pl.col("target")).min()
    quota = pl.min_horizontal("n", (pl.col("target") * total + 1e-9).floor()).cast(pl.Int64)
    quotas = targets.select(group_col, quota=quota)
    by, descending = ([rank_col], [True]) if rank_col else ([], [])
    ranked = (df.with_row_index("__row").with_columns(__tie=_id_order(df[rules.id_col], rules.seed))
              .sort([*by, "__tie"], descending=[*descending, False], nulls_last=True)
              .with_columns(__pos=pl.int_range(pl.len()).over(group_col))
              .join(quotas, on=group_col, how="left", nulls_equal=True)
              .sort("__row"))
    kept = pl.col("__pos") < pl.col("quota")
    return (ranked.with_columns(kept=kept, reason=pl.when(kept).then(None).otherwise(pl.lit(OVER_REPRESENTED)))
            .drop("__row", "__tie", "__pos", "quota"))


def _reweight(df: pl.DataFrame, group_col: str, targets: pl.DataFrame) -> pl.DataFrame:
    """weight = target x rows / group rows: each group's weights sum to its target share of the rows,
    so the weights have mean 1 and the weighted shares are the targets."""
    weights = targets.select(group_col, sample_weight=pl.col("target") * pl.col("n").sum() / pl.col("n"))
    return (df.join(weights, on=group_col, how="left", nulls_equal=True, maintain_order="left")
            .with_columns(kept=pl.lit(True), reason=pl.lit(None, dtype=pl.String)))


def rebalance(df: pl.DataFrame, group_col: str, rules: BalanceRules | None = None,
              rank_col: str | None = None) -> pl.DataFrame:
    """Every row of `df` (the rows to balance, e.g. a stage's kept rows) with `kept` and `reason`
    (`over_represented` or null) and, for `reweight`, `sample_weight`. Under `cap` the highest `rank_col`
    rows of a group are kept (nulls ranked last), else the lowest id hashes."""
    rules = rules or BalanceRules()
    out = df.drop("kept", "reason", "sample_weight", strict=False)
    targets = target_shares(out, group_col, rules)
    if rules.method == "reweight":
        return _reweight(out, group_col, targets)
    return _cap(out, group_col, targets, rules, rank_col)


def before_after(df: pl.DataFrame, group_col: str) -> pl.DataFrame:
    """One row per group: `before_share` of all rows, `after_share` of the kept rows (weighted by
    `sample_weight` when present); a group left with nothing has after_share 0."""
    kept = pl.col("kept") if "kept" in df.columns else pl.lit(True)
    weight = pl.col("sample_weight") if "sample_weight" in df.columns else pl.lit(1.0)
    return (df.group_by(group_col)
            .agg(before=pl.len().cast(pl.Float64), after=pl.when(kept).then(weight).otherwise(0.0).sum())
            .select(group_col, before_share=pl.col("before") / pl.col("before").sum(),
                    after_share=pl.col("after") / pl.col("after").sum())
            .sort(group_col, nulls_last=True))


def balance_measures(shares: pl.Series | Sequence[float]) -> dict[str, float]:
    """`entropy`: Shannon entropy over ln(groups), 1 for an even mix, towards 0 as one group takes all
    (a single group counts as even); `max_min_ratio`: largest over smallest share, inf when a group is
    empty."""
    s = pl.Series(shares, dtype=pl.Float64)
    p = s.filter(s > 0)
    entropy = float(-(p * p.log()).sum() / math.log(s.len())) if s.len() > 1 else 1.0
    ratio = float(s.max() / s.min()) if s.min() > 0 else math.inf
    return {"entropy": entropy, "max_min_ratio": ratio}


def balance_change(df: pl.DataFrame, group_col: str) -> dict[str, float]:
    """`entropy_before`, `entropy_after`, `max_min_ratio_before`, `max_min_ratio_after` of a rebalanced frame."""
    shares = before_after(df, group_col)
    return {f"{name}_{when}": value for when in ("before", "after")
            for name, value in balance_measures(shares[f"{when}_share"]).items()}
