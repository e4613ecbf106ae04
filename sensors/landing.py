"""Landing-zone sensors: new shards become partitions, and partitions become runs.

The cursor maps each shard key to a fingerprint (size + modification time), so a shard that lands is
added and run once, a shard rewritten in place is run again, and nothing else is. Partition adds are
batched (SQLite-backed instances choke on tens of thousands of keys in one statement).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from assets.kit.partitions import document_shards, video_shards
from resources.landing import LandingZone, Shard
from resources.settings import ConfigError

ADD_BATCH = 500


@dataclass(frozen=True)
class ShardSource:
    sensor_name: str
    partitions_def: dg.DynamicPartitionsDefinition
    list_shards: Callable[[LandingZone], dict[str, Shard]]
    description: str


SHARD_SOURCES = (
    ShardSource("video_shard_sensor", video_shards, LandingZone.video_shards,
                "Adds a video_shards partition per youtube_commons/<shard>.parquet and runs its assets."),
    ShardSource("document_shard_sensor", document_shards, LandingZone.document_shards,
                "Adds a document_shards partition per pdfa/<shard>/ folder and runs its assets."),
)


def _batches(keys: list[str], size: int = ADD_BATCH) -> list[list[str]]:
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def build_landing_sensor(
    source: ShardSource, target: dg.AssetSelection | None, minimum_interval_seconds: int = 60
) -> dg.SensorDefinition:
    name, partitions_def, list_shards = source.sensor_name, source.partitions_def, source.list_shards

    @dg.sensor(
        name=name,
        asset_selection=target,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=source.description,
    )
    def _sensor(context: dg.SensorEvaluationContext, landing: LandingZone):
        try:
            landing.require()
        except ConfigError as e:
            return dg.SkipReason(str(e))
        shards = list_shards(landing)
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        existing = set(context.instance.get_dynamic_partitions(partitions_def.name))
        new = [k for k in shards if k not in existing]
        changed = [k for k, s in shards.items() if k in existing and seen.get(k) not in (None, s.fingerprint)]
        cursor = json.dumps({k: s.fingerprint for k, s in shards.items()}, sort_keys=True)
        if not new and not changed:
            return dg.SensorResult(skip_reason=f"no new shards ({len(shards)} known)", cursor=cursor)
        runs = []
        if target is not None:
            runs = [
                dg.RunRequest(run_key=f"{k}:{shards[k].fingerprint}", partition_key=k,
                              tags={"mmfoundry/shard": k, "mmfoundry/trigger": name})
                for k in new + changed
            ]
        context.log.info(f"{len(new)} new and {len(changed)} changed shards")
        return dg.SensorResult(
            run_requests=runs,
            dynamic_partitions_requests=[partitions_def.build_add_request(b) for b in _batches(new)],
            cursor=cursor,
        )

    return _sensor
