"""How the parts that grow with shards and records behave at 10, 100, 1,000 and 2,000 video shards.

No media: metadata-only YouTube-Commons shards (`--rows` rows each, 1,000 by default, so 2,000
shards are 2M rows), and materializations recorded as a full refresh would record them (runless
events with data versions) for the six per-shard FineVideo assets. Measured per size:

- sensor: the landing sensor's first tick (hash every shard, register the partitions, request a run
  per shard) and a steady tick (nothing changed);
- automation: one tick of the FineVideo group's conditions (the prod policy: pool-wide fan-ins on
  the hourly release schedule) as the asset daemon runs it, after the full refresh and after one
  new shard lands (what it requests is the incremental refresh's steps), and the same through
  Dagster's test helper `evaluate_automation_conditions` (`automation_tester_*`, what this bench
  timed before; see `daemon_tick`);
- instance: the SQLite instance's size on disk after the refresh;
- fan-in: reading every shard's `raw_video_metadata` and concatenating them, time and peak memory
  (VmHWM) in a fresh process;
- provenance: the latest materialization of every (asset, shard), per shard (one query each, as
  before) and batched (two queries per asset, now);
- audit: a point lookup of one record id in a provenance-shaped table of 3 rows per landed row,
  unsorted and sorted by `record_id` (DuckDB skips row groups by their min/max only when sorted),
  the children scan (`list_contains(parent_ids, ?)`), which no order helps, and the same question
  put to a parent-id-ordered edge table (`provenance_edges`, what the audit reads now);
- warehouse: registering the DuckDB view over every shard's file and counting its rows;
- the real fan-in steps, each materialized by Dagster in its own process over synthetic per-shard
  stage outputs (`write_stages`), time and peak memory: `curated_selection` (lazy, narrow reads,
  the vectorised oracle, the per-shard candidate store: `*_shards_read` is how many shards' stage
  files it read), `provenance_index` and `provenance_edges` (segments written by DuckDB);
  then storage per million records (every table on disk) and the instance's size per million
  records;
- incremental refresh: one new shard's outputs land after the full refresh; what that shard's
  refresh pays beyond its own 4 shard steps: the automation tick, its steps' views
  (`views_incremental_s`; re-creating them, as before, `views_recreated_s`), and the fan-ins that
  run for every shard, the provenance index and edges (`*_incremental`);
- release refresh: the release schedule's next tick (sensors/automation.py), where the duplicate
  screen has taken the new shard and the pool-wide fan-ins run: the selection re-ranks every
  candidate, then the index and the edges (`*_release`), and `selection_churn`, the share of the
  earlier picks that the re-ranking for one new shard dropped;
- documents (`docs_*`): PDFA shard folders of one tar of `--docs` PDF-shaped stubs (650 a shard:
  Docmatix's 1.3M PDFs at 2,000 shards), the document sensor's ticks, the docmatix per-shard
  assets' materializations, automation, and the release's read of every shard's kept Q/A pairs
  (7.3 a document: Docmatix's 9.5M).

The last column is the growth from 100 to 2,000 shards (20x the shards; near-linear is <= 25x).
`python -m bench.bench_scale --sizes 10 100 --rows 200` runs a quick subset.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
PER_SHARD = ("raw_video_metadata", "language_screen", "video_files", "word_density_screen", "dynamism_screen",
             "taxonomy_labels")
LOOKUPS = 20
FAN_INS = ("curated_selection", "provenance_index", "provenance_edges")
PER_SHARD_FAN_INS = ("provenance_index", "provenance_edges")  # incremental: they run for every shard
STEP = """
import json, os, sys, time
import dagster as dg
from definitions import defs
from resources.deployment import build_resources
from tests.fakes.bombs import peak_rss_mb
instance = dg.DagsterInstance.from_config(sys.argv[1])
assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
start = time.perf_counter()
res = dg.materialize(assets, selection=[sys.argv[2]], instance=instance, resources=build_resources())
meta = res.asset_materializations_for_node(sys.argv[2])[0].metadata
read = meta.get("candidate_shards_read")  # curated_selection: shards whose stage files it read
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_rss_mb(), "success": res.success,
                  "rows": meta["dagster/row_count"].value, "shards_read": read.value if read else None}))
