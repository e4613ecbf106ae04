"""`provenance_index`: one row per record per stage, built after every dataset asset.

Built by the root `definitions.py` from the assets it covers (`build_provenance_index(assets)`),
because it depends on every dataset asset of every other group and numbers stages in the graph's
topological order: a group added later is indexed without editing this file.
"""

import graphlib
import warnings

import dagster as dg
import polars as pl

from assets.kit.asset_kit import REFRESH_TAG, kit_asset
from assets.kit.links import audit_launchpad_url
from assets.kit.metadata import bar_chart
from assets.quality.index_store import (
    LAYOUT,
    Built,
    Cursors,
    build_edge_segment,
    build_index_segment,
    plan_sources,
    read_manifest,
    segment_key,
    store_version,
    sync_segments,
)
from assets.quality.provenance import RUN_SCHEMA, Stage, params_text
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
        kinds=("duckdb", "parquet"),
        deps=[dg.AssetKey.from_user_string(s.asset) for s in stages],
        pool="duckdb",
        tags={REFRESH_TAG: "incremental"},
        description=(
            "Every record of every stage, read from the provenance contract its rows declare: its "
            "verdict (kept, reason, detail), its parents' ids (`parent_ids`), the models behind its "
            "model-derived fields (`models`), and the materialization that produced it (run id, code "
            "version, data version, the rule parameters a screen ran with, time). The `audit` "
            "job (launchpad: `record_id`), `make audit ID=<record_id>` and the `record_audit` view "
            "walk it from a released sample back to its source row. Stages without the contract are "
            "listed under `stages_skipped` with the reason. Stored as segments (one per shard, one per "
            "unpartitioned stage, each in record-id order, assets/quality/index_store.py): a refresh "
            "rebuilds only the segments whose input files changed."
        ),
    )
    def provenance_index(context: dg.AssetExecutionContext, duckdb: Warehouse) -> dg.MaterializeResult:
        fs, root = duckdb.store()
        # the audit reads each stage's row through its view: every stage's view is current
        duckdb.refresh_views(tuple(s.asset for s in stages))
        plan = plan_sources(fs, root, stages)
        layout = f"{LAYOUT}|" + ",".join(f"{s.asset}:{s.group}:{s.order}" for s in stages)
        wanted = {name: (segment_key(layout, sources), {"shard": plan.shards.get(name)})
                  for name, sources in plan.segments.items()}
        if not wanted:  # nothing stored yet: one empty segment keeps the table's columns
            wanted = {"empty": (segment_key(layout, []), {"shard": None})}

        fetched = {}

        def prepare(names: list[str]) -> None:
            """The latest run of every rebuilt segment's (stage, shard), in two queries per stage."""
            pairs = pl.DataFrame([(s.stage.asset, plan.shards.get(n)) for n in names for s in plan.segments.get(n, [])],
                                 schema={"asset": pl.String, "shard": pl.String}, orient="row")
            fetched["runs"] = latest_runs(context.instance, pairs)

        def runs(pairs: pl.DataFrame) -> pl.DataFrame:
            return fetched["runs"].join(pairs, on=["asset", "shard"], how="semi", nulls_equal=True)

        folder = f"{root}/provenance_index"
        with duckdb.get_connection() as con:
            cursors = Cursors(con)
            try:
                built = sync_segments(fs, folder, wanted, lambda name, uri: build_index_segment(
                    cursors.get(), plan.segments.get(name, []), plan.shards.get(name), uri, runs), layout, prepare)
            finally:
                cursors.close()
        _drop_single_file(fs, root, "provenance_index")
        duckdb.refresh_views(("provenance_index",))
        return _result(index_metadata(context, built, stages, plan.unstored), store_version(built.manifest))

    return provenance_index


def _drop_single_file(fs, root: str, name: str) -> None:
    """The one-file layout of earlier versions: the warehouse would prefer it over the segments."""
    if fs.isfile(f"{root}/{name}.parquet"):
        fs.rm(f"{root}/{name}.parquet")


def _result(metadata: dict, version: str) -> dg.MaterializeResult:
    with warnings.catch_warnings():  # user data versions are a Dagster beta; the warning would print per step
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(version))


