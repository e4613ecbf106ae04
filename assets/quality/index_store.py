"""The provenance index as a store of segments, rebuilt only where its inputs changed.

One file holding every record of every stage, sorted by id, cost a full rewrite per refresh: at
2,000 shards (15.8M rows) 36 s, for one new shard's few thousand rows (bench/bench_scale.py). Here
the index is a folder of Parquet segments, each sorted by record id:

- a shard segment (`shard`: its key) holds the rows of every partitioned stage's file of that shard
  (video and document shards of one name share it);
- an asset segment holds an unpartitioned stage's rows (a fan-in, a release).

`manifest.json` names each segment's file and the fingerprint of its inputs (each input file's size
and modification time or object version, plus the stage layout). A build rebuilds the segments
whose fingerprint changed, drops those whose inputs are gone and keeps the rest untouched, so one
new shard costs its own segment plus the fan-ins that changed with it.

Lookups route by id: a record's rows of partitioned stages live in the segment of a shard its id
names (`yt:shard-00001:...`, `page:(pdf:shard-7:x):2`). A build checks that every id in a shard
segment names its shard; a segment where one does not is marked unroutable and read by every lookup
(slower, never wrong). The edge table (`provenance_edges`) is segmented the same way, keyed by the
index segment it came from and routed by the parent id.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from assets.kit.identity import escape, unescape
from assets.quality.provenance import (
    INDEX_SCHEMA,
    RUN_COLUMNS,
    RUN_SCHEMA,
    Stage,
    content_version,
    duplicated_ids,
    index_sql,
    sql_string,
    with_runs_sql,
)

MANIFEST = "manifest.json"
LAYOUT = 1  # bump when a segment's columns or order change: every segment is then rebuilt
ROW_GROUP = 100_000  # a lookup by id reads one row group of this many rows
EDGES_SQL = ("SELECT DISTINCT record_id, asset, shard, parent_id FROM (SELECT record_id, asset, shard, "
             "unnest(parent_ids) AS parent_id FROM {src}) WHERE parent_id IS NOT NULL "
             "ORDER BY parent_id, asset, record_id, shard NULLS LAST")


@dataclass(frozen=True)
class Source:
    """One stage's stored file feeding a segment, with what identifies its content."""

    stage: Stage
    uri: str
    fingerprint: str


@dataclass
class Plan:
    """Segment name -> its sources; `shards` names the shard of each shard segment."""

    segments: dict[str, list[Source]] = field(default_factory=dict)
    shards: dict[str, str] = field(default_factory=dict)
    unstored: dict[str, str] = field(default_factory=dict)  # stage -> why it has no file


def _fingerprint(info: Mapping[str, Any]) -> str:
    """Size plus whatever the filesystem reports as the object's modification or version (local
    mtime, S3 LastModified and ETag, GCS updated and generation): a re-run rewrites the file."""
    keys = ("size", "mtime", "LastModified", "ETag", "updated", "generation", "created")
    return "|".join(str(info.get(k)) for k in keys)


def plan_sources(fs, root: str, stages: Sequence[Stage]) -> Plan:
    """Where each stage's rows are stored under `root` (the Parquet IO manager's layout: a folder
    of one file per partition, or one file), as segments."""
    plan = Plan()
    base = root.rstrip("/")
    fs.invalidate_cache(base)  # an object store's listings are cached per process; steps wrote since
    for stage in stages:
        path = f"{base}/{stage.asset}"
        if fs.isdir(path):
            files = [i for i in fs.ls(path, detail=True)
                     if i["type"] == "file" and i["name"].endswith(".parquet")]
            for info in files:
                shard = info["name"].rsplit("/", 1)[-1][: -len(".parquet")]
                name = f"shard={shard}"
                plan.shards[name] = shard
                plan.segments.setdefault(name, []).append(
                    Source(stage, fs.unstrip_protocol(info["name"]), _fingerprint(info)))
            if files:
                continue
        if fs.isfile(f"{path}.parquet"):
            info = fs.info(f"{path}.parquet")
            plan.segments[f"asset={stage.asset}"] = [
                Source(stage, fs.unstrip_protocol(info["name"]), _fingerprint(info))]
        else:
            plan.unstored[stage.asset] = "no warehouse view (not materialized yet)"
    return plan


def segment_key(layout: str, sources: Sequence[Source]) -> str:
    body = "\n".join(sorted(f"{s.stage.asset}|{s.stage.order}|{s.stage.group}|{s.fingerprint}" for s in sources))
    return hashlib.sha256(f"{layout}\n{body}".encode()).hexdigest()[:16]


def file_name(segment: str, key: str) -> str:
    """A segment's file: its name made safe for a path, and its key (a rebuild never overwrites the
    file a reader may be reading)."""
    return re.sub(r"[^A-Za-z0-9_.=-]", "_", segment) + f".{key}.parquet"


def read_manifest(fs, folder: str) -> dict[str, Any]:
    path = f"{folder}/{MANIFEST}"
    if not fs.isfile(path):
        return {"layout": None, "segments": {}}
    return json.loads(fs.cat_file(path))


