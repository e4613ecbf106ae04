"""`provenance_index`: one row per record per stage, built after every dataset asset.

Built by the root `definitions.py` from the assets it covers (`build_provenance_index(assets)`),
because it depends on every dataset asset of every other group and numbers stages in the graph's
topological order: a group added later is indexed without editing this file.
"""

import graphlib
import tempfile
from pathlib import Path

import dagster as dg
import polars as pl

from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.links import audit_launchpad_url
from assets.kit.metadata import PREVIEW_ROWS, bar_chart, preview
from assets.quality.provenance import (
    INDEX_SCHEMA,
    RUN_COLUMNS,
    RUN_SCHEMA,
    Stage,
    content_version,
    duplicated_ids,
    index_sql,
    params_text,
    sql_string,
    with_runs_sql,
)
from resources.warehouse import Warehouse

INDEXED_GROUPS_EXCLUDED = ("quality",)
ROW_GROUP = 100_000  # an audit's lookup by id reads one row group of this many rows


def stages_of(covered: list) -> list[Stage]:
    """Every asset outside the quality group, numbered in dependency order."""
    group_of, graph = {}, {}
    for a in covered:
        if not isinstance(a, dg.AssetsDefinition):
            continue
        for key in a.keys:
            group = a.group_names_by_key.get(key, "default")
            if group in INDEXED_GROUPS_EXCLUDED:
                continue
            group_of[key] = group
            graph[key] = {d.asset_key for d in a.specs_by_key[key].deps}
    order = [k for k in graphlib.TopologicalSorter(graph).static_order() if k in group_of]
    return [Stage(k.to_user_string(), group_of[k], i) for i, k in enumerate(order, start=1)]


def _run_row(asset: str, record: dg.EventLogRecord) -> dict:
    mat = record.asset_materialization
    params = mat.metadata.get("rule_params")
    return {"asset": asset, "shard": mat.partition, "run_id": record.run_id,
            "code_version": mat.tags.get("dagster/code_version"),
            "data_version": mat.tags.get("dagster/data_version"),
            "rule_params": params_text(params.value) if params is not None else None,
            "materialized_at": record.timestamp}


def latest_runs(instance: dg.DagsterInstance, index: pl.DataFrame) -> pl.DataFrame:
    """The latest materialization of each (asset, shard) in the index: run id, code version, data
    version, the rule parameters it recorded, and when. Two instance queries per asset (the latest
    storage id of every shard at once, then those records), not one per shard: at 2,000 shards the
    per-shard lookup was 2,000 queries per asset. A shard without its own materialization (rows of
    an unpartitioned fan-in still name their shard) takes the asset's latest."""
    rows = []
    wanted = index.select("asset", "shard").unique()
    for asset in sorted(wanted["asset"].unique().to_list()):
        key = dg.AssetKey(asset)
        shards = wanted.filter(pl.col("asset") == asset)["shard"].to_list()
        named = {s for s in shards if s}
        ids = (instance.get_latest_storage_id_by_partition(key, dg.DagsterEventType.ASSET_MATERIALIZATION, named)
               if named else {})
        found = {}
        if ids:
            flt = dg.AssetRecordsFilter(asset_key=key, storage_ids=list(ids.values()))
            found = {r.asset_materialization.partition: r
                     for r in instance.fetch_materializations(flt, limit=len(ids)).records}
        rows += [_run_row(asset, r) for r in found.values()]
        if any(s not in found for s in shards):
            latest = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1).records
            rows += [_run_row(asset, latest[0])] if latest else []
    return pl.DataFrame(rows, schema=RUN_SCHEMA).unique(["asset", "shard"], keep="first")


def build_provenance_index(covered: list) -> dg.AssetsDefinition:
    """The index over the records of `covered` (the assets of every group but quality)."""
    stages = stages_of(covered)

    @kit_asset(
        group="quality",
        kinds=("duckdb", "polars", "parquet"),
        deps=[dg.AssetKey.from_user_string(s.asset) for s in stages],
        pool="duckdb",
        description=(
            "Every record of every stage, read from the provenance contract its rows declare: its "
            "verdict (kept, reason, detail), its parents' ids (`parent_ids`), the models behind its "
            "model-derived fields (`models`), and the materialization that produced it (run id, code "
            "version, data version, the rule parameters a screen ran with, time). The `audit` "
            "job (launchpad: `record_id`), `make audit ID=<record_id>` and the `record_audit` view "
            "walk it from a released sample back to its source row. Stages without the contract are "
            "listed under `stages_skipped` with the reason."
        ),
    )
    def provenance_index(context: dg.AssetExecutionContext, duckdb: Warehouse):
        duckdb.refresh_views(tuple(s.asset for s in stages))
        with tempfile.TemporaryDirectory(prefix="provenance-index-") as tmp:
            path = str(Path(tmp) / "index.parquet")
            with duckdb.get_connection() as con:
                meta, version = write_index(context, con, stages, path)
            # stored (streamed by the IO manager) before the temporary file goes
            yield versioned(pl.scan_parquet(path), meta, version=version)

    return provenance_index