def index_metadata(context: dg.AssetExecutionContext, built: Built, stages: list[Stage],
                   unstored: dict[str, str]) -> dict:
    """What the UI shows, summed from the manifest's per-segment facts (no pass over the index)."""
    segments = built.manifest["segments"].values()
    per_asset: dict[str, int] = {}
    skipped = dict(unstored)
    for seg in segments:
        for asset, n in seg["per_asset"].items():
            per_asset[asset] = per_asset.get(asset, 0) + n
        skipped.update({a: r for a, r in seg["skipped"].items() if a not in per_asset})
    skipped = {a: r for a, r in sorted(skipped.items()) if a not in per_asset}
    for asset, reason in skipped.items():
        context.log.info(f"provenance_index: {asset} skipped: {reason}")
    held = [seg["held_twice_example"][0] for seg in segments if seg["held_twice"]]
    if held:
        context.log.warning(f"provenance_index: record ids held twice by one asset in {len(held)} segment(s), e.g. "
                            f"{held[0]}; the audit reports them apart")
    meta = {
        "dagster/row_count": sum(seg["rows"] for seg in segments),
        "stages_indexed": len(per_asset),
        "covered_assets": dg.MetadataValue.json([s.asset for s in stages]),
        "stages_skipped": dg.MetadataValue.json(skipped),
        "ids_held_twice": sum(seg["held_twice"] for seg in segments),
        "rows_without_run": sum(seg["without_run"] for seg in segments),
        "segments": len(built.manifest["segments"]),
        "segments_rebuilt": len(built.rebuilt),
        "segments_reused": len(built.reused),
        "segments_removed": len(built.removed),
        "rows_rebuilt": sum(built.manifest["segments"][n]["rows"] for n in built.rebuilt),
        "unroutable_segments": dg.MetadataValue.json(sorted(
            n for n, seg in built.manifest["segments"].items() if not seg["routable"])),
        "rows_per_stage": bar_chart(per_asset, "index rows per stage", "rows") if per_asset else "none",
    }
    examples = sorted((not seg["example_is_release"], seg["example"]) for seg in segments if seg["example"])
    if examples:
        meta["example_record_id"] = dg.MetadataValue.text(examples[0][1])
        meta["example_audit"] = dg.MetadataValue.url(audit_launchpad_url(examples[0][1]))
    return meta


@kit_asset(
    group="quality",
    kinds=("duckdb", "parquet"),
    deps=[dg.AssetKey("provenance_index")],
    pool="duckdb",
    description=(
        "Every (parent, child) pair of the provenance index, one row per parent id a record names, "
        "in parent-id order, one segment per index segment (rebuilt when that segment is). The audit "
        "finds a record's children and the releases built from it here by a range lookup; scanning "
        "`parent_ids` of the whole index instead took 3 s at 100M rows (bench/bench_scale.py)."
    ),
)
def provenance_edges(duckdb: Warehouse) -> dg.MaterializeResult:
    fs, root = duckdb.store()
    index_folder = f"{root}/provenance_index"
    index = read_manifest(fs, index_folder)
    if not index["segments"]:
        raise dg.Failure("provenance_index has no segments here; materialize it first")
    layout = f"{LAYOUT}|edges|{index['layout']}"
    wanted = {name: (seg["key"], {"shard": seg.get("shard"), "index_file": seg["file"]})
              for name, seg in index["segments"].items()}
    with duckdb.get_connection() as con:
        cursors = Cursors(con)
        try:
            built = sync_segments(fs, f"{root}/provenance_edges", wanted, lambda name, uri: build_edge_segment(
                cursors.get(), f"{index_folder}/{index['segments'][name]['file']}",
                index["segments"][name].get("shard"), uri), layout)
        finally:
            cursors.close()
    _drop_single_file(fs, root, "provenance_edges")
    duckdb.refresh_views(("provenance_edges",))
    segments = built.manifest["segments"].values()
    return _result({"dagster/row_count": sum(s["rows"] for s in segments),
                    "segments": len(built.manifest["segments"]), "segments_rebuilt": len(built.rebuilt),
                    "segments_reused": len(built.reused)}, store_version(built.manifest))
