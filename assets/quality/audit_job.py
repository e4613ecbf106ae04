"""The `audit` job: the audit of one record, launched from the launchpad (config `record_id`).

The op reads the provenance index and the stages' rows from the warehouse (read-only; on remote data
an in-memory catalogue over the data root, so any host can audit), renders the
chain as Markdown into the run (the step's output metadata) and writes the same Markdown to the
media store, whose URI and sha256 the metadata carries as clickable values. Record ids in the
rendered audit link to their own audit. When the index is older than the newest materialization of
an asset it covers, the audit says so at the top: records those runs added or changed may be
missing from it. A record the index no longer holds because its shard was withdrawn from the
landing zone (or became unreadable) is named as such, with when, rather than as an unknown id.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
from pydantic import Field

from assets.kit.links import AUDIT_JOB, AUDIT_OP, audit_launchpad_url, markdown_link
from assets.kit.metadata import uri_value
from assets.kit.shard_coverage import withdrawal
from assets.quality.audit import audit, near_ids, render_markdown
from resources.storage import MediaStore
from resources.warehouse import Warehouse

INDEX = "provenance_index"


@dataclass(frozen=True)
class IndexFreshness:
    """When the index was materialized and which covered assets were materialized after it."""

    index_at: float | None  # None: this instance never materialized the index
    newer: list[tuple[str, float]]

    def warning(self) -> str | None:
        if self.index_at is None:
            return ("this Dagster instance has no materialization of provenance_index: it cannot tell "
                    "whether the index is current")
        if not self.newer:
            return None
        names = ", ".join(f"{a} ({_when(t)})" for a, t in self.newer)
        return (f"the provenance index (materialized {_when(self.index_at)}) is older than the newest "
                f"materialization of {len(self.newer)} asset(s) it covers: {names}. Records they added or "
                "changed may be missing or out of date here; materialize provenance_index (automation "
                "does once its inputs settle).")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def index_freshness(instance: dg.DagsterInstance, covered: list[str] | None = None) -> IndexFreshness:
    """Compare the index's latest materialization with the latest of each asset it covers (from the
    index's own `covered_assets` metadata, else `covered`)."""
    event = instance.get_latest_materialization_event(dg.AssetKey(INDEX))
    if event is None or event.asset_materialization is None:
        return IndexFreshness(None, [])
    recorded = event.asset_materialization.metadata.get("covered_assets")
    assets = list(recorded.value) if recorded is not None else list(covered or [])
    newer = []
    for record in instance.get_asset_records([dg.AssetKey(a) for a in assets]):
        last = record.asset_entry.last_materialization_record
        if last is not None and last.timestamp > event.timestamp:
            newer.append((record.asset_entry.asset_key.to_user_string(), last.timestamp))
    return IndexFreshness(event.timestamp, sorted(newer, key=lambda x: (-x[1], x[0])))


def has_index(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [INDEX]).fetchall()[0][0])


class AuditConfig(dg.Config):
    record_id: str = Field(description="The record to audit, as any `record_id` column shows it "
                                       "(e.g. a row of finevideo_dataset or rejection_reasons.example_record_id).")


@dg.op(
    name=AUDIT_OP,
    out=dg.Out(dg.Nothing),
    description="Audit one record: its chain rendered as Markdown in the run and stored in the media store.",
    tags={"kind": "duckdb"},
)
def audit_record(context: dg.OpExecutionContext, config: AuditConfig, duckdb: Warehouse,
                 media: MediaStore):
    rid = config.record_id.strip()
    with duckdb.read_connection([INDEX, "provenance_edges"]) as con:
        if not has_index(con):
            raise dg.Failure(f"the warehouse {duckdb.database} has no provenance_index; materialize it first")
        result = audit(con, rid)
        suggestions = near_ids(con, rid) if result is None else []
    if result is None:
        gone = withdrawal(context.instance, rid)
        raise dg.Failure(
            description=gone or f"no record {rid!r} in the provenance index",
            metadata={"did_you_mean": dg.MetadataValue.md(
                "\n".join(f"- {markdown_link(s, audit_launchpad_url(s))}" for s in suggestions) or "_(no close id)_")},
        )
    freshness = index_freshness(context.instance)
    warning = freshness.warning()
    if warning:
        context.log.warning(f"audit: {warning}")
    text = "\n".join([f"# Audit of `{rid}`", "", *([f"> **Index freshness:** {warning}", ""] if warning else []),
                      render_markdown(result)])
    ref = media.put_bytes(text.encode(), ".md")
    context.log.info(f"audit: {result.record_id}: {result.verdict}; written to {ref.uri}")
    return dg.Output(None, metadata={
        "record_id": dg.MetadataValue.text(rid),
        "verdict": dg.MetadataValue.text(result.verdict),
        "stages": len(result.stages),
        "parents": len(result.parents),
        "index_is_current": warning is None,
        "audit": dg.MetadataValue.md(text),
        "audit_uri": uri_value(ref.uri),
        "audit_url": dg.MetadataValue.url(ref.uri),
        "audit_sha256": dg.MetadataValue.text(ref.sha256),
    })


@dg.job(
    name=AUDIT_JOB,
    description=("Audit one record from the launchpad: set `record_id` in the op config. The run shows the "
                 "chain (each stage's verdict, its rules re-evaluated, models, runs) as Markdown and stores "
                 "it in the media store."),
    tags={"team": "data"},
)
def audit_job():
    audit_record()