"""
FAN_IN = """
import sys, time, json
from pathlib import Path
import polars as pl
from assets.kit.shard_frames import concat_shards
from tests.fakes.bombs import peak_rss_mb
start = time.perf_counter()
df = concat_shards({p.stem: pl.read_parquet(p) for p in sorted(Path(sys.argv[1]).glob("*.parquet"))})
df = df.filter("kept") if sys.argv[2:] == ["kept"] else df
print(json.dumps({"seconds": time.perf_counter() - start, "rows": df.height, "peak_mb": peak_rss_mb()}))
"""


def write_shards(folder: Path, n: int, rows: int, seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    words = ["river", "lantern", "market", "bridge", "recipe", "engine", "garden", "studio"]
    for s in range(n):
        ids = [f"v{s:05d}x{i:05d}" for i in range(rows)]
        pl.DataFrame({
            "video_id": ids, "title": [f"{rng.choice(words)} {i}" for i in range(rows)],
            "text": [" ".join(rng.choices(words, k=60)) for _ in range(rows)],
            "license": ["CC-BY"] * rows, "original_language": ["en"] * rows, "transcription_language": ["en"] * rows,
            "channel": [f"ch{rng.randrange(500)}" for _ in range(rows)], "word_count": [60] * rows,
            "view_count": [rng.randrange(10**6) for _ in range(rows)],
            "like_count": [rng.randrange(10**4) for _ in range(rows)],
            "comment_count": [rng.randrange(10**3) for _ in range(rows)],
        }).write_parquet(folder / f"shard-{s:05d}.parquet")


def write_stages(raw_files: list[Path], data: Path, seed: int = 0) -> pl.DataFrame:
    """The per-shard stages after the raw metadata of `raw_files`, as their steps would leave them
    (verdicts, the columns selection joins on, the provenance contract), made from each raw
    shard's ids: what `curated_selection` and `provenance_index` read. Returns the labels' kept rows
    (for `judge_duplicates`). The media steps' own cost is not here (constant per shard)."""
    from assets.kit.provenance import MODELS, PARENTS

    rng = random.Random(seed)
    leaves = [f"Top{a} > Leaf{b}" for a in range(8) for b in range(16)]
    labelled = []
    for p in raw_files:
        ids = pl.read_parquet(p, columns=["record_id", "shard", "video_id"])
        n = ids.height
        contract = [pl.lit([], dtype=PARENTS).alias("parent_ids"), pl.lit([], dtype=MODELS).alias("models")]

        def verdict(share: float, n: int = n) -> list[pl.Series | pl.Expr]:
            keep = [rng.random() < share for _ in range(n)]
            return [pl.Series("kept", keep), pl.Series("reason", [None if k else "rejected" for k in keep],
                                                       dtype=pl.String), pl.lit(None, dtype=pl.String).alias("detail")]

        stages = {
            "language_screen": [*verdict(0.9)],
            "word_density_screen": [*verdict(0.9)],
            "video_files": [*verdict(0.95), pl.Series("sha256", [f"{rng.getrandbits(128):032x}" for _ in range(n)]),
                            pl.lit(640).alias("width"), pl.lit(360).alias("height"),
                            pl.Series("size_bytes", [rng.randrange(10**6, 10**8) for _ in range(n)])],
            "dynamism_screen": [*verdict(0.3), pl.Series("duration_s", [float(rng.randrange(60, 1200)) for _ in range(n)]),
                                pl.format("file:///media/{}.mp4", "video_id").alias("media_uri"),
                                pl.lit(30.0).alias("fps"), pl.lit([12.5, 40.0, 95.2]).alias("scene_cuts_s"),
                                pl.lit("keyframes").alias("decode_mode")],
            "taxonomy_labels": [*verdict(0.95), pl.Series("category_path", [rng.choice(leaves) for _ in range(n)]),
                                pl.Series("confidence", [rng.random() for _ in range(n)]),
                                pl.Series("margin", [rng.random() / 4 for _ in range(n)]),
                                pl.lit("bench").alias("taxonomy_version")],
        }
        for name, cols in stages.items():
            folder = data / name
            folder.mkdir(parents=True, exist_ok=True)
            frame = ids.with_columns(*cols, *contract)
            frame.write_parquet(folder / p.name)
        labelled.append(frame.filter("kept").select("record_id", "kept", "reason", "parent_ids", "models"))
    return pl.concat(labelled)


