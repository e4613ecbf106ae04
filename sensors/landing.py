"""Landing-zone sensors: new shards become partitions, and partitions become runs.

The cursor maps each shard key to a fingerprint of its content (resources/landing.py), so a shard that
lands is added and run once, a shard rewritten in place is run again (a same-size rewrite with its
mtime restored included), and nothing else is. A shard that leaves the zone keeps its partition and,
once it has been absent on two ticks in a row (a listing that hiccups withdraws nothing; a missing
`youtube_commons/` or `pdfa/` folder withdraws nothing), is run once more: its root materializes
empty with `shard_status: withdrawn`, so its rows leave the releases and the audit says why; if it
comes back it is run again. Run keys carry the tick number, since content can come back. Partitions are added in landing
order, which the fan-ins use to decide which landing of a duplicated record goes on. Partition adds
are batched (SQLite-backed instances choke on tens of thousands of keys in one statement).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from assets.kit.partitions import document_shards, video_shards
from assets.kit.shard_coverage import WITHDRAWN
from resources.landing import LandingZone, Shard
from resources.settings import ConfigError

ADD_BATCH = 500
ABSENT = "absent"


@dataclass(frozen=True)
class ShardSource:
    sensor_name: str
    partitions_def: dg.DynamicPartitionsDefinition
    list_shards: Callable[[LandingZone], dict[str, Shard]]
    folder: str  # under the landing root
    description: str


SHARD_SOURCES = (
    ShardSource("video_shard_sensor", video_shards, LandingZone.video_shards, "youtube_commons",
                "Adds a video_shards partition per youtube_commons/<shard>.parquet and runs its assets."),
    ShardSource("document_shard_sensor", document_shards, LandingZone.document_shards, "pdfa",
                "Adds a document_shards partition per pdfa/<shard>/ folder and runs its assets."),
)


def read_cursor(cursor: str | None) -> tuple[int, dict[str, str]]:
    """(tick, {shard: fingerprint | "absent:<fingerprint>" | "withdrawn"}); a cursor of the earlier flat format
    ({shard: fingerprint}) reads as tick 0."""
    data = json.loads(cursor) if cursor else {}
    if "shards" in data and "tick" in data:
        return int(data["tick"]), dict(data["shards"])
    return 0, dict(data)


def last_seen(seen: dict[str, str], key: str) -> str | None:
    """The fingerprint a shard had when last listed ("absent:<fp>" keeps it over one missed tick)."""
    state = seen.get(key)
    return state[len(ABSENT) + 1:] if state and state.startswith(f"{ABSENT}:") else state


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
        tick, seen = read_cursor(context.cursor)
        tick += 1
        shards = list_shards(landing)
        existing = set(context.instance.get_dynamic_partitions(partitions_def.name))
        new = [k for k in shards if k not in existing]
        changed = [k for k, s in shards.items() if k in existing and last_seen(seen, k) not in (None, s.fingerprint)]
        marks = {k: s.fingerprint for k, s in shards.items()}
        withdrawn: list[str] = []
        if landing.path(source.folder).exists():  # a missing folder is an outage, not a withdrawal
            for k in sorted(existing - set(shards)):
                state = seen.get(k, "")
                # absent on two ticks in a row: a listing that hiccups once withdraws nothing
                if state.startswith(ABSENT):
                    withdrawn.append(k)
                marks[k] = WITHDRAWN if state.startswith((ABSENT, WITHDRAWN)) else f"{ABSENT}:{state}"
        else:
            marks.update({k: v for k, v in seen.items() if k not in marks})
        cursor = json.dumps({"tick": tick, "shards": marks}, sort_keys=True)
        if not new and not changed and not withdrawn:
            return dg.SensorResult(skip_reason=f"no new shards ({len(shards)} known)", cursor=cursor)
        runs = []
        if target is not None:  # the tick number keeps keys unique: content can come back (A, B, A)
            runs = [
                dg.RunRequest(run_key=f"{k}:{shards[k].fingerprint}:{tick}", partition_key=k,
                              tags={"mmfoundry/shard": k, "mmfoundry/trigger": name})
                for k in new + changed
            ] + [
                dg.RunRequest(run_key=f"{k}:{WITHDRAWN}:{tick}", partition_key=k,
                              tags={"mmfoundry/shard": k, "mmfoundry/trigger": name, "mmfoundry/withdrawn": "1"})
                for k in withdrawn
            ]
        context.log.info(f"{len(new)} new, {len(changed)} changed and {len(withdrawn)} withdrawn shards")
        return dg.SensorResult(
            run_requests=runs,
            dynamic_partitions_requests=[partitions_def.build_add_request(b) for b in _batches(new)],
            cursor=cursor,
        )

    return _sensor
