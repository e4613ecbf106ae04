"""Register landed shards as dynamic partitions directly (what the landing sensors do on a tick),
for the demo and benchmarks, which run without a daemon."""

from __future__ import annotations

import dagster as dg

from sensors.landing import ADD_BATCH, SHARD_SOURCES


def register_landed_shards(defs: dg.Definitions, instance: dg.DagsterInstance) -> dict[str, list[str]]:
    landing = defs.resources["landing"]
    added: dict[str, list[str]] = {}
    for source in SHARD_SOURCES:
        keys = list(source.list_shards(landing))
        existing = set(instance.get_dynamic_partitions(source.partitions_def.name))
        new = [k for k in keys if k not in existing]
        for i in range(0, len(new), ADD_BATCH):
            instance.add_dynamic_partitions(source.partitions_def.name, new[i : i + ADD_BATCH])
        added[source.partitions_def.name] = keys
    return added
