"""Per-pool op limits, which dagster.yaml cannot express (only a default): one DuckDB writer, one
GPU job per node, a bounded number of steps calling model endpoints. Applied by `make pools` (prod:
run once against the Postgres instance) and by the demo on the local instance.

Usage: python -m scripts.pools
"""

from __future__ import annotations

import dagster as dg

POOL_LIMITS = {"duckdb": 1, "gpu": 1, "llm": 4}


def apply_pool_limits(instance: dg.DagsterInstance, limits: dict[str, int] = POOL_LIMITS) -> dict[str, int]:
    for pool, limit in limits.items():
        instance.event_log_storage.set_concurrency_slots(pool, limit)
    return {pool: instance.event_log_storage.get_concurrency_info(pool).slot_count for pool in limits}


if __name__ == "__main__":
    with dg.DagsterInstance.get() as inst:
        for pool, n in sorted(apply_pool_limits(inst).items()):
            print(f"pool {pool}: {n}")
