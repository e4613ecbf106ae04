"""Record-level provenance over every stage, from the warehouse views the assets already publish.

Dagster's lineage is per asset and partition; a data team also asks it per record ("where did this
sample come from, and why is that one missing?"). Every dataset stage already carries `record_id`,
its verdict (`kept`, `reason`, `detail`) and its parents' ids (`parent_ids`, `qa_ids`,
`document_id`, `*_record_id`), and model-derived rows carry backend/model/task_version/prompt_sha
(some under a role prefix such as `label_`). The index reads exactly those columns from each view,
so it never disagrees with the data, and adds each partition's Dagster run id and code version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

LIST_PARENTS = ("parent_ids", "qa_ids")
SCALAR_PARENTS = ("document_id", "parent_id", "question_id")
MODEL_FIELDS = ("backend", "model", "task_version", "prompt_sha")
MODEL_ROLES = ("", "label_", "annotation_", "description_", "judge_")
MODEL_STRUCT = pl.Struct({"role": pl.String, **{f: pl.String for f in MODEL_FIELDS}})
INDEX_SCHEMA = {
    "record_id": pl.String, "asset": pl.String, "group": pl.String, "stage_order": pl.Int32,
    "shard": pl.String, "kept": pl.Boolean, "reason": pl.String, "detail": pl.String,
    "parent_ids": pl.List(pl.String), "models": pl.List(MODEL_STRUCT),
}
RUN_SCHEMA = {"asset": pl.String, "shard": pl.String, "run_id": pl.String, "code_version": pl.String,
              "materialized_at": pl.Float64}


@dataclass(frozen=True)
class Stage:
    asset: str
    group: str
    order: int


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parent_columns(columns: Iterable[str]) -> tuple[list[str], list[str]]:
    """(list-valued, scalar) columns of a view that name a record's parents."""
    cols = list(columns)
    lists = [c for c in LIST_PARENTS if c in cols]
    scalars = [c for c in cols if c in SCALAR_PARENTS or (c.endswith("_record_id") and c != "record_id")]
    return lists, scalars


def stage_sql(stage: Stage, columns: Sequence[str]) -> str:
    """One SELECT turning a stage's view into index rows (all columns cast to the index's types)."""
    cols = set(columns)

    def col(name: str, cast: str = "VARCHAR") -> str:
        return f"CAST({_q(name)} AS {cast})" if name in cols else f"CAST(NULL AS {cast})"

    lists, scalars = parent_columns(columns)
    parents = [f"CAST({_q(c)} AS VARCHAR[])" for c in lists] + [f"[CAST({_q(c)} AS VARCHAR)]" for c in scalars]
    parent_expr = "list_filter(flatten([" + ", ".join(parents) + "]), lambda x: x IS NOT NULL)" if parents \
        else "CAST([] AS VARCHAR[])"
    roles = [r for r in MODEL_ROLES if f"{r}backend" in cols or f"{r}model" in cols]
    structs = [
        "{'role': " + (f"'{r.rstrip('_')}'" if r else "'model'") + ", "
        + ", ".join(f"'{f}': {col(r + f)}" for f in MODEL_FIELDS) + "}"
        for r in roles
    ]
    models_expr = (f"list_filter([{', '.join(structs)}], lambda m: m.backend IS NOT NULL OR m.model IS NOT NULL)"
                   if structs else "CAST([] AS STRUCT(role VARCHAR, backend VARCHAR, model VARCHAR, "
                                   "task_version VARCHAR, prompt_sha VARCHAR)[])")
    kept = "CAST(kept AS BOOLEAN)" if "kept" in cols else "TRUE"
    return (
        f"SELECT CAST(record_id AS VARCHAR) AS record_id, '{stage.asset}' AS asset, '{stage.group}' AS \"group\", "
        f"CAST({stage.order} AS INTEGER) AS stage_order, {col('shard')} AS shard, {kept} AS kept, "
        f"{col('reason')} AS reason, {col('detail')} AS detail, {parent_expr} AS parent_ids, "
        f"{models_expr} AS models FROM {_q(stage.asset)}"
    )


def view_columns(con, name: str) -> list[str] | None:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [name],
    ).fetchall()
    return [r[0] for r in rows] or None


def build_index(con, stages: Sequence[Stage]) -> tuple[pl.DataFrame, list[str]]:
    """Index rows of every stage whose view exists and has `record_id`; also the stages skipped."""
    parts, skipped = [], []
    for stage in stages:
        cols = view_columns(con, stage.asset)
        if not cols or "record_id" not in cols:
            skipped.append(stage.asset)
            continue
        parts.append(con.sql(stage_sql(stage, cols)).pl())
    if not parts:
        return pl.DataFrame(schema=INDEX_SCHEMA), skipped
    return pl.concat([p.cast(INDEX_SCHEMA) for p in parts]).select(list(INDEX_SCHEMA)), skipped


def with_runs(index: pl.DataFrame, runs: pl.DataFrame) -> pl.DataFrame:
    """Attach the run id and code version of the materialization each row came from.

    `runs` has one row per (asset, shard) with shard null for unpartitioned assets."""
    runs = runs.cast(RUN_SCHEMA)
    partitioned = index.join(runs.filter(pl.col("shard").is_not_null()), on=["asset", "shard"], how="left")
    whole = runs.filter(pl.col("shard").is_null()).drop("shard")
    missing = partitioned.filter(pl.col("run_id").is_null()).drop("run_id", "code_version", "materialized_at")
    filled = missing.join(whole, on="asset", how="left")
    return pl.concat([partitioned.filter(pl.col("run_id").is_not_null()), filled], how="vertical_relaxed") \
        .sort("stage_order", "asset", "record_id")
