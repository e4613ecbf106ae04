"""Which shards a fan-in covered, which it left out and why, and the order shards landed in.

A shard root (raw_video_metadata, documents) always materializes: a shard it cannot read, one that
resolves outside the landing zone, or one withdrawn from the landing zone gives an empty table and
says so in its metadata (`shard_status`, `shard_error`) and in the WARN check `shard_readable`. A
shard whose later step failed, was skipped behind a failed blocking check, or was killed has no
output at all; the Parquet IO manager leaves it out of fan-ins. So a fan-in always runs over the
good shards, and `coverage` names every shard of the partition set with what happened to it.

Landing order is the order the landing sensor added the partitions (the instance lists a dynamic
partitions definition in insertion order): a shard landed later never displaces a record an earlier
one released, whatever its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from assets.kit.checks import spec
from assets.kit.identity import is_record_id, parse_record_id
from assets.kit.shard_frames import Frame, row_count

FINGERPRINT_EXEMPT = "reports what the fan-in received; the order it returns is an input the caller hashes"

OK, UNREADABLE, WITHDRAWN = "ok", "unreadable", "withdrawn"
NO_OUTPUT = "no_output"
STATUS_KEY, ERROR_KEY = "shard_status", "shard_error"
COVERAGE_SCHEMA = {"shard": pl.String, "landed": pl.Int64, "included": pl.Boolean, "status": pl.String,
                   "detail": pl.String}


def shard_readable_spec(asset: str, partitions_def: dg.PartitionsDefinition | None = None) -> dg.AssetCheckSpec:
    return spec("shard_readable", asset, partitions_def,
                "the landed shard could be read (else: an empty table and the reason)", blocking=False)


def shard_metadata(status: str, error: str | None) -> dict[str, str]:
    return {STATUS_KEY: status, ERROR_KEY: error or ""}


def shard_readable(status: str, error: str | None) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(check_name="shard_readable", passed=status == OK,
                               severity=dg.AssetCheckSeverity.WARN,
                               metadata=shard_metadata(status, error))


def landing_order(instance: dg.DagsterInstance, partitions_def: dg.DynamicPartitionsDefinition) -> dict[str, int]:
    """{shard: position} in the order the shards were registered (first landing first)."""
    return {k: i for i, k in enumerate(instance.get_dynamic_partitions(partitions_def.name))}


def _root_status(instance: dg.DagsterInstance, root: dg.AssetKey, shard: str) -> tuple[str, str]:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=root, asset_partitions=[shard]), limit=1).records
    if not records:
        return NO_OUTPUT, f"{root.to_user_string()} has not materialized this shard"
    meta = records[0].asset_materialization.metadata
    status = meta.get(STATUS_KEY)
    error = meta.get(ERROR_KEY)
    return (status.value if status else OK), (error.value if error else "")


def coverage(context: dg.AssetExecutionContext, inputs: Mapping[str, Mapping[str, Frame]],
             root: dg.AssetKey, partitions_def: dg.DynamicPartitionsDefinition) -> pl.DataFrame:
    """One row per shard of the fan-in's inputs, in landing order: included (has rows or landed
    empty), or left out with the status (`no_output`: a step without output for it; or the root's
    `unreadable` / `withdrawn` / `outside_landing_zone`) and the detail."""
    expected: set[str] = set()
    for name in inputs:
        expected |= set(context.asset_partition_keys_for_input(name))
    order = landing_order(context.instance, partitions_def)
    rows = []
    for shard in sorted(expected, key=lambda k: (order.get(k, len(order)), k)):
        missing = [name for name, frames in inputs.items() if shard not in frames]
        if missing:
            rows.append((shard, False, NO_OUTPUT, f"no output of {', '.join(missing)} for this shard: its "
                         "step failed, was skipped behind a failed check, or was killed"))
            continue
        if any(row_count(inputs[name][shard]) for name in inputs):
            rows.append((shard, True, OK, None))
            continue
        status, error = _root_status(context.instance, root, shard)
        rows.append((shard, status == OK, status, error or None))
    return pl.DataFrame(
        [{"shard": s, "landed": order.get(s), "included": inc, "status": st, "detail": d}
         for s, inc, st, d in rows], schema=COVERAGE_SCHEMA)


def coverage_metadata(cov: pl.DataFrame) -> dict:
    """What a release says about its shards: counts, and each one left out with its reason."""
    out = cov.filter(~pl.col("included"))
    return {
        "shards_included": cov.height - out.height,
        "shards_excluded": out.height,
        "excluded_shards": dg.MetadataValue.json(
            {r["shard"]: f"{r['status']}: {r['detail']}" for r in out.iter_rows(named=True)}),
    }


ROOTS = {"yt": "raw_video_metadata", "pdf": "documents"}  # landed-record namespace -> its shard root


def landed_origin(record_id: str) -> tuple[str, str] | None:
    """(shard root asset, shard) of the landed record `record_id` is built from: its own, or that
    of the first nested id (`scene:(yt:s1:abc:0):3` comes from shard s1 of raw_video_metadata)."""
    try:
        namespace, parts = parse_record_id(record_id)
    except ValueError:
        return None
    if namespace in ROOTS and parts:
        return ROOTS[namespace], parts[0]
    nested = next((p for p in parts if is_record_id(p)), None)
    return landed_origin(nested) if nested else None


def withdrawal(instance: dg.DagsterInstance, record_id: str) -> str | None:
    """Why `record_id` is no longer released when its shard was withdrawn or became unreadable, as
    the audit says it; None when its shard is not known to be gone."""
    origin = landed_origin(record_id)
    if origin is None:
        return None
    root, shard = origin
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(root), asset_partitions=[shard]), limit=1).records
    if not records:
        return None
    meta = records[0].asset_materialization.metadata
    status = meta.get(STATUS_KEY)
    if status is None or status.value == OK:
        return None
    when = datetime.fromtimestamp(records[0].timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    error = meta.get(ERROR_KEY)
    return (f"{record_id} comes from shard {shard!r}, {status.value} since {when} "
            f"({error.value if error else ''}): its records are no longer released")
