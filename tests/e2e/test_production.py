"""The production path end to end, on this machine: the instance of deploy/dagster.vm.yaml on
PostgreSQL, data and landing zone on S3 (a moto server over HTTP), every step of every run executed
by two dagster-celery workers (separate process groups, each with its own warehouse file and caches,
as on two hosts) taking tasks from the local RabbitMQ.

The demo's graph (finevideo, cinepile, docmatix and the quality group: SQL models, their checks, the
provenance index) is first built in process from scratch, on every shard (the reference). Then, on
the same bucket paths (emptied), the production path: the first shard of each source is built per
shard; the held-back shards land, the landing sensors add and run them, and an automation tick
refreshes every fan-in and report downstream; `make audit` reads a released record back from the
bucket on a host that ran nothing. Every table the distributed run left in the bucket must equal the
reference's, record for record (rows compared as sorted tuples, floats to 9 digits; left out: the
index's run ids and times and two measured durations). Same paths on both sides, so URIs and the
hashes of prompts that embed them compare too.

Kept short on purpose (the whole suite runs on 2 cores): the fan-ins run once on each side, and the
training group is left out (torch jobs on the same storage and executor path, minutes of CPU).
"""

from __future__ import annotations

import datetime
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from tests.fakes.services import AWS_TEST_ENV, BROKER_URL, celery_workers, moto_s3, postgres_database

pytestmark = [pytest.mark.slow, pytest.mark.services]

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "mmf-prod"
GROUPS = ("finevideo", "cinepile", "docmatix", "quality")
HELD = {"youtube_commons": "shard-002.parquet", "pdfa": "shard-002"}
# what differs by design between two runs of the same data: the run that made a row, when, how long it took
VOLATILE = {"provenance_index": ("run_id", "materialized_at"), "record_audit": ("run_id", "materialized_at"),
            "documents": ("ocr_seconds",),
            "dynamism_screen": ("cpu_s",)}
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _env_key() -> tuple:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("MMFOUNDRY_")))


@functools.cache
def _definitions(env_key: tuple) -> dg.Definitions:
    from definitions import build_definitions
    from resources.deployment import build_executor

    defs = build_definitions()
    if defs.executor is not None:  # definitions.py passes executor=build_executor() itself
        return defs
    return dg.Definitions.merge(defs, dg.Definitions(executor=build_executor()))


def production_definitions() -> dg.Definitions:
    """definitions.py's Definitions with the deployment's executor (`MMFOUNDRY_EXECUTOR`), as the code
    location serves them; the workers rebuild them from here, under the same environment."""
    return _definitions(_env_key())


def _reconstructable_asset_job(defs: dg.Definitions):
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    repo = ReconstructableRepository.for_module(__name__, production_definitions.__name__, working_directory=str(ROOT))
    return repo.get_reconstructable_job(defs.resolve_implicit_global_asset_job_def().name)


def _selection(defs: dg.Definitions) -> list[dg.AssetKey]:
    """The demo's groups but training; the provenance index covers the stages that have data, a SQL
    model needs every input, so the reports over training results are left out with it."""
    graph = defs.resolve_asset_graph()
    training = {k for k in graph.materializable_asset_keys if graph.get(k).group_name == "training"}
    return [k for k in graph.materializable_asset_keys if graph.get(k).group_name in GROUPS
            and (k.to_user_string() == "provenance_index" or not set(graph.get(k).parent_keys) & training)]


def _run(instance, assets: list[dg.AssetKey], partition: str | None, tag: str) -> dg.ExecuteJobResult:
    tags = {"mmfoundry/trigger": tag, **({"dagster/partition": partition} if partition else {})}
    job = _reconstructable_asset_job(production_definitions())
    with dg.execute_job(job, instance=instance, asset_selection=assets,
                        tags=tags, run_config=QUIET, raise_on_error=False) as result:
        if not result.success:
            failures = [e for e in result.all_events if e.is_step_failure]
            detail = "; ".join(f"{e.step_key}: {_root_cause(e.step_failure_data.error)}"
                               for e in failures if e.step_failure_data.error) or "run failed"
            pytest.fail(f"{tag} run of {[a.to_user_string() for a in assets]} [{partition}] failed: {detail}")
        return result


def _root_cause(error) -> str:
    while error.cause is not None:
        error = error.cause
    return error.message.strip()[:400]


