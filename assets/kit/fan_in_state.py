"""What a fan-in over every shard keeps between runs, so a new shard costs only its own items.

A near-duplicate screen must look across all shards, so it is a fan-in; run from scratch it would
re-sign every item of every shard each time one lands. Instead its run stores its working tables
(signatures per item, the verified pairs) content-addressed in the media store and names them in
its materialization's metadata. The next run takes them back when they were made by the same code
and rules (`version`), keeps what belongs to shards whose inputs have not changed (`shard_digest`),
and signs and queries only the rest. A state that is missing, unreadable or from other code is
simply not used: the run starts from scratch, which gives the same answer, only slower."""

from __future__ import annotations

import io
from collections.abc import Mapping

import dagster as dg
import polars as pl

from assets.kit.asset_kit import frame_version

VERSION_KEY = "state_version"


def shard_digest(df: pl.DataFrame, columns: list[str]) -> str:
    """A shard's inputs as the screen reads them: when it changes, the shard is signed again."""
    return frame_version(df.select([c for c in columns if c in df.columns]).sort(columns[0]))


def previous_state(context: dg.AssetExecutionContext, media, version: str, names: list[str]
                   ) -> dict[str, pl.DataFrame] | None:
    """The tables the asset's last materialization stored, when made by `version`; else None."""
    event = context.instance.get_latest_materialization_event(context.asset_key)
    mat = event.asset_materialization if event else None
    if mat is None or getattr(mat.metadata.get(VERSION_KEY), "value", None) != version:
        return None
    tables = {}
    for name in names:
        entry = mat.metadata.get(f"state_{name}_uri")
        uri = getattr(entry, "value", None) if entry is not None else None
        if not uri:
            return None
        try:
            tables[name] = pl.read_parquet(media.local_path(str(uri)))
        except (OSError, pl.exceptions.PolarsError) as exc:
            context.log.warning(f"state table {name} at {uri} unreadable ({exc}); starting from scratch")
            return None
    return tables


def save_state(media, version: str, tables: Mapping[str, pl.DataFrame]) -> dict[str, str]:
    """Store the tables and return the metadata that names them for the next run."""
    out = {VERSION_KEY: version}
    for name, df in tables.items():
        buf = io.BytesIO()
        df.write_parquet(buf)
        out[f"state_{name}_uri"] = media.put_bytes(buf.getvalue(), "parquet").uri
    return out
