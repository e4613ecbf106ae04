"""Record-level provenance over every stage, read from the contract every dataset row carries.

Dagster's lineage is per asset and partition; a data team also asks it per record ("where did this
sample come from, and why is that one missing?"). Every dataset stage declares, through
`assets.kit.provenance.declare`, its rows' `record_id`, `parent_ids` (the records a row was built
from) and `models` (one entry per model-derived field group), and screens add their verdict
(`kept`, `reason`, `detail`). The index reads exactly those columns from each stage's warehouse
view: nothing is guessed from column names. A view that has `record_id` but not the contract is
listed as skipped with that reason, never silently dropped. Each row is then joined with the
materialization that produced it (run id, code version, data version, the rule parameters a
screen ran with, and when).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from assets.kit.provenance import MODEL_FIELDS, MODELS, PARENTS

INDEX_SCHEMA = {
    "record_id": pl.String, "asset": pl.String, "group": pl.String, "stage_order": pl.Int32,
    "shard": pl.String, "kept": pl.Boolean, "reason": pl.String, "detail": pl.String,
    "parent_ids": PARENTS, "models": MODELS,
}
# one row per (asset, shard) materialization; shard is null for an unpartitioned asset
RUN_SCHEMA = {"asset": pl.String, "shard": pl.String, "run_id": pl.String, "code_version": pl.String,
              "data_version": pl.String, "rule_params": pl.String, "materialized_at": pl.Float64}
RUN_COLUMNS = tuple(c for c in RUN_SCHEMA if c not in ("asset", "shard"))
CONTRACT_COLUMNS = ("record_id", "parent_ids", "models")
_MODELS_SQL = "STRUCT(" + ", ".join(f"{f} VARCHAR" for f in MODEL_FIELDS) + ")[]"


@dataclass(frozen=True)
class Stage:
    asset: str
    group: str
    order: int


@dataclass(frozen=True)
class Skipped:
    """A stage the index could not read, and why (shown in the index's metadata)."""

    asset: str
    reason: str


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def missing_contract(columns: Sequence[str] | None) -> str | None:
    """Why a view cannot be indexed (None when it can)."""
    if not columns:
        return "no warehouse view (not materialized yet)"
    missing = [c for c in CONTRACT_COLUMNS if c not in columns]
    if "record_id" in missing:
        return "no record_id column (not a dataset of records)"
    if missing:
        return f"no provenance contract: missing {', '.join(missing)}"
    return None


def stage_sql(stage: Stage, columns: Sequence[str]) -> str:
    """One SELECT turning a stage's view into index rows (all columns cast to the index's types)."""
    cols = set(columns)

    def opt(name: str, cast: str = "VARCHAR") -> str:
        return f"CAST({_q(name)} AS {cast})" if name in cols else f"CAST(NULL AS {cast})"

    kept = "CAST(kept AS BOOLEAN)" if "kept" in cols else "TRUE"
    return (
        f"SELECT CAST(record_id AS VARCHAR) AS record_id, '{stage.asset}' AS asset, '{stage.group}' AS \"group\", "
        f"CAST({stage.order} AS INTEGER) AS stage_order, {opt('shard')} AS shard, {kept} AS kept, "
        f"{opt('reason')} AS reason, {opt('detail')} AS detail, "
        f"coalesce(CAST(parent_ids AS VARCHAR[]), []) AS parent_ids, "
        f"coalesce(CAST(models AS {_MODELS_SQL}), []) AS models FROM {_q(stage.asset)}"
    )


def view_columns(con, name: str) -> list[str] | None:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [name],
    ).fetchall()
    return [r[0] for r in rows] or None


def build_index(con, stages: Sequence[Stage]) -> tuple[pl.DataFrame, list[Skipped]]:
    """Index rows of every stage whose view honours the contract; also the stages skipped, with why."""
    parts, skipped = [], []
    for stage in stages:
        cols = view_columns(con, stage.asset)
        why = missing_contract(cols)
        if why is not None:
            skipped.append(Skipped(stage.asset, why))
            continue
        parts.append(con.sql(stage_sql(stage, cols)).pl())
    if not parts:
        return pl.DataFrame(schema=INDEX_SCHEMA), skipped
    return pl.concat([p.cast(INDEX_SCHEMA) for p in parts]).select(list(INDEX_SCHEMA)), skipped


def params_text(params: Any) -> str | None:
    """Rule parameters as the index stores them: canonical JSON (None when none were recorded)."""
    if params is None:
        return None
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


def with_runs(index: pl.DataFrame, runs: pl.DataFrame) -> pl.DataFrame:
    """Attach the materialization each row came from: run id, code version, data version, rule
    parameters and time.

    `runs` has one row per (asset, shard) with shard null for unpartitioned assets; a row of an
    unpartitioned asset (a fan-in whose rows still name their shard) takes the asset's run.

    Rows come in record-id order: stored that way, a lookup by id (every audit) reads only the
    Parquet row groups whose min/max hold it, so its cost stays flat as the index grows
    (bench/bench_scale.py)."""
    runs = runs.cast(RUN_SCHEMA).select(list(RUN_SCHEMA))
    partitioned = index.join(runs.filter(pl.col("shard").is_not_null()), on=["asset", "shard"], how="left")
    whole = runs.filter(pl.col("shard").is_null()).drop("shard")
    missing = partitioned.filter(pl.col("run_id").is_null()).drop(*RUN_COLUMNS)
    filled = missing.join(whole, on="asset", how="left")
    return pl.concat([partitioned.filter(pl.col("run_id").is_not_null()), filled], how="vertical_relaxed") \
        .sort("record_id", "stage_order", "asset", "shard", nulls_last=True)


def duplicated_ids(index: pl.DataFrame) -> pl.DataFrame:
    """(asset, record_id, shards) held more than once by one asset: two records sharing one id."""
    return (index.group_by("asset", "record_id").agg(pl.col("shard").sort().alias("shards"), pl.len())
            .filter(pl.col("len") > 1).drop("len").sort("asset", "record_id"))