def _build(defs, instance, selection) -> int:
    """Everything but the fan-ins and reports over the shards (the landed shards' partitions, the
    taxonomy and question bank they read, the roots): those wait for the refresh, so the test runs
    them once on the distributed side."""
    from scripts.materialize import plan_blocks

    graph = defs.resolve_asset_graph()
    over_shards: set[dg.AssetKey] = set()
    for k in graph.toposorted_asset_keys:
        node = graph.get(k)
        if node.partitions_def is None and any(
                graph.get(p).partitions_def is not None or p in over_shards for p in node.parent_keys):
            over_shards.add(k)
    runs = 0
    for pdef, block in plan_blocks(defs, [k for k in selection if k not in over_shards]):
        for key in [None] if pdef is None else pdef.get_partition_keys(dynamic_partitions_store=instance):
            _run(instance, block, key, "build")
            runs += 1
    return runs


def _refresh(defs, instance, selection) -> list[str]:
    """What production does when shards land: a tick of each landing sensor (partitions added, one
    run per new shard), then an automation tick past the next tick of the release schedule (prod:
    hourly; the pool-wide fan-ins wait for it), whose requests are run: every fan-in and report
    downstream of the new partitions, in one tick (a request counts as new data for its children)."""
    from sensors.landing import SHARD_SOURCES

    graph = defs.resolve_asset_graph()
    chosen = dg.AssetSelection.assets(*selection)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=chosen)
    assert tick.total_requested == 0, "automation requested work before anything landed"
    log = []
    for source in SHARD_SOURCES:
        sensor = defs.get_sensor_def(source.sensor_name)
        result = sensor(dg.build_sensor_context(instance=instance, resources={"landing": defs.resources["landing"]}))
        for req in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
        targets = [k for k in sensor.asset_selection.resolve(graph) if k in set(selection)]
        for req in result.run_requests or []:
            _run(instance, targets, req.partition_key, "landing")
            log.append(f"{source.sensor_name}[{req.partition_key}]")
    past_release = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1, minutes=1)
    tick = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=chosen,
                                             cursor=tick.cursor, evaluation_time=past_release)
    by_partition: dict[str | None, list] = {}
    for r in tick.results:
        if r.true_subset.size:
            keys = r.true_subset.expensively_compute_partition_keys() if r.true_subset.is_partitioned else [None]
            for k in keys:
                by_partition.setdefault(k, []).append(r.key)
    assert list(by_partition) == [None], f"automation asked for partitions again: {by_partition}"
    _run(instance, by_partition[None], None, "automation")
    log.append(f"automation: {len(by_partition[None])} asset(s)")
    return log + _tail_blocked_by_training(defs, instance, selection)


def _steps_by_worker(instance, runs) -> dict[str, int]:
    """Steps per celery worker, from the engine event each worker records when it takes a step; fails
    when a step started that no worker took."""
    from collections import Counter

    taken, started = Counter(), 0
    for run in runs:
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                started += 1
            elif event.event_type == dg.DagsterEventType.ENGINE_EVENT and event.step_key:
                worker = event.engine_event_data.metadata.get("Celery worker")
                if worker is not None:
                    taken[worker.value] += 1
    assert sum(taken.values()) == started, f"{started} steps started, celery workers took {dict(taken)}"
    return dict(taken)


def _tail_blocked_by_training(defs, instance, selection) -> list[str]:
    """Automation refreshes an asset only when none of its parents is missing; the provenance index
    also covers the training stages this test leaves out, so it and the reports over it are run here,
    as automation would once training exists."""
    graph = defs.resolve_asset_graph()
    index = dg.AssetKey("provenance_index")
    downstream = {index}
    for k in graph.toposorted_asset_keys:
        if set(graph.get(k).parent_keys) & downstream:
            downstream.add(k)
    tail = [k for k in graph.toposorted_asset_keys if k in downstream and k in set(selection)]
    _run(instance, tail, None, "index")
    return [f"index and reports: {len(tail)} asset(s)"]