def judge_duplicates(labelled: pl.DataFrame, data: Path) -> None:
    """`video_duplicates` as its run leaves it once it has judged `labelled` (every one kept), added to
    the table already there: it reads every shard, so it runs on the release schedule."""
    dupes = data / "video_duplicates.parquet"
    pl.concat([*([pl.read_parquet(dupes)] if dupes.exists() else []), labelled]).write_parquet(dupes)


def settle() -> None:
    """Flush what the generators just wrote before a figure is timed: at 2,000 shards the document
    stubs alone are 2 GB, and their writeback ran under the next reads (the release's Q/A read took
    8.7-10.6 s there against 4.4 s alone)."""
    os.sync()


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def instance_at(home: Path) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(home))


def disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def record_refresh(instance: dg.DagsterInstance, shards: list[str], assets: tuple[str, ...] | list[str] = PER_SHARD
                   ) -> None:
    """The materializations a full refresh records: every per-shard asset of every shard."""
    for asset in assets:
        for k in shards:
            instance.report_runless_asset_event(dg.AssetMaterialization(
                asset, partition=k, tags={"dagster/data_version": f"{asset}:{k}"}))


def per_shard_latest(instance: dg.DagsterInstance, pairs: list[tuple[str, str]]) -> int:
    """The lookup as it was: one query per (asset, shard)."""
    found = 0
    for asset, shard in pairs:
        flt = dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[shard])
        found += len(instance.fetch_materializations(flt, limit=1).records)
    return found


def _parent(i: pl.Expr, n: int) -> pl.Expr:
    """A parent row for row `i`, scattered over the table: parents do not follow record-id order
    in a real index, and correlated ones would let the children scan skip row groups it cannot."""
    return (i.cast(pl.UInt64) * 2654435761 + 12345) % n