def write_manifest(fs, folder: str, manifest: Mapping[str, Any]) -> None:
    """Written whole, then moved into place: a reader sees the old manifest or the new one."""
    tmp = f"{folder}/{MANIFEST}.tmp"
    fs.pipe_file(tmp, json.dumps(manifest, sort_keys=True).encode())
    fs.mv(tmp, f"{folder}/{MANIFEST}")


def names_shard(shard: str) -> str:
    """SQL test that `record_id` (or the column in `{col}`) names `shard` as one of its parts, at any
    nesting depth (the form assets.kit.identity writes)."""
    return "regexp_matches({col}, " + sql_string(f"(^|[:(]){re.escape(escape(shard))}([:)]|$)") + ")"


def id_tokens(rid: str) -> set[str]:
    """Every part of an id at any depth (a superset of its parts: namespaces too)."""
    return {unescape(t) for t in re.split(r"[:()]", rid) if t}


@dataclass
class Built:
    manifest: dict[str, Any]
    rebuilt: list[str]
    reused: list[str]
    removed: list[str]


class Cursors:
    """One DuckDB cursor per thread of `sync_segments`' pool (a connection is not shared across
    threads), closed with the pool."""

    def __init__(self, con):
        self.con, self.local, self.opened = con, threading.local(), []

    def get(self):
        if not hasattr(self.local, "cursor"):
            self.local.cursor = self.con.cursor()
            self.opened.append(self.local.cursor)
        return self.local.cursor

    def close(self) -> None:
        for c in self.opened:
            c.close()


def sync_segments(fs, folder: str, wanted: Mapping[str, tuple[str, Mapping[str, Any]]],
                  build: Callable[[str, str], dict[str, Any]], layout: str,
                  prepare: Callable[[list[str]], None] | None = None, workers: int = 2) -> Built:
    """Make `folder` hold exactly the `wanted` segments (name -> (key, extra facts kept in the
    manifest)): reuse a segment whose key is unchanged and whose file exists, `build(name, uri)`
    the others (it writes the file and returns its facts; `prepare` first gets their names, to
    fetch what they share at once), write the manifest, then delete every file it no longer names."""
    fs.makedirs(folder, exist_ok=True)  # a no-op on object stores, where a folder is a key prefix
    fs.invalidate_cache(folder)
    old = read_manifest(fs, folder)
    old_segments = old["segments"] if old.get("layout") == layout else {}
    present = {i.rsplit("/", 1)[-1] for i in fs.ls(folder, detail=False)} if fs.isdir(folder) else set()

    def current(name: str) -> bool:
        was = old_segments.get(name)
        return was is not None and was["key"] == wanted[name][0] and was["file"] in present

    reused = [n for n in sorted(wanted) if current(n)]
    rebuilt = [n for n in sorted(wanted) if not current(n)]
    if prepare is not None and rebuilt:
        prepare(rebuilt)
    segments = {n: old_segments[n] for n in reused}

    def one(name: str) -> dict[str, Any]:
        key, extra = wanted[name]
        file = file_name(name, key)
        return {"key": key, "file": file, **extra, **build(name, f"{folder}/{file}")}

    # a segment is a few small queries, too small for DuckDB's own threads: segments go in parallel
    with ThreadPoolExecutor(max_workers=workers) as pool:
        segments.update(zip(rebuilt, pool.map(one, rebuilt), strict=True))
    manifest = {"layout": layout, "segments": dict(sorted(segments.items()))}
    write_manifest(fs, folder, manifest)
    keep = {s["file"] for s in segments.values()} | {MANIFEST}
    for f in sorted(f for f in present if f not in keep and f.endswith((".parquet", ".tmp"))):
        fs.rm(f"{folder}/{f}")
    return Built(manifest, rebuilt, reused, [n for n in old_segments if n not in segments])


def build_index_segment(con, sources: Sequence[Source], shard: str | None, uri: str,
                        runs: Callable[[pl.DataFrame], pl.DataFrame]) -> dict[str, Any]:
    """One segment written by DuckDB (sorted by id), with its facts for the manifest: rows per
    stage, rows without a run, ids held twice, stages skipped and why, an example id, its content
    version and whether every id names its shard."""
    relations = {s.stage.asset: f"read_parquet({sql_string(s.uri)})" for s in sources}
    sql, skipped = index_sql(con, [s.stage for s in sources], relations)
    pairs = pl.DataFrame({"asset": [s.stage.asset for s in sources], "shard": [shard] * len(sources)},
                         schema={"asset": pl.String, "shard": pl.String})
    if sql is None:  # no stage of the segment honours the contract: an empty segment of the index's columns
        con.register("segment_rows", pl.DataFrame(schema=index_columns()))
        body = "SELECT * FROM segment_rows"
    else:
        con.register("segment_runs", runs(pairs).cast(RUN_SCHEMA).select(list(RUN_SCHEMA)))
        body = with_runs_sql(sql, "segment_runs")
    con.execute(f"COPY ({body}) TO {sql_string(uri)} (FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP})")
    rel = f"read_parquet({sql_string(uri)})"
    strays = f"count(*) FILTER (NOT {names_shard(shard).format(col='record_id')})" if shard is not None else "0"
    stats = con.execute(
        f"SELECT asset, count(*), count(*) FILTER (run_id IS NULL), {strays}, min(record_id) FROM {rel} "
        "GROUP BY asset ORDER BY NOT ends_with(asset, '_dataset'), asset").fetchall()
    dupes = duplicated_ids(con, rel)
    examples = sorted((not a.endswith("_dataset"), rid) for a, *_, rid in stats)
    return {
        "rows": sum(r[1] for r in stats), "per_asset": {r[0]: r[1] for r in stats},
        "without_run": sum(r[2] for r in stats),
        "held_twice": dupes.height, "held_twice_example": dupes.head(1).to_dicts(),
        "skipped": {s.asset: s.reason for s in skipped},
        "example": examples[0][1] if examples else None,
        "example_is_release": bool(examples) and not examples[0][0],
        "version": content_version(con, rel), "routable": sum(r[3] for r in stats) == 0,
    }