def _tables(warehouse, names: list[str], roots: list[str]) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every table as (columns, sorted rows), storage roots replaced by `<root>` (in nested values
    too), floats to 9 significant digits (DuckDB sums in parallel), volatile columns dropped."""
    out = {}
    with warehouse.read_connection(names) as con:
        present = {r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        present |= {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
        for name in sorted(set(names) & present):
            df = con.sql(f'SELECT * FROM "{name}"').pl().drop(VOLATILE.get(name, ()), strict=False)
            rows = [_normalized(row, roots) for row in df.iter_rows()]
            out[name] = (df.columns, [r for _, r in sorted((repr(r), r) for r in rows)])
    return out


def _normalized(value, roots: list[str]):
    if isinstance(value, str):
        for root in roots:
            value = value.replace(root, "<root>")
        return value
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, tuple):
        return tuple(_normalized(v, roots) for v in value)
    if isinstance(value, list):
        return [_normalized(v, roots) for v in value]
    if isinstance(value, dict):
        return {k: _normalized(v, roots) for k, v in value.items()}
    return value


def _first_difference(a: tuple, b: tuple) -> str:
    """Where two tables first differ: the columns, the row counts, or the fields of the first
    differing row (nested ones by path) with both values."""
    if a[0] != b[0]:
        return f"columns {a[0]} != {b[0]}"
    if len(a[1]) != len(b[1]):
        return f"{len(a[1])} rows != {len(b[1])}"
    rows = [i for i, (x, y) in enumerate(zip(a[1], b[1], strict=True)) if x != y]
    where = ""
    if "asset" in a[0]:  # the provenance index and the views over it: which stages
        col = a[0].index("asset")
        where = f" (assets {sorted({a[1][i][col] for i in rows})})"
    i = rows[0]
    return f"{len(rows)} rows{where}, row {i}: " + "; ".join(
        _diff(dict(zip(a[0], a[1][i], strict=True)), dict(zip(b[0], b[1][i], strict=True)), ""))


def _diff(x, y, path: str) -> list[str]:
    if isinstance(x, dict) and isinstance(y, dict) and x.keys() == y.keys():
        return [d for k in x for d in _diff(x[k], y[k], f"{path}.{k}" if path else str(k))]
    if isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        return [d for j, (u, v) in enumerate(zip(x, y, strict=True)) for d in _diff(u, v, f"{path}[{j}]")]
    return [] if x == y else [f"{path}: {str(x)[:100]} != {str(y)[:100]}"]


def _upload(fs, local: Path, remote: str, skip: dict[str, str]) -> None:
    for path in sorted(local.rglob("*")):
        rel = path.relative_to(local)
        if path.is_file() and not any(rel.parts[:2] == (folder, name) for folder, name in skip.items()):
            fs.put_file(str(path), f"{remote}/{rel.as_posix()}")


def _in_process_reference(defs, selection, home: Path) -> int:
    """The same graph from scratch, every step in the run's own process (the demo's path), on the
    same bucket paths, so a record's every field (URIs, prompt hashes) can match the distributed one."""
    from scripts.materialize import materialize_graph
    from scripts.shards import register_landed_shards

    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        register_landed_shards(defs, instance)
        result = materialize_graph(defs, instance, selection=selection)
        assert result.success, [r.error for r in result.runs if not r.success]
        return len(result.runs)


def _snapshot(env: dict[str, str], tmp_path: Path, selection) -> dict:
    from resources.settings import load_settings
    from resources.warehouse import Warehouse

    s = load_settings(env)
    reader = Warehouse(database=str(tmp_path / "reader.duckdb"), data_root=s.data, storage_options=s.storage_options)
    return _tables(reader, [k.to_user_string() for k in selection], [])