def write_index(context: dg.AssetExecutionContext, con, stages: list[Stage], path: str) -> tuple[dict, str]:
    """The index written to `path` by DuckDB, which joins, sorts and writes out of core (8M rows
    took 8 GB in memory as one frame), and its metadata and data version, read back from the file."""
    sql, skipped = index_sql(con, stages)
    pairs = con.sql(f"SELECT DISTINCT asset, shard FROM ({sql})").pl() if sql else pl.DataFrame(
        schema={"asset": pl.String, "shard": pl.String})
    con.register("index_runs", latest_runs(context.instance, pairs).cast(RUN_SCHEMA).select(list(RUN_SCHEMA)))
    if sql:
        con.execute("SET preserve_insertion_order = false")  # ORDER BY still orders; less to hold
        con.execute(f"COPY ({with_runs_sql(sql, 'index_runs')}) TO {sql_string(path)} "
                    f"(FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP})")
    else:
        pl.DataFrame(schema={**INDEX_SCHEMA, **{c: RUN_SCHEMA[c] for c in RUN_COLUMNS}}).write_parquet(path)
    rel = f"read_parquet({sql_string(path)})"
    for s in skipped:
        context.log.info(f"provenance_index: {s.asset} skipped: {s.reason}")
    dupes = duplicated_ids(con, rel)
    if dupes.height:
        context.log.warning(f"provenance_index: {dupes.height} record id(s) held twice by one asset, e.g. "
                            f"{dupes.row(0, named=True)}; the audit reports them apart")
    rows, records, without_run = con.execute(
        f"SELECT count(*), count(DISTINCT record_id), count(*) FILTER (run_id IS NULL) FROM {rel}").fetchall()[0]
    per_asset = dict(con.execute(f"SELECT asset, count(*) FROM {rel} GROUP BY asset ORDER BY asset").fetchall())
    head = con.sql(f"SELECT * FROM {rel} LIMIT {PREVIEW_ROWS}").pl()
    meta = {
        "dagster/row_count": rows,
        "records": records,
        "stages_indexed": len(per_asset),
        "covered_assets": dg.MetadataValue.json([s.asset for s in stages]),
        "stages_skipped": dg.MetadataValue.json({s.asset: s.reason for s in skipped}),
        "ids_held_twice": dupes.height,
        "rows_without_run": without_run,
        "rows_per_stage": bar_chart(per_asset, "index rows per stage", "rows") if per_asset else "none",
        "preview": preview(head, ["record_id", "asset", "shard", "kept", "reason", "run_id", "code_version",
                                  "data_version"]),
    }
    example = con.execute(f"SELECT record_id FROM {rel} ORDER BY NOT ends_with(asset, '_dataset'), record_id "
                          "LIMIT 1").fetchall()
    if example:
        meta["example_record_id"] = dg.MetadataValue.text(example[0][0])
        meta["example_audit"] = dg.MetadataValue.url(audit_launchpad_url(example[0][0]))
    return meta, content_version(con, rel)


EDGES_SQL = ("SELECT DISTINCT record_id, asset, shard, parent_id FROM (SELECT record_id, asset, shard, "
             "unnest(parent_ids) AS parent_id FROM provenance_index) WHERE parent_id IS NOT NULL "
             "ORDER BY parent_id, asset, record_id, shard NULLS LAST")


@kit_asset(
    group="quality",
    kinds=("duckdb", "polars", "parquet"),
    deps=[dg.AssetKey("provenance_index")],
    pool="duckdb",
    description=(
        "Every (parent, child) pair of the provenance index, one row per parent id a record names, "
        "stored in parent-id order. The audit finds a record's children and the releases built "
        "from it here by a range lookup; scanning `parent_ids` of the whole index instead took "
        "3 s at 100M rows (bench/bench_scale.py)."
    ),
)
def provenance_edges(duckdb: Warehouse):
    duckdb.refresh_views(("provenance_index",))
    with tempfile.TemporaryDirectory(prefix="provenance-edges-") as tmp:
        path = str(Path(tmp) / "edges.parquet")
        with duckdb.get_connection() as con:
            con.execute(f"COPY ({EDGES_SQL}) TO {sql_string(path)} (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP})")
            rel = f"read_parquet({sql_string(path)})"
            rows, parents = con.execute(f"SELECT count(*), count(DISTINCT parent_id) FROM {rel}").fetchall()[0]
            version = content_version(con, rel)
        yield versioned(pl.scan_parquet(path), {"dagster/row_count": rows, "parents": parents}, version=version)
