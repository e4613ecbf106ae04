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

import hashlib
import json
from collections.abc import Mapping, Sequence
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


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


def stage_sql(stage: Stage, columns: Sequence[str], relation: str | None = None) -> str:
    """One SELECT turning a stage's rows (its view, or `relation`) into index rows (all columns cast
    to the index's types)."""
    cols = set(columns)

    def opt(name: str, cast: str = "VARCHAR") -> str:
        return f"CAST({_q(name)} AS {cast})" if name in cols else f"CAST(NULL AS {cast})"

    kept = "CAST(kept AS BOOLEAN)" if "kept" in cols else "TRUE"
    return (
        f"SELECT CAST(record_id AS VARCHAR) AS record_id, '{stage.asset}' AS asset, '{stage.group}' AS \"group\", "
        f"CAST({stage.order} AS INTEGER) AS stage_order, {opt('shard')} AS shard, {kept} AS kept, "
        f"{opt('reason')} AS reason, {opt('detail')} AS detail, "
        f"coalesce(CAST(parent_ids AS VARCHAR[]), []) AS parent_ids, "
        f"coalesce(CAST(models AS {_MODELS_SQL}), []) AS models FROM {relation or _q(stage.asset)}"
    )


def relation_columns(con, relation: str) -> list[str] | None:
    """The columns of a view, table or `read_parquet(...)` (None when there is no such thing)."""
    import duckdb

    try:
        return [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()] or None
    except duckdb.CatalogException:
        return None


def index_sql(con, stages: Sequence[Stage], relations: Mapping[str, str] | None = None
              ) -> tuple[str | None, list[Skipped]]:
    """One SELECT of the index rows of every stage whose rows honour the contract (None when none
    does); also the stages skipped, with why. A stage is read from `relations[asset]` when given
    (one stored file), else from its view."""
    parts, skipped = [], []
    for stage in stages:
        relation = (relations or {}).get(stage.asset) or _q(stage.asset)
        cols = relation_columns(con, relation)
        why = missing_contract(cols)
        if why is not None:
            skipped.append(Skipped(stage.asset, why))
            continue
        parts.append(stage_sql(stage, cols, relation))
    return (" UNION ALL ".join(parts) if parts else None), skipped


def with_runs_sql(index: str, runs: str) -> str:
    """The index rows with the materialization each came from: run id, code version, data version,
    rule parameters and time.

    `runs` (a table) has one row per (asset, shard) with shard null for unpartitioned assets; a row
    of an unpartitioned asset (a fan-in whose rows still name their shard) takes the asset's run.

    Rows come in record-id order: stored that way, a lookup by id (every audit) reads only the
    Parquet row groups whose min/max hold it, so its cost stays flat as the index grows
    (bench/bench_scale.py). DuckDB sorts out of core, so the index never has to fit in memory."""
    picked = ", ".join(f"CASE WHEN p.run_id IS NOT NULL THEN p.{c} ELSE w.{c} END AS {c}" for c in RUN_COLUMNS)
    return (f"SELECT i.*, {picked} FROM ({index}) i "
            f"LEFT JOIN {runs} p ON p.asset = i.asset AND p.shard = i.shard "
            f"LEFT JOIN (SELECT * FROM {runs} WHERE shard IS NULL) w ON w.asset = i.asset "
            "ORDER BY i.record_id, i.stage_order, i.asset, i.shard NULLS LAST")


def content_version(con, relation: str) -> str:
    """A data version of a relation too large to hash in memory: the sum of DuckDB's row hashes
    (order-free; the writers give their rows a total order anyway). It changes with DuckDB's hash
    function across DuckDB versions, which costs one extra downstream run after an upgrade."""
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    hashed = ", ".join(_q(c) for c in cols)
    total, rows = con.execute(f"SELECT sum(hash({hashed}))::VARCHAR, count(*) FROM {relation}").fetchall()[0]
    return hashlib.sha256(f"{','.join(cols)}|{rows}|{total}".encode()).hexdigest()[:20]


def duplicated_ids(con, relation: str) -> pl.DataFrame:
    """(asset, record_id, shards) held more than once by one asset: two records sharing one id."""
    return con.sql(f"SELECT asset, record_id, list_sort(list(shard)) AS shards FROM {relation} "
                   "GROUP BY asset, record_id HAVING count(*) > 1 ORDER BY asset, record_id").pl()


def params_text(params: Any) -> str | None:
    """Rule parameters as the index stores them: canonical JSON (None when none were recorded)."""
    if params is None:
        return None
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
