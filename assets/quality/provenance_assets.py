"""`provenance_index`: one row per record per stage, built after every dataset asset.

Built by the root `definitions.py` from the assets it covers (`build_provenance_index(assets)`),
because it depends on every dataset asset of every other group and numbers stages in the graph's
topological order: a group added later is indexed without editing this file.
"""

import graphlib

import dagster as dg
import polars as pl

from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.links import audit_launchpad_url
from assets.kit.metadata import bar_chart, preview
from assets.quality.provenance import RUN_SCHEMA, Stage, build_index, duplicated_ids, params_text, with_runs
from resources.warehouse import Warehouse

INDEXED_GROUPS_EXCLUDED = ("quality",)


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
        with duckdb.get_connection() as con:
            index, skipped = build_index(con, stages)
        df = with_runs(index, latest_runs(context.instance, index))
        for s in skipped:
            context.log.info(f"provenance_index: {s.asset} skipped: {s.reason}")
        dupes = duplicated_ids(df)
        if dupes.height:
            context.log.warning(f"provenance_index: {dupes.height} record id(s) held twice by one asset, e.g. "
                                f"{dupes.row(0, named=True)}; the audit reports them apart")
        per_asset = {a: n for a, n in df.group_by("asset").len().sort("asset").iter_rows()}
        meta = {
            "dagster/row_count": df.height,
            "records": df["record_id"].n_unique(),
            "stages_indexed": len(per_asset),
            "covered_assets": dg.MetadataValue.json([s.asset for s in stages]),
            "stages_skipped": dg.MetadataValue.json({s.asset: s.reason for s in skipped}),
            "ids_held_twice": dupes.height,
            "rows_without_run": int(df["run_id"].is_null().sum()),
            "rows_per_stage": bar_chart(per_asset, "index rows per stage", "rows") if per_asset else "none",
            "preview": preview(df, ["record_id", "asset", "shard", "kept", "reason", "run_id", "code_version",
                                    "data_version"]),
        }
        released = df.filter(pl.col("asset").str.ends_with("_dataset"))
        example = (released if released.height else df)["record_id"].head(1).to_list()
        if example:
            meta["example_record_id"] = dg.MetadataValue.text(example[0])
            meta["example_audit"] = dg.MetadataValue.url(audit_launchpad_url(example[0]))
        return versioned(df, meta)

    return provenance_index


@kit_asset(
    group="quality",
    kinds=("duckdb", "polars", "parquet"),
    ins={"provenance_index": dg.AssetIn()},
    pool="duckdb",
    description=(
        "Every (parent, child) pair of the provenance index, one row per parent id a record names, "
        "stored in parent-id order. The audit finds a record's children and the releases built "
        "from it here by a range lookup; scanning `parent_ids` of the whole index instead took "
        "3 s at 100M rows (bench/bench_scale.py)."
    ),
)
def provenance_edges(provenance_index: pl.DataFrame):
    edges = (provenance_index.select("record_id", "asset", "shard", pl.col("parent_ids").alias("parent_id"))
             .explode("parent_id").drop_nulls("parent_id").unique()
             .sort("parent_id", "asset", "record_id", "shard", nulls_last=True))
    return versioned(edges, {"dagster/row_count": edges.height,
                             "parents": edges["parent_id"].n_unique() if edges.height else 0})
