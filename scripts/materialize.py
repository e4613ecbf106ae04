"""Materialize a whole asset graph from Python, the way a backfill would, without a daemon.

The graph mixes per-shard partitioned assets with unpartitioned fan-ins, and one run cannot target
both. So assets are cut into blocks: a block is a maximal set of ready assets sharing one partitions
definition; a partitioned block runs once per partition key, an unpartitioned block once. Runs go
through the code location's implicit asset job, so the UI lists them as ordinary runs of the
location (re-executable from there).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import dagster as dg


@dataclass
class BlockRun:
    assets: list[str]
    partition_key: str | None
    run_id: str
    success: bool
    seconds: float
    error: str | None = None


@dataclass
class GraphRun:
    runs: list[BlockRun] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.runs)


def plan_blocks(defs: dg.Definitions, selection: Iterable[dg.AssetKey] | None = None
                ) -> list[tuple[dg.PartitionsDefinition | None, list[dg.AssetKey]]]:
    graph = defs.resolve_asset_graph()
    chosen = set(selection) if selection is not None else set(graph.materializable_asset_keys)
    order = list(graph.toposorted_asset_keys)
    remaining = [k for k in order if k in chosen]
    done: set[dg.AssetKey] = set()
    blocks = []

    def ready(k: dg.AssetKey, extra: set[dg.AssetKey]) -> bool:
        return all(p in done or p in extra or p not in chosen for p in graph.get(k).parent_keys)

    while remaining:
        first = next(k for k in remaining if ready(k, set()))
        pdef = graph.get(first).partitions_def
        block: list[dg.AssetKey] = [first]
        grew = True
        while grew:
            grew = False
            for k in remaining:
                if k not in block and graph.get(k).partitions_def == pdef and ready(k, set(block)):
                    block.append(k)
                    grew = True
        blocks.append((pdef, block))
        done |= set(block)
        remaining = [k for k in remaining if k not in done]
    return blocks


def materialize_graph(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    selection: Iterable[dg.AssetKey] | None = None,
    tags: dict[str, str] | None = None,
    on_run: Callable[[BlockRun], None] | None = None,
    stop_on_failure: bool = True,
    log_level: str = "WARNING",
) -> GraphRun:
    job = defs.resolve_implicit_global_asset_job_def()
    result = GraphRun()
    for pdef, block in plan_blocks(defs, selection):
        keys = [None] if pdef is None else pdef.get_partition_keys(dynamic_partitions_store=instance)
        for key in keys:
            start = time.perf_counter()
            res = job.execute_in_process(
                instance=instance, asset_selection=block, partition_key=key,
                raise_on_error=False, tags=tags or {},
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            )
            error = None
            if not res.success:
                failures = [e for e in res.all_events if e.is_step_failure]
                error = "; ".join(
                    f"{e.step_key}: {e.step_failure_data.error.message.strip().splitlines()[0] if e.step_failure_data.error else 'failed'}"
                    for e in failures
                ) or "run failed"
            run = BlockRun(
                assets=[k.to_user_string() for k in block], partition_key=key, run_id=res.run_id,
                success=res.success, seconds=time.perf_counter() - start, error=error,
            )
            result.runs.append(run)
            if on_run:
                on_run(run)
            if not res.success and stop_on_failure:
                return result
    return result
