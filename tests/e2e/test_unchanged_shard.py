"""Re-running an unchanged shard on the real graph reproduces every per-shard asset's data version,
so the automation policy (which reacts to data-version changes) starts nothing downstream."""

from __future__ import annotations

import dagster as dg
import pytest

from bench.bench_incremental import QUIET, _instance
from tests.fakes.deployment import local_deployment

pytestmark = pytest.mark.slow


def test_rerunning_an_unchanged_shard_reproduces_every_data_version(tmp_path, monkeypatch):
    from corpus.build import build_corpus
    from scripts.materialize import plan_blocks
    from scripts.shards import register_landed_shards

    build_corpus(tmp_path / "landing", seed=0, size="tiny")
    local_deployment(monkeypatch, tmp_path / "data", tmp_path / "landing")
    from definitions import build_definitions

    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    # the landing's shards (dynamic partitions); the sCM scaling study's sizes are partitions too, but
    # trainings whose rows carry wall-clock timings, not shards of landed data
    per_shard = [k for k in graph.materializable_asset_keys
                 if isinstance(graph.get(k).partitions_def, dg.DynamicPartitionsDefinition)]
    roots = {p for k in per_shard for p in graph.get(k).parent_keys if graph.get(p).partitions_def is None}
    job = defs.resolve_implicit_global_asset_job_def()
    with _instance(tmp_path / "home") as instance:
        register_landed_shards(defs, instance)
        job.execute_in_process(instance=instance, asset_selection=sorted(roots), run_config=QUIET,
                               raise_on_error=True)  # the taxonomy the labels read
        versions = []
        for _ in range(2):
            for pdef, block in plan_blocks(defs, per_shard):
                key = pdef.get_partition_keys(dynamic_partitions_store=instance)[0]
                job.execute_in_process(instance=instance, asset_selection=block, partition_key=key,
                                       run_config=QUIET, raise_on_error=True)
            versions.append({k.to_user_string(): instance.get_latest_materialization_event(k)
                             .asset_materialization.tags.get("dagster/data_version") for k in per_shard})
        assert len(versions[0]) >= 12 and all(versions[0].values())
        changed = sorted(a for a in versions[0] if versions[0][a] != versions[1][a])
        assert changed == [], f"re-running an unchanged shard changed the data of {changed}"