def audit_latency(folder: Path, n_rows: int) -> dict[str, float]:
    """Median seconds of a point lookup (unsorted, sorted by record_id) and a children scan."""
    rng = random.Random(1)
    ids = pl.Series("record_id", [f"yt:s{i // 1000:05d}:v{i:08d}:{i % 1000}" for i in range(n_rows)])
    table = pl.DataFrame({"record_id": ids}).with_columns(
        pl.lit("screen").alias("asset"), pl.lit(True).alias("kept"),
        pl.concat_list(pl.col("record_id").gather(_parent(pl.int_range(0, n_rows), n_rows))).alias("parent_ids"))
    shuffled = table.sample(fraction=1.0, shuffle=True, seed=2)
    unsorted, ordered = folder / "unsorted.parquet", folder / "sorted.parquet"
    shuffled.write_parquet(unsorted, row_group_size=100_000)
    shuffled.sort("record_id").write_parquet(ordered, row_group_size=100_000)
    edges = folder / "edges.parquet"
    table.select(pl.col("parent_ids").alias("parent_id"), "record_id").explode("parent_id").sort(
        "parent_id").write_parquet(edges, row_group_size=100_000)
    probes = [ids[rng.randrange(n_rows)] for _ in range(LOOKUPS)]
    con = duckdb.connect()
    out = {}
    for name, path, sql in (
        ("lookup_unsorted", unsorted, "SELECT * FROM read_parquet(?) WHERE record_id = ?"),
        ("lookup_sorted", ordered, "SELECT * FROM read_parquet(?) WHERE record_id = ?"),
        ("children_scan", ordered, "SELECT record_id FROM read_parquet(?) WHERE list_contains(parent_ids, ?)"),
        ("children_edges", edges, "SELECT record_id FROM read_parquet(?) WHERE parent_id = ?"),
    ):
        times = []
        for rid in probes[: 5 if name == "children_scan" else LOOKUPS]:
            t, rows = timed(lambda rid=rid, sql=sql, path=path: con.execute(sql, [str(path), rid]).fetchall())
            assert rows, f"{name}: {rid} not found"
            times.append(t)
        out[name] = sorted(times)[len(times) // 2]
    return out


def big_audit(rows: int, folder: Path, chunk: int = 10_000_000) -> dict[str, float]:
    """Point lookup and children scan at `rows` provenance rows (100M: the issue's goal), written in
    record-id order chunk by chunk (a sorted 100M-row frame would not fit in memory at once)."""
    import pyarrow.parquet as pq

    path = folder / "provenance_big.parquet"
    writer = None
    for start in range(0, rows, chunk):
        ids = pl.int_range(start, min(start + chunk, rows), eager=True)
        part = pl.DataFrame({"i": ids}).select(
            pl.format("yt:s{}:v{}", (pl.col("i") // 1000).cast(pl.String).str.zfill(6),
                      pl.col("i").cast(pl.String).str.zfill(10)).alias("record_id"),
            pl.lit("screen").alias("asset"), pl.lit(True).alias("kept"),
            pl.concat_list(pl.format("yt:s{}:v{}", (_parent(pl.col("i"), rows) // 1000).cast(pl.String).str.zfill(6),
                                     _parent(pl.col("i"), rows).cast(pl.String).str.zfill(10))).alias("parent_ids")
        ).to_arrow()
        writer = writer or pq.ParquetWriter(path, part.schema)
        writer.write_table(part, row_group_size=262_144)
    writer.close()
    edges, writer = folder / "edges_big.parquet", None
    inverse = pow(2654435761, -1, rows)  # child of parent p: the row whose _parent is p
    for start in range(0, rows, chunk):
        p = pl.int_range(start, min(start + chunk, rows), eager=True).cast(pl.UInt64)
        part = pl.DataFrame({"p": p}).select(
            pl.format("yt:s{}:v{}", (pl.col("p") // 1000).cast(pl.String).str.zfill(6),
                      pl.col("p").cast(pl.String).str.zfill(10)).alias("parent_id"),
            ((pl.col("p").cast(pl.Int64) - 12345) % rows * inverse % rows).alias("child")).with_columns(
            pl.format("yt:s{}:v{}", (pl.col("child") // 1000).cast(pl.String).str.zfill(6),
                      pl.col("child").cast(pl.String).str.zfill(10)).alias("record_id")).drop("child").to_arrow()
        writer = writer or pq.ParquetWriter(edges, part.schema)
        writer.write_table(part, row_group_size=262_144)
    writer.close()
    rng = random.Random(3)
    probes = [f"yt:s{(i // 1000):06d}:v{i:010d}" for i in (rng.randrange(1, rows) for _ in range(LOOKUPS))]
    con = duckdb.connect()
    lookups = []
    for rid in probes:
        t, got = timed(lambda rid=rid: con.execute("SELECT * FROM read_parquet(?) WHERE record_id = ?",
                                                   [str(path), rid]).fetchall())
        assert len(got) == 1
        lookups.append(t)
    scan, scanned = timed(lambda: con.execute("SELECT record_id FROM read_parquet(?) WHERE list_contains(parent_ids, ?)",
                                              [str(path), probes[0]]).fetchall())
    looked = []
    for rid in probes:
        t, got = timed(lambda rid=rid: con.execute("SELECT record_id FROM read_parquet(?) WHERE parent_id = ?",
                                                   [str(edges), rid]).fetchall())
        looked.append(t)
        if rid == probes[0]:
            assert sorted(got) == sorted(scanned), "the edge table disagrees with the scan"
    return {"rows": rows, "file_mb": path.stat().st_size / 2**20, "lookup_median_s": sorted(lookups)[LOOKUPS // 2],
            "lookup_max_s": max(lookups), "children_scan_s": scan,
            "children_edges_median_s": sorted(looked)[LOOKUPS // 2], "children_edges_max_s": max(looked)}


def whole_audit(data: Path, raw_folder: Path, probes: int = 5) -> float:
    """Median seconds of `make audit`'s walk of one landed record, over the warehouse the fan-in
    steps left: its index rows, its row in every stage it passed (each read from that stage's
    view over every shard's file), its children."""
    from assets.quality.audit import audit
    from resources.settings import load_settings
    from resources.warehouse import Warehouse

    files = sorted(raw_folder.glob("*.parquet"))
    rng = random.Random(4)
    ids = [pl.read_parquet(rng.choice(files), columns=["record_id"])["record_id"][rng.randrange(100)]
           for _ in range(probes)]
    warehouse = Warehouse(database=load_settings({"MMFOUNDRY_DATA": str(data)}).warehouse_path, data_root=str(data))
    times = []
    with warehouse.read_connection(["provenance_index", "provenance_edges"]) as con:
        for rid in ids:
            t, found = timed(lambda rid=rid: audit(con, rid))
            assert found is not None and len(found.stages) >= 6, f"{rid}: the audit lost its stages"
            times.append(t)
    return sorted(times)[len(times) // 2]


def orchestrate(tmp: Path, landing: Path, source: int, per_shard: list[str] | tuple[str, ...], group: list,
                root: str, land_late, prefix: str = "") -> tuple[dg.DagsterInstance, dict[str, float]]:
    """What the orchestrator pays for one kind of shard: the landing sensor's first tick (hash every
    shard, register the partitions, request a run per shard) and a steady tick, the materializations
    a full refresh of the per-shard assets records, the instance's size, and the group's automation
    evaluation, steady and after one new shard (`land_late` lands it; its root `root` is then
    materialized, and what automation requests is the incremental refresh's steps)."""
    from resources.deployment import build_resources
    from resources.landing import LandingZone
    from resources.settings import RELEASE_CRON_DEFAULTS
    from sensors.automation import apply_policy
    from sensors.landing import SHARD_SOURCES, build_landing_sensor

    src = SHARD_SOURCES[source]
    out: dict[str, float] = {}
    instance = instance_at(tmp / "home")
    zone = LandingZone(root=str(landing))
    sensor = build_landing_sensor(src, dg.AssetSelection.assets(*per_shard))

    def tick(cursor):
        return sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": zone}))

    out[f"{prefix}sensor_first_tick_s"], first = timed(lambda: tick(None))
    for req in first.dynamic_partitions_requests:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    out[f"{prefix}runs_first_tick"] = len(first.run_requests)
    out[f"{prefix}sensor_steady_tick_s"], _ = timed(lambda: tick(first.cursor))
    shards = instance.get_dynamic_partitions(src.partitions_def.name)
    out[f"{prefix}record_refresh_s"], _ = timed(lambda: record_refresh(instance, shards, per_shard))
    out[f"{prefix}instance_mb"] = disk_mb(tmp / "home")
    assets, _ = apply_policy(group, RELEASE_CRON_DEFAULTS["prod"])
    defs = dg.Definitions(assets=assets, resources=build_resources())
    graph = defs.resolve_asset_graph()
    out[f"{prefix}automation_tick_s"], (_, cursor) = timed(lambda: daemon_tick(instance, graph, None, 1))
    out[f"{prefix}automation_tester_tick_s"], result = timed(
        lambda: dg.evaluate_automation_conditions(defs=defs, instance=instance))
    land_late()
    instance.add_dynamic_partitions(src.partitions_def.name, ["late"])
    instance.report_runless_asset_event(dg.AssetMaterialization(
        root, partition="late", tags={"dagster/data_version": "late"}))
    out[f"{prefix}automation_incremental_s"], (requests, _) = timed(lambda: daemon_tick(instance, graph, cursor, 2))
    out[f"{prefix}automation_tester_incremental_s"], inc = timed(
        lambda: dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor))
    steps = sum(len(r.asset_selection or ()) for r in requests)
    assert steps == sum(r.true_subset.size for r in inc.results), "the daemon's tick and the tester disagree"
    out[f"{prefix}steps_incremental"] = steps
    return instance, out


def daemon_tick(instance: dg.DagsterInstance, graph, cursor, evaluation_id: int):
    """One automation tick as the asset daemon runs it for an automation sensor
    (`AutomationTickEvaluationContext`, what dagster/_daemon/asset_daemon.py calls; Dagster-internal),
    with the evaluations it stores and the cursor it serializes; launching the runs is left out.
    Dagster's test helper `evaluate_automation_conditions` builds its cursor against the instance
    uncached, one query of every dynamic partition per condition node: 4-5 s a tick at 2,000
    shards against the daemon's 0.3-0.5 s (timed beside it as `automation_tester_*`).
    Returns (run requests, new cursor)."""
    import logging

    from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor
    from dagster._core.definitions.automation_tick_evaluation_context import AutomationTickEvaluationContext
    from dagster._core.definitions.partitions.context import partition_loading_context
    from dagster._daemon.asset_daemon import asset_daemon_cursor_to_instigator_serialized_cursor

    context = AutomationTickEvaluationContext(
        evaluation_id=evaluation_id, instance=instance, asset_graph=graph,
        cursor=cursor or AssetDaemonCursor.empty(), materialize_run_tags={}, observe_run_tags={},
        auto_observe_asset_keys=set(), asset_selection=dg.AssetSelection.all(),
        logger=logging.getLogger("bench_scale"), emit_backfills=False)
    requests, new_cursor, evaluations = context.evaluate()
    with partition_loading_context(effective_dt=datetime.datetime.now(datetime.UTC), dynamic_partitions_store=instance):
        instance.schedule_storage.add_auto_materialize_asset_evaluations(
            evaluation_id, [e.with_run_ids(set()) for e in evaluations])
    asset_daemon_cursor_to_instigator_serialized_cursor(new_cursor)
    return requests, new_cursor


def measure(n: int, rows: int, tmp: Path) -> dict[str, float]:
    from assets.finevideo.definitions import ASSETS
    from assets.finevideo.youtube_commons import normalise, read_shard
    from assets.quality.provenance_assets import latest_runs
    from resources.warehouse import ensure_views, source_globs, try_register_asset_view

    landing, data = tmp / "landing", tmp / "data"
    write_shards(landing / "youtube_commons", n, rows)
    settle()

    def land_late():
        write_shards(landing / "youtube_commons" / "late", 1, rows, seed=9)
        (landing / "youtube_commons" / "late" / "shard-00000.parquet").rename(
            landing / "youtube_commons" / "late.parquet")
        (landing / "youtube_commons" / "late").rmdir()

    instance, out = orchestrate(tmp, landing, 0, PER_SHARD, ASSETS, "raw_video_metadata", land_late)
    shards = [k for k in instance.get_dynamic_partitions("video_shards") if k != "late"]  # the full refresh

    folder = data / "raw_video_metadata"
    folder.mkdir(parents=True)
    raw = {p.stem: folder / p.name for p in sorted((landing / "youtube_commons").glob("*.parquet"))}
    for stem, target in raw.items():
        p = landing / "youtube_commons" / target.name
        normalise(read_shard(p), stem, str(p), "sha").write_parquet(target)
    late = folder / "late.parquet"
    late.rename(tmp / "late.parquet")  # lands after the full refresh
    settle()
    fan = json.loads(subprocess.run([sys.executable, "-c", FAN_IN, str(folder)], cwd=ROOT, check=True,
                                    capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}).stdout)
    out["fan_in_s"], out["fan_in_peak_mb"] = fan["seconds"], fan["peak_mb"]
    judge_duplicates(write_stages([f for k, f in raw.items() if k != "late"], data), data)
    settle()
    env = {"PYTHONPATH": str(ROOT), "MMFOUNDRY_DATA": str(data), "MMFOUNDRY_LANDING": str(landing),
           "MMFOUNDRY_CACHE": str(tmp / "cache"), "OMP_NUM_THREADS": "1", "PATH": os.environ.get("PATH", "")}

    def steps(suffix: str, assets: tuple[str, ...] = FAN_INS) -> None:
        for asset in assets:
            done = subprocess.run([sys.executable, "-c", STEP, str(tmp / "home"), asset], cwd=ROOT,
                                  capture_output=True, text=True, env=env)
            if done.returncode:
                raise RuntimeError(f"{asset} at {n} shards failed:\n{done.stderr[-4000:]}")
            step = json.loads(done.stdout.splitlines()[-1])
            assert step["success"], f"{asset} failed"
            out[f"{asset}{suffix}_s"], out[f"{asset}{suffix}_peak_mb"] = step["seconds"], step["peak_mb"]
            out[f"{asset}{suffix}_rows"] = step["rows"]
            if step["shards_read"] is not None:
                out[f"{asset}{suffix}_shards_read"] = step["shards_read"]

    steps("")
    picked_before = selected(data)
    # one new shard, as its 4 shard steps leave it: their views, then the index and the edges
    late.parent.mkdir(exist_ok=True)
    (tmp / "late.parquet").rename(late)
    late_labels = write_stages([late], data, seed=9)
    wh, globs = str(data / "warehouse.duckdb"), source_globs(str(data), [[a] for a in PER_SHARD])
    # each shard step registers its view after writing (resources/storage.py)
    out["views_incremental_s"], created = timed(lambda: [n for v, g in globs.items() for n in ensure_views(wh, {v: g})])
    assert created == [], f"views re-created after one new shard: {created}"
    out["views_recreated_s"], _ = timed(lambda: recreate_views(wh, globs))
    steps("_incremental", PER_SHARD_FAN_INS)
    # the release schedule's next tick: the duplicate screen takes the shard, the selection re-ranks
    judge_duplicates(late_labels, data)
    steps("_release")
    out["selection_churn"] = 1 - len(selected(data) & picked_before) / max(len(picked_before), 1)
    out["audit_end_to_end_s"] = whole_audit(data, folder)
    records = (n + 1) * rows
    out["storage_mb_per_m_records"] = disk_mb(data) / records * 1e6
    out["instance_mb_per_m_records"] = out["instance_mb"] / (n * rows) * 1e6

    pairs = [(a, k) for a in PER_SHARD for k in shards]
    index = pl.DataFrame(pairs, schema={"asset": pl.String, "shard": pl.String}, orient="row")
    out["provenance_per_shard_s"], _ = timed(lambda: per_shard_latest(instance, pairs))
    out["provenance_batched_s"], _ = timed(lambda: latest_runs(instance, index))

    out.update({f"audit_{k}_s": v for k, v in audit_latency(tmp, n * rows * 3).items()})
    db = str(tmp / "warehouse.duckdb")

    def warehouse() -> int:
        try_register_asset_view(db, ["raw_video_metadata"], f"{folder}/*.parquet")
        with duckdb.connect(db, read_only=True) as con:
            return con.execute("SELECT count(*) FROM raw_video_metadata").fetchone()[0]

    out["warehouse_s"], counted = timed(warehouse)
    assert counted == (n + 1) * rows
    # what one new shard's refresh pays beyond its own 4 shard steps: the automation tick, its views,
    # the index and the edges; the pool-wide fan-ins wait for the release schedule, whose tick pays
    # the selection over every candidate and the index and edges again
    out["incremental_refresh_s"] = sum(out[k] for k in ("automation_incremental_s", "views_incremental_s",
                                                          *(f"{a}_incremental_s" for a in PER_SHARD_FAN_INS)))
    out["release_refresh_s"] = sum(out[f"{a}_release_s"] for a in FAN_INS)
    return out


def selected(data: Path) -> set[str]:
    return set(pl.read_parquet(data / "curated_selection.parquet", columns=["record_id", "kept"])
               .filter("kept")["record_id"])


def recreate_views(db: str, globs: dict[str, str]) -> None:
    """What every shard step did before after writing: `CREATE OR REPLACE` its view."""
    from resources.warehouse import view_sql

    for name, glob in globs.items():
        with duckdb.connect(db) as con:
            con.execute(view_sql(name, glob))


def write_documents(landing: Path, data: Path, n: int, docs: int, qa_per_doc: float, seed: int = 0) -> None:
    """`n` PDFA shard folders of one tar of `docs` PDF-shaped stubs each (the sensor reads bytes, not
    PDFs), and each shard's `filtered_qa` as its step would leave it: Docmatix's 9.5M Q/A over
    1.3M documents is about 7.3 pairs a document."""
    import io
    import tarfile

    rng = random.Random(seed)
    pairs = max(docs, round(docs * qa_per_doc))
    for s in range(n):
        key = f"shard-{s:05d}"
        folder = landing / "pdfa" / key
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(folder / "docs.tar", "w") as tar:
            for d in range(docs):
                body = f"%PDF-1.4\n% {key} document {d} {rng.getrandbits(64):016x}\n".encode() + b"x" * 1500
                info = tarfile.TarInfo(f"{d:06d}.pdf")
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
        i = pl.int_range(0, pairs, eager=True)
        doc = i * docs // pairs
        qa = pl.DataFrame({"i": i}).select(
            pl.format("docmatix:{}:{}:{}", pl.lit(key), doc, i).alias("record_id"),
            pl.format("doc:{}:{}", pl.lit(key), doc).alias("document_id"), pl.lit(key).alias("shard"),
            (i % 10 != 0).alias("kept"),
            pl.format("What does section {} of the report say about item {}?", i % 17, i).alias("question"),
            pl.format("It states that the quarterly figure for item {} rose by {} percent.", i, i % 23).alias("answer"))
        (data / "filtered_qa").mkdir(parents=True, exist_ok=True)
        qa.write_parquet(data / "filtered_qa" / f"{key}.parquet")


def measure_documents(n: int, docs: int, qa_per_doc: float, tmp: Path) -> dict[str, float]:
    """The document side at `n` shards of `docs` documents: the landing sensor's ticks, the
    materializations of the per-shard docmatix assets, automation, and the release's Q/A read."""
    from assets.docmatix.definitions import ASSETS
    from assets.kit.partitions import document_shards

    per_shard = [k.path[-1] for a in ASSETS if a.partitions_def == document_shards for k in a.keys]
    landing, data = tmp / "landing", tmp / "data"
    write_documents(landing, data, n, docs, qa_per_doc)
    settle()
    _, out = orchestrate(tmp, landing, 1, per_shard, ASSETS, "documents", lambda: None, prefix="docs_")
    fan = json.loads(subprocess.run([sys.executable, "-c", FAN_IN, str(data / "filtered_qa"), "kept"], cwd=ROOT, check=True,
                                    capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}).stdout)
    out["docs_release_qa_read_s"], out["docs_release_qa_peak_mb"] = fan["seconds"], fan["peak_mb"]
    out["docs_release_qa_rows"] = fan["rows"]
    return out


def main(argv: list[str] | None = None) -> None:
    from scripts.demo import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 2000])
    parser.add_argument("--rows", type=int, default=1000, help="rows per shard")
    parser.add_argument("--docs", type=int, default=650,
                        help="documents per document shard (650: Docmatix's 1.3M PDFs over 2,000 shards)")
    parser.add_argument("--qa-per-doc", type=float, default=7.3, help="Q/A pairs per document (Docmatix: 9.5M / 1.3M)")
    parser.add_argument("--audit-rows", type=int, default=0,
                        help="also time the audit's lookups at this many provenance rows (100000000: the goal)")
    args = parser.parse_args(argv if argv is not None else [])
    if args.audit_rows:
        with tempfile.TemporaryDirectory(prefix="mmf-audit-", dir=str(ROOT / ".data") if (ROOT / ".data").is_dir()
                                         else None) as tmp:
            big = big_audit(args.audit_rows, Path(tmp))
        print("audit at scale: " + ", ".join(f"{k} {v:.4g}" for k, v in big.items()), flush=True)
    results = {}
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="mmf-scale-") as tmp:
            start = time.perf_counter()
            results[n] = measure(n, args.rows, Path(tmp) / "videos")
            results[n].update(measure_documents(n, args.docs, args.qa_per_doc, Path(tmp) / "documents"))
        print(f"  {n} shards: {time.perf_counter() - start:.0f} s", flush=True)
    figures = list(next(iter(results.values())))
    growth = 100 in results and 2000 in results
    header = ("figure", *(f"{n} shards" for n in args.sizes), *(["100 -> 2,000"] if growth else []))
    rows = []
    for f in figures:
        cells = [f"{results[n][f]:.4g}" for n in args.sizes]
        if growth:
            ratio = results[2000][f] / results[100][f] if results[100][f] else float("nan")
            cells.append(f"{ratio:.1f}x")
        rows.append((f, *cells))
    print_table(header, rows)


if __name__ == "__main__":
    main(sys.argv[1:])