# 400-500 s alone on 2 cores, over 600 s (the suite's per-test limit) while the other worker runs
@pytest.mark.timeout(900)
def test_demo_quality_audit_and_a_landing_shard_on_postgres_s3_and_celery_workers(tmp_path, monkeypatch):
    import s3fs

    from corpus.build import build_corpus
    from scripts.pools import apply_pool_limits
    from scripts.shards import register_landed_shards

    corpus = tmp_path / "corpus"
    build_corpus(corpus, seed=0, size="tiny")
    with postgres_database() as pg, moto_s3(BUCKET) as endpoint:
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(ROOT / "deploy" / "dagster.vm.yaml", home / "dagster.yaml")
        env = {
            **pg, **AWS_TEST_ENV, "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT),
            "MMFOUNDRY_DEPLOYMENT": "prod", "MMFOUNDRY_LLM_BACKEND": "offline",
            "MMFOUNDRY_VLM_BACKEND": "offline", "MMFOUNDRY_JUDGE_BACKEND": "offline",
            "MMFOUNDRY_DATA": f"s3://{BUCKET}/data", "MMFOUNDRY_LANDING": f"s3://{BUCKET}/landing",
            "MMFOUNDRY_S3_ENDPOINT_URL": endpoint, "MMFOUNDRY_EXECUTOR": "celery",
            "MMFOUNDRY_CELERY_BROKER": BROKER_URL, "OMP_NUM_THREADS": "1",
        }

        def host(name: str) -> dict[str, str]:
            (tmp_path / name).mkdir()
            return {**os.environ, **env, "MMFOUNDRY_WAREHOUSE": str(tmp_path / name / "warehouse.duckdb"),
                    "MMFOUNDRY_CACHE": str(tmp_path / name / "cache")}

        fs = s3fs.S3FileSystem(endpoint_url=endpoint, key="testing", secret="testing")
        _upload(fs, corpus, f"{BUCKET}/landing", skip={})

        # 1. the reference: in process, every shard at once, from scratch
        with monkeypatch.context() as mp:
            for k, v in {**host("reference"), "MMFOUNDRY_EXECUTOR": "in_process"}.items():
                mp.setenv(k, v)
            defs = production_definitions()
            selection = _selection(defs)
            reference_runs = _in_process_reference(defs, selection, tmp_path / "reference" / "home")
            reference = _snapshot(dict(os.environ), tmp_path / "reference", selection)
        fs.rm(f"{BUCKET}/data", recursive=True)
        for folder, name in HELD.items():
            fs.rm(f"{BUCKET}/landing/{folder}/{name}", recursive=True)

        # 2. the production path: shard-001, then shard-002 lands; every step on a celery worker
        config = tmp_path / "celery.yaml"
        config.write_text(f"execution:\n  config:\n    broker: '{BROKER_URL}'\n    backend: 'rpc://'\n")
        for k, v in host("orchestrator").items():
            monkeypatch.setenv(k, v)
        defs = production_definitions()
        with dg.DagsterInstance.get() as instance, \
                celery_workers([host("worker-a"), host("worker-b")], config) as workers:
            # the instance's schema exists before the workers connect
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            apply_pool_limits(instance)
            register_landed_shards(defs, instance)
            assert instance.get_dynamic_partitions("video_shards") == ["shard-001"]
            built = _build(defs, instance, selection)
            _upload(fs, corpus, f"{BUCKET}/landing", skip={})  # the held-back shards land
            refreshed = _refresh(defs, instance, selection)
            assert sorted(instance.get_dynamic_partitions("video_shards")) == ["shard-001", "shard-002"]
            runs = instance.get_runs()
            assert len(runs) == built + len(refreshed) and all(r.is_success for r in runs)
            steps_by_worker = _steps_by_worker(instance, runs)
        print(f"reference: {reference_runs} in-process runs; distributed: {built} build runs, refresh: "
              f"{refreshed}; steps per worker: {steps_by_worker}")
        assert set(steps_by_worker) == set(workers) and all(n > 0 for n in steps_by_worker.values())

        # 3. `make audit` on a host that ran nothing reads a released record from the bucket
        auditor = host("auditor")
        from resources.settings import load_settings
        from resources.warehouse import Warehouse

        s = load_settings(auditor)
        with Warehouse(database=auditor["MMFOUNDRY_WAREHOUSE"], data_root=s.data,
                       storage_options=s.storage_options).read_connection(
                ["provenance_index", "finevideo_dataset"]) as con:
            released = con.sql("SELECT min(record_id) FROM finevideo_dataset").fetchall()[0][0]
            landed = con.sql("SELECT count(*) FROM provenance_index WHERE shard = 'shard-002'").fetchall()[0][0]
        assert landed > 0, "the landed shard's records are not in the provenance index"
        audit = subprocess.run([sys.executable, "-m", "scripts.audit", released], cwd=ROOT, env=auditor,
                               capture_output=True, text=True, timeout=300)
        assert audit.returncode == 0 and "released in: finevideo_dataset" in audit.stdout, \
            audit.stdout[-2000:] + audit.stderr[-2000:]
        assert not Path(auditor["MMFOUNDRY_WAREHOUSE"]).exists()  # read from the bucket, no local state

        distributed = _snapshot(dict(os.environ), tmp_path / "orchestrator", selection)
    assert set(distributed) == set(reference) and len(reference) >= 40
    differ = {n: _first_difference(distributed[n], reference[n]) for n in sorted(reference)
              if distributed[n] != reference[n]}
    assert not differ, f"tables the distributed run left in the bucket that differ from the in-process run: {differ}"
