"""How the parts that grow with shards and records behave at 10, 100, 1,000 and 2,000 video shards.

No media: metadata-only YouTube-Commons shards (`--rows` rows each, 1,000 by default, so 2,000
shards are 2M rows), and materializations recorded as a full refresh would record them (runless
events with data versions) for the six per-shard FineVideo assets. Measured per size:

- sensor: the landing sensor's first tick (hash every shard, register the partitions, request a run
  per shard) and a steady tick (nothing changed);
- automation: one evaluation of the FineVideo group's conditions after the full refresh, and after
  one new shard lands (what it requests is the incremental refresh's steps);
- instance: the SQLite instance's size on disk after the refresh;
- fan-in: reading every shard's `raw_video_metadata` and concatenating them, time and peak memory
  (VmHWM) in a fresh process;
- provenance: the latest materialization of every (asset, shard), per shard (one query each, as
  before) and batched (two queries per asset, now);
- audit: a point lookup of one record id in a provenance-shaped table of 3 rows per landed row,
  unsorted and sorted by `record_id` (DuckDB skips row groups by their min/max only when sorted),
  the children scan (`list_contains(parent_ids, ?)`), which no order helps, and the same question
  put to a parent-id-ordered edge table (`provenance_edges`, what the audit reads now);
- warehouse: registering the DuckDB view over every shard's file and counting its rows.

The last column is the growth from 100 to 2,000 shards (20x the shards; near-linear is <= 25x).
`python -m bench.bench_scale --sizes 10 100 --rows 200` runs a quick subset.
"""

from __future__ import annotations

import argparse
import json
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
FAN_IN = """
import sys, time, json
from pathlib import Path
import polars as pl
from assets.kit.shard_frames import concat_shards
from tests.fakes.bombs import peak_rss_mb
start = time.perf_counter()
frames = {p.stem: pl.read_parquet(p) for p in sorted(Path(sys.argv[1]).glob("*.parquet"))}
df = concat_shards(frames)
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
        }).write_parquet(folder / f"shard-{s:05d}.parquet")


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


def record_refresh(instance: dg.DagsterInstance, shards: list[str]) -> None:
    """The materializations a full refresh records: every per-shard asset of every shard."""
    for asset in PER_SHARD:
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


def measure(n: int, rows: int, tmp: Path) -> dict[str, float]:
    from assets.finevideo.definitions import ASSETS
    from assets.finevideo.youtube_commons import normalise, read_shard
    from assets.quality.provenance_assets import latest_runs
    from resources.deployment import build_resources
    from resources.landing import LandingZone
    from resources.warehouse import try_register_asset_view
    from sensors.automation import apply_policy
    from sensors.landing import SHARD_SOURCES, build_landing_sensor

    out: dict[str, float] = {}
    landing, data = tmp / "landing", tmp / "data"
    write_shards(landing / "youtube_commons", n, rows)
    instance = instance_at(tmp / "home")
    zone = LandingZone(root=str(landing))
    sensor = build_landing_sensor(SHARD_SOURCES[0], dg.AssetSelection.assets(*PER_SHARD))

    def tick(cursor):
        return sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": zone}))

    out["sensor_first_tick_s"], first = timed(lambda: tick(None))
    for req in first.dynamic_partitions_requests:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    out["runs_first_tick"] = len(first.run_requests)
    out["sensor_steady_tick_s"], _ = timed(lambda: tick(first.cursor))
    shards = instance.get_dynamic_partitions("video_shards")
    out["record_refresh_s"], _ = timed(lambda: record_refresh(instance, shards))
    out["instance_mb"] = disk_mb(tmp / "home")

    assets, _ = apply_policy(ASSETS)
    defs = dg.Definitions(assets=assets, resources=build_resources())
    out["automation_tick_s"], result = timed(lambda: dg.evaluate_automation_conditions(defs=defs, instance=instance))
    write_shards(landing / "youtube_commons" / "late", 1, rows, seed=9)
    (landing / "youtube_commons" / "late" / "shard-00000.parquet").rename(landing / "youtube_commons" / "late.parquet")
    (landing / "youtube_commons" / "late").rmdir()
    instance.add_dynamic_partitions("video_shards", ["late"])
    instance.report_runless_asset_event(dg.AssetMaterialization(
        "raw_video_metadata", partition="late", tags={"dagster/data_version": "late"}))
    out["automation_incremental_s"], inc = timed(
        lambda: dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor))
    out["steps_incremental"] = sum(r.true_subset.size for r in inc.results)

    folder = data / "raw_video_metadata"
    folder.mkdir(parents=True)
    for p in sorted((landing / "youtube_commons").glob("*.parquet")):
        normalise(read_shard(p), p.stem, str(p), "sha").write_parquet(folder / p.name)
    fan = json.loads(subprocess.run([sys.executable, "-c", FAN_IN, str(folder)], cwd=ROOT, check=True,
                                    capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}).stdout)
    out["fan_in_s"], out["fan_in_peak_mb"] = fan["seconds"], fan["peak_mb"]

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
    return out


def main(argv: list[str] | None = None) -> None:
    from scripts.demo import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 2000])
    parser.add_argument("--rows", type=int, default=1000, help="rows per shard")
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
            results[n] = measure(n, args.rows, Path(tmp))
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
