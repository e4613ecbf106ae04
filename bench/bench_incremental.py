"""Incremental refresh, measured: N shards, then shard N+1 lands.

On the tiny sample corpus, every group (training in its fast profile: the quality reports read its
results; new data never retrains it, a person does): the last video shard and the last document
shard are held back, the graph is built in full on the others, then the held-back shards land. The refresh is what
production does without a person: one tick of each landing sensor (a partition add and one run
per new shard) and then automation ticks (`evaluate_automation_conditions`) until nothing more is
requested, each request executed as a run. Finally a from-scratch build of all N+1 shards on an
empty storage root says how many model calls the whole data needs.

Printed per phase: runs, steps (asset materializations), the steps that touched an old shard's
partition, and model calls (offline backend: every uncached Task answer is a call) and cache hits.
Target: the refresh runs only the new shards' partitions plus fan-ins, and
full(N) + refresh == full(N+1) in model calls (no call repeated for old data).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from definitions import GROUPS as ALL_GROUPS

GROUPS = ALL_GROUPS
HELD = {"youtube_commons": "shard-002.parquet", "pdfa": "shard-002"}


@dataclass
class Phase:
    runs: int = 0
    steps: int = 0
    old_partition_steps: int = 0
    calls: int = 0
    cache_hits: int = 0
    seconds: float = 0.0
    ran: Counter = field(default_factory=Counter)  # asset -> steps


def _record(phase: Phase, result, old_keys: set[str]) -> None:
    phase.runs += 1
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        phase.steps += 1
        phase.ran[mat.asset_key.to_user_string()] += 1
        if mat.partition in old_keys:
            phase.old_partition_steps += 1
        meta = mat.metadata
        phase.calls += int(meta["model_calls"].value) if "model_calls" in meta else 0
        phase.cache_hits += int(meta["cache_hits"].value) if "cache_hits" in meta else 0


def _env(root: Path, landing: Path) -> None:
    os.environ.update({"MMFOUNDRY_DEPLOYMENT": "local", "MMFOUNDRY_DATA": str(root / "data"),
                       "MMFOUNDRY_LANDING": str(landing)})
    for var in ("MMFOUNDRY_WAREHOUSE", "MMFOUNDRY_CACHE"):
        os.environ.pop(var, None)


def _selection(defs):
    graph = defs.resolve_asset_graph()
    return [k for k in graph.materializable_asset_keys if graph.get(k).group_name in GROUPS]


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _full_build(defs, instance, phase: Phase) -> None:
    from scripts.materialize import plan_blocks
    from scripts.shards import register_landed_shards

    register_landed_shards(defs, instance)
    job = defs.resolve_implicit_global_asset_job_def()
    for pdef, block in plan_blocks(defs, _selection(defs)):
        keys = [None] if pdef is None else pdef.get_partition_keys(dynamic_partitions_store=instance)
        for key in keys:
            res = job.execute_in_process(instance=instance, asset_selection=block, partition_key=key,
                                         run_config=QUIET, raise_on_error=True)
            _record(phase, res, set())


def _refresh(defs, instance, phase: Phase, old_keys: set[str]) -> list[str]:
    """Landing sensor ticks, then automation ticks until quiet; returns what each tick requested."""
    import dagster as dg

    from sensors.landing import SHARD_SOURCES

    job = defs.resolve_implicit_global_asset_job_def()
    graph = defs.resolve_asset_graph()
    chosen = dg.AssetSelection.assets(*_selection(defs))
    # the automation cursor as it stood after the full build (nothing is requested on this tick)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=chosen)
    log = [f"after the full build: {tick.total_requested} requested"]
    landing = defs.resources["landing"]
    for source in SHARD_SOURCES:
        sensor = defs.get_sensor_def(source.sensor_name)
        result = sensor(dg.build_sensor_context(instance=instance, resources={"landing": landing}))
        for req in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
        targets = list(sensor.asset_selection.resolve(graph))
        for req in result.run_requests or []:
            res = job.execute_in_process(instance=instance, asset_selection=targets,
                                         partition_key=req.partition_key, tags=req.tags, run_config=QUIET,
                                         raise_on_error=True)
            _record(phase, res, old_keys)
        log.append(f"{source.sensor_name}: {len(result.run_requests or [])} run(s) for "
                   f"{', '.join(r.partition_key for r in result.run_requests or [])}")
    for _ in range(10):
        tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=chosen,
                                                 cursor=tick.cursor)
        by_partition: dict[str | None, list] = {}
        for r in tick.results:
            subset = r.true_subset
            if not subset.size:
                continue
            keys = subset.expensively_compute_partition_keys() if subset.is_partitioned else [None]
            for k in keys:
                by_partition.setdefault(k, []).append(r.key)
        if not by_partition:
            log.append("automation: nothing more requested")
            break
        log.append("automation: " + "; ".join(
            f"{', '.join(a.to_user_string() for a in assets)}" + (f" [{k}]" if k else "")
            for k, assets in by_partition.items()))
        for key, assets in by_partition.items():
            res = job.execute_in_process(instance=instance, asset_selection=assets, partition_key=key,
                                         run_config=QUIET, raise_on_error=True)
            _record(phase, res, old_keys)
    return log


def _instance(home: Path):
    import dagster as dg

    home.mkdir()
    return dg.instance_for_test(temp_dir=str(home))


def _timed(fn, defs, instance) -> Phase:
    phase, start = Phase(), time.perf_counter()
    fn(defs, instance, phase)
    phase.seconds = time.perf_counter() - start
    return phase


@dataclass
class Measured:
    full: Phase
    refresh: Phase
    scratch: Phase | None
    log: list[str]
    shards_before: dict[str, int]
    held_keys: dict[str, str]
    indexed_new: int  # provenance_index rows of the landed shards after the refresh settled
    index_warning: str | None  # what `make audit` would say about the index's freshness


def measure(root: Path, scratch: bool = True, size: str = "tiny") -> Measured:
    """Build N shards, land shard N+1 and let the sensors and automation settle; optionally build
    N+1 shards from scratch. Everything is written under `root` (the refreshed deployment's data
    root is `root / "incremental" / "data"`)."""
    from assets.quality.audit_job import index_freshness
    from corpus.build import build_corpus

    corpus = root / "corpus"
    build_corpus(corpus, seed=0, size=size)
    landing, held = root / "landing", root / "held"
    shutil.copytree(corpus, landing)
    for folder, name in HELD.items():
        (held / folder).mkdir(parents=True)
        shutil.move(landing / folder / name, held / folder / name)
    saved = dict(os.environ)
    try:
        _env(root / "incremental", landing)
        from definitions import build_definitions

        defs = build_definitions()
        with _instance(root / "dagster_home") as instance:
            full = _timed(_full_build, defs, instance)
            before = {name: set(instance.get_dynamic_partitions(name)) for name in ("video_shards", "document_shards")}
            old_keys = set().union(*before.values())
            for folder, name in HELD.items():
                shutil.move(held / folder / name, landing / folder / name)
            log: list[str] = []
            refresh = _timed(lambda d, i, p: log.extend(_refresh(d, i, p, old_keys)), defs, instance)
            new = {name: sorted(set(instance.get_dynamic_partitions(name)) - before[name]) for name in before}
            held_keys = {name: ", ".join(keys) for name, keys in new.items()}
            indexed_new = _indexed(root / "incremental" / "data" / "warehouse.duckdb", [k for v in new.values() for k in v])
            index_warning = index_freshness(instance).warning()
        scratch_phase = None
        if scratch:
            _env(root / "scratch", landing)
            with _instance(root / "dagster_home_scratch") as instance:
                scratch_phase = _timed(_full_build, build_definitions(), instance)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Measured(full, refresh, scratch_phase, log, {k: len(v) for k, v in before.items()}, held_keys,
                    indexed_new, index_warning)


def _indexed(warehouse: Path, shards: list[str]) -> int:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT count(*) FROM provenance_index WHERE list_contains(?, shard)",
                           [shards]).fetchone()[0]


def main() -> None:
    from scripts.demo import print_table

    with tempfile.TemporaryDirectory(prefix="mmf-incremental-") as tmp:
        m = measure(Path(tmp))
    full, refresh, scratch = m.full, m.refresh, m.scratch
    rows = [("full build, N shards", full), ("refresh, shard N+1 lands", refresh),
            ("from scratch, N+1 shards", scratch)]
    print(f"tiny corpus, groups {', '.join(GROUPS)}; N = {m.shards_before['video_shards']} video + "
          f"{m.shards_before['document_shards']} document shard(s), then one more of each")
    print("refresh ticks:")
    for line in m.log:
        print(f"  {line}")
    print_table(("phase", "runs", "steps", "old-shard steps", "model calls", "cache hits", "seconds"),
                [(name, str(p.runs), str(p.steps), str(p.old_partition_steps), str(p.calls),
                  str(p.cache_hits), f"{p.seconds:.0f}") for name, p in rows])
    print(f"model calls: full(N) + refresh = {full.calls + refresh.calls}, from scratch(N+1) = {scratch.calls} "
          f"(repeated for old data: {full.calls + refresh.calls - scratch.calls})")
    print("refresh steps per asset: " + ", ".join(f"{a} {n}" for a, n in sorted(refresh.ran.items())))
    print(f"provenance_index after the refresh: {m.indexed_new} row(s) of the new shards "
          f"({m.held_keys['video_shards']}, {m.held_keys['document_shards']}); "
          f"{m.index_warning or 'current (no asset it covers is newer)'}")


if __name__ == "__main__":
    main()