def build_edge_segment(con, source_uri: str, shard: str | None, uri: str) -> dict[str, Any]:
    """The (parent, child) pairs of one index segment in parent-id order, and whether every parent
    id names the segment's shard (then a children lookup finds them by the parent's id)."""
    con.execute(f"COPY ({EDGES_SQL.format(src=f'read_parquet({sql_string(source_uri)})')}) TO {sql_string(uri)} "
                f"(FORMAT parquet, ROW_GROUP_SIZE {ROW_GROUP})")
    rel = f"read_parquet({sql_string(uri)})"
    rows, parents = con.execute(f"SELECT count(*), count(DISTINCT parent_id) FROM {rel}").fetchall()[0]
    routable = True
    if shard is not None and rows:
        test = names_shard(shard).format(col="parent_id")
        routable = con.execute(f"SELECT count(*) FROM {rel} WHERE NOT {test}").fetchall()[0][0] == 0
    return {"rows": rows, "parents": parents, "version": content_version(con, rel), "routable": routable}


def store_version(manifest: Mapping[str, Any]) -> str:
    """The store's data version: its segments' content versions (the same rows give the same version)."""
    body = "\n".join(f"{n}|{s['version']}" for n, s in sorted(manifest["segments"].items()))
    return hashlib.sha256(body.encode()).hexdigest()[:20]


def routed_files(manifest: Mapping[str, Any], folder: str, ids: Iterable[str]) -> list[str]:
    """The segment files that can hold rows of `ids` (as the index's record id, or the edge table's
    parent id): the shard segments their ids name, every asset segment and every unroutable one."""
    tokens = set().union(*(id_tokens(i) for i in ids)) if ids else set()
    out = []
    for seg in manifest["segments"].values():
        shard = seg.get("shard")
        if shard is None or not seg.get("routable", False) or shard in tokens:
            out.append(f"{folder}/{seg['file']}")
    return sorted(out)


def index_columns() -> dict[str, Any]:
    """Every column an index segment holds, in order."""
    return {**INDEX_SCHEMA, **{c: RUN_SCHEMA[c] for c in RUN_COLUMNS}}


def routed_relation(con, view: str, folder: str | None, ids: Sequence[str]) -> str:
    """A relation over the segments of `view`'s store (in `folder`) that can hold `ids`; the view
    itself when it is not a segmented store (a table, a view over one file)."""
    manifest = _manifest_in(con, folder)
    if manifest is None:
        return f'"{view}"'
    files = routed_files(manifest, folder, ids)
    return f"read_parquet([{', '.join(sql_string(f) for f in files)}], union_by_name = true)" if files \
        else f'(SELECT * FROM "{view}" WHERE false)'


def stages_held(con, view: str, folder: str | None) -> list[str]:
    """The stages `view` holds rows of: from the store's manifest when it is one (no pass over
    15.8M rows at 2,000 shards), else from the rows."""
    manifest = _manifest_in(con, folder)
    if manifest is not None:
        return sorted({a for seg in manifest["segments"].values() for a in seg["per_asset"]})
    return [r[0] for r in con.execute(f'SELECT DISTINCT asset FROM "{view}" ORDER BY 1').fetchall()]


_MANIFESTS: dict[str, tuple[tuple, dict[str, Any]]] = {}


def _manifest_in(con, folder: str | None) -> dict[str, Any] | None:
    """The manifest in `folder` (None when there is none), parsed once per version of the file: an
    audit routes a dozen lookups, and at 2,000 shards the manifest is half a megabyte of JSON."""
    path = f"{folder}/{MANIFEST}" if folder else None
    if path is None or not con.execute("SELECT count(*) FROM glob(?)", [path]).fetchall()[0][0]:
        return None
    stamp = tuple(con.execute("SELECT size, last_modified FROM read_text(?)", [path]).fetchall()[0])
    cached = _MANIFESTS.get(path)
    if cached is None or cached[0] != stamp:
        text = con.execute("SELECT content FROM read_text(?)", [path]).fetchall()[0][0]
        _MANIFESTS[path] = cached = (stamp, json.loads(text))
    return cached[1]
