"""`provenance_index`: one row per record per stage, built after every dataset asset.

Built by `definitions.py` from the loaded graph (`build_provenance_index`), because it depends on
every asset of every other group and numbers stages in the graph's topological order: a group
added later is indexed without editing this file.
"""

import graphlib

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from assets.kit.metadata import bar_chart, preview
from assets.quality.provenance import RUN_SCHEMA, Stage, build_index, with_runs
from assets.quality.sql_models import refresh_upstream_views

INDEXED_GROUPS_EXCLUDED = ("quality",)


def stages_of(all_assets: list) -> list[Stage]:
    """Every asset outside the quality group, numbered in dependency order."""
    group_of, graph = {}, {}
    for a in all_assets:
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


def latest_runs(instance: dg.DagsterInstance, index: pl.DataFrame) -> pl.DataFrame:
    """Run id and code version of the latest materialization of each (asset, shard) in the index."""
    rows = []
    pairs = index.select("asset", "shard").unique().iter_rows()
    for asset, shard in sorted(pairs, key=lambda p: (p[0], p[1] or "")):
        key = dg.AssetKey(asset)
        for partition in ([shard, None] if shard else [None]):
            flt = dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None)
            records = instance.fetch_materializations(flt, limit=1).records
            if records:
                r = records[0]
                rows.append({"asset": asset, "shard": r.asset_materialization.partition, "run_id": r.run_id,
                             "code_version": r.asset_materialization.tags.get("dagster/code_version"),
                             "materialized_at": r.timestamp})
                break
    return pl.DataFrame(rows, schema=RUN_SCHEMA).unique(["asset", "shard"], keep="first")


def build_provenance_index(all_assets: list) -> dg.AssetsDefinition:
    stages = stages_of(all_assets)

    @dg.asset(
        name="provenance_index",
        group_name="quality",
        kinds={"duckdb", "polars", "parquet"},
        owners=["team:data"],
        code_version="1",
        deps=[dg.AssetKey.from_user_string(s.asset) for s in stages],
        pool="duckdb",
        description=(
            "Every record of every stage: its verdict (kept, reason, detail), its parents' ids, the "
            "backend/model/task version/prompt hash of each model-derived field, and the Dagster run id "
            "and code version that produced it. `make audit ID=<record_id>` and the `record_audit` view "
            "walk it from a released sample back to its source row."
        ),
    )
    def provenance_index(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
        refresh_upstream_views(tuple(s.asset for s in stages), duckdb.database)
        with duckdb.get_connection() as con:
            index, skipped = build_index(con, stages)
        df = with_runs(index, latest_runs(context.instance, index))
        per_asset = {a: n for a, n in df.group_by("asset").len().sort("asset").iter_rows()}
        return dg.Output(df, metadata={
            "dagster/row_count": df.height,
            "records": df["record_id"].n_unique(),
            "stages_indexed": len(per_asset),
            "stages_without_records": dg.MetadataValue.json(skipped),
            "rows_without_run": int(df["run_id"].is_null().sum()),
            "rows_per_stage": bar_chart(per_asset, "index rows per stage", "rows") if per_asset else "none",
            "preview": preview(df, ["record_id", "asset", "shard", "kept", "reason", "run_id", "code_version"]),
        })

    return provenance_index
