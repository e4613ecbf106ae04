"""The DuckDB warehouse: every tabular asset is a view over its Parquet files.

DuckDB allows one writing process per file, and several steps may finish at once, so registering a
view retries with backoff; a view that still cannot be written is logged and left to the next
`sync_views`, never allowed to fail the asset whose data is already safely stored.

Remote data (s3://, gs://) is read through the same fsspec filesystem the IO manager writes with,
registered on every connection (`register_filesystem`): DuckDB gets the endpoint, region and
credentials the rest of the project uses, and never downloads its httpfs extension at run time
(extension auto-install is off). With remote data the warehouse file is a per-host catalogue of views
that any host rebuilds from the data root; SQL models are stored as Parquet there too (`store_model`),
so a check or an audit on another machine reads what a model step wrote.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_random_exponential

FINGERPRINT_EXEMPT = "views over outputs, written after them"

# never fetch an extension while a step runs: remote files go through fsspec instead of httpfs
CONNECTION_CONFIG = {"autoinstall_known_extensions": False}
LOCK_WAIT_S = 20.0

_log = logging.getLogger(__name__)
_NAME = re.compile(r"[^A-Za-z0-9_]")


def view_name(key_path: Iterable[str]) -> str:
    return _NAME.sub("_", "__".join(key_path))


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def view_sql(name: str, source_glob: str) -> str:
    return (
        f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM '
        f"read_parquet({_quote(source_glob)}, union_by_name = true)"
    )


def partition_segment(partition: str) -> str:
    """A partition key as the file name stem the Parquet IO manager stores it under: a key is data
    (a shard name) and never climbs out of its asset's folder."""
    from dagster._core.storage.upath_io_manager import escape_dotdot_segments, escape_leading_slash

    return escape_dotdot_segments(escape_leading_slash(partition))


# the source of a view `view_sql` made, as DuckDB stores the statement
_VIEW_SOURCE = re.compile(r"read_parquet\('((?:[^']|'')*)', \(union_by_name = true\)\)")
_FOLDER = "/*.parquet"


def _view_source(sql: str) -> str | None:
    found = _VIEW_SOURCE.search(sql)
    return None if found is None else found.group(1).replace("''", "'")


def view_folder(con: duckdb.DuckDBPyConnection, view: str) -> str | None:
    """The folder behind `view` when it reads one (`<folder>/*.parquet`: a partitioned asset, or a
    segmented store); None for any other view or table."""
    rows = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = ?", [view]).fetchall()
    source = _view_source(rows[0][0]) if rows else None
    return source[: -len(_FOLDER)] if source and source.endswith(_FOLDER) else None


def partition_file(con: duckdb.DuckDBPyConnection, view: str, partition: str) -> str | None:
    """The one file of `partition` behind `view` when the view reads a partitioned asset's folder;
    None for any other view. A lookup that knows its shard reads that file instead of opening every
    shard's (the audit at 2,000 shards, bench/bench_scale.py)."""
    folder = view_folder(con, view)
    return None if folder is None else f"{folder}/{partition_segment(partition)}.parquet"


def remote_filesystem(root: str | None, storage_options: dict[str, Any] | None = None):
    """The fsspec filesystem of a remote data root (None for a local one)."""
    from upath import UPath

    if not root:
        return None
    path = UPath(root, **(storage_options or {}))
    return None if path.protocol in ("", "file", "local") else path.fs


def connect(db_path: str, read_only: bool = False, fs=None) -> duckdb.DuckDBPyConnection:
    """A connection that reads remote files through `fs` (an fsspec filesystem), never httpfs."""
    if db_path != ":memory:" and not read_only:
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(db_path, read_only=read_only, config=CONNECTION_CONFIG)
    if fs is not None:
        con.register_filesystem(fs)
    return con


@retry(
    retry=retry_if_exception_type(duckdb.IOException),
    wait=wait_random_exponential(multiplier=0.05, max=2),
    stop=stop_after_delay(LOCK_WAIT_S),
    reraise=True,
)
def ensure_views(db_path: str, globs: dict[str, str], fs=None) -> list[str]:
    """Create the views of `globs` (name -> Parquet glob) that are missing or read another glob;
    returns the names created. A view that already reads its glob is left alone: DuckDB binds a
    view's files and columns again at every query (new shards, new or dropped columns and changed
    types included), while re-creating it reads every file's footer (union by name), 0.2 s per
    view at 2,000 shards and paid by every shard step and every index build."""
    with connect(db_path, fs=fs) as con:
        current = {name: _view_source(sql) for name, sql in con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall()}
        stale = [n for n, g in globs.items() if current.get(n) != g]
        if stale:
            con.execute("BEGIN")
            for name in stale:
                con.execute(view_sql(name, globs[name]))
            con.execute("COMMIT")
    return stale


def try_register_asset_view(db_path: str, key_path: list[str], source_glob: str, log=None, fs=None) -> bool:
    log = log or _log
    name = view_name(key_path)
    try:
        ensure_views(db_path, {name: source_glob}, fs=fs)
        return True
    except duckdb.Error as e:
        log.warning(f"warehouse view {name} not refreshed ({type(e).__name__}: {e}); next sync retries")
        return False


def source_globs(base_path: str, key_paths: Iterable[list[str]],
                 storage_options: dict[str, Any] | None = None) -> dict[str, str]:
    """View name -> Parquet glob of every asset that has data under `base_path`."""
    from upath import UPath

    base = UPath(base_path, **(storage_options or {}))
    globs = {}
    for key_path in key_paths:
        single = base.joinpath(*key_path[:-1], key_path[-1] + ".parquet")
        folder = base.joinpath(*key_path)
        if single.exists():
            globs[view_name(key_path)] = str(single)
        elif folder.is_dir() and any(p.name.endswith(".parquet") for p in folder.iterdir()):
            globs[view_name(key_path)] = f"{folder}/*.parquet"
    return globs


def sync_views(db_path: str, base_path: str, key_paths: Iterable[list[str]],
               storage_options: dict[str, Any] | None = None) -> list[str]:
    """Make sure every asset that has data under `base_path` has its view; returns view names."""
    globs = source_globs(base_path, key_paths, storage_options)
    if globs:
        ensure_views(db_path, globs, fs=remote_filesystem(base_path, storage_options))
    return list(globs)


def query(db_path: str, sql: str, fs=None):
    """Read-only query returning a polars DataFrame (duckdb 2: `.sql(...).pl()`)."""
    with connect(db_path, read_only=True, fs=fs) as con:
        return con.sql(sql).pl()


class Warehouse(DuckDBResource):
    """dagster-duckdb's resource, told where the data lives: its connections read remote Parquet
    through fsspec, it refreshes the views a step reads, and on remote data it stores SQL models as
    Parquet beside the assets so that the warehouse file stays a rebuildable per-host catalogue."""

    data_root: str | None = Field(default=None, description="Storage root the views read (MMFOUNDRY_DATA).")
    storage_options: dict[str, Any] = Field(default_factory=dict, description="fsspec options of data_root.")
    connection_config: dict[str, Any] = Field(default_factory=lambda: dict(CONNECTION_CONFIG))

    @property
    def fs(self):
        return remote_filesystem(self.data_root, self.storage_options)

    @property
    def remote(self) -> bool:
        return self.fs is not None

    def store(self):
        """The filesystem and root the Parquet assets are stored under, for steps that keep their
        own files beside the tables (the provenance index, selection's candidate store)."""
        if not self.data_root:
            import dagster as dg

            raise dg.Failure("the warehouse has no data_root (MMFOUNDRY_DATA): this step's store lives there")
        if self.fs is not None:
            return self.fs, self.data_root.rstrip("/")
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem(), str(Path(self.data_root).resolve())

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as con:
            if self.remote:
                con.register_filesystem(self.fs)
            yield con

    def refresh_views(self, names: Iterable[str]) -> list[str]:
        """Recreate the views of the assets a step reads, so it never reads a stale glob (a no-op for
        names with no Parquet under the data root, e.g. SQL-model tables on local data)."""
        if not self.data_root:
            return []
        return sync_views(self.database, self.data_root, [[n] for n in names], self.storage_options)

    def store_model(self, con: duckdb.DuckDBPyConnection, name: str, kind: str, sql: str) -> None:
        """`CREATE OR REPLACE <kind> name AS sql`; on remote data the result is written to
        `<data_root>/<name>.parquet` and the warehouse gets a view over it."""
        if not self.remote:
            con.execute(f'CREATE OR REPLACE {kind} "{name}" AS {sql}')
            return
        uri = f"{self.data_root.rstrip('/')}/{name}.parquet"
        con.execute(f"COPY ({sql}) TO {_quote(uri)} (FORMAT parquet)")
        con.execute(view_sql(name, uri))

    @contextmanager
    def read_connection(self, tables: Iterable[str] = ()) -> Iterator[duckdb.DuckDBPyConnection]:
        """A reader that never blocks a writer. Local data: the file, read-only (waiting out a
        writer's lock). Remote data: an in-memory catalogue with views over `tables` (plus, when
        `provenance_index` is among them, every asset it indexes) built from the data root, so it
        works on a host that never ran the steps."""
        if not self.remote:
            deadline = time.monotonic() + LOCK_WAIT_S
            while True:
                try:
                    con = connect(self.database, read_only=True)
                    break
                except duckdb.IOException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        else:
            con = connect(":memory:", fs=self.fs)
            names = list(tables)
            globs = source_globs(self.data_root, [[n] for n in names], self.storage_options)
            for n, g in globs.items():
                con.execute(view_sql(n, g))
            if "provenance_index" in globs:
                from assets.quality.index_store import stages_held

                stages = stages_held(con, "provenance_index", view_folder(con, "provenance_index"))
                more = source_globs(self.data_root, [s.split("/") for s in stages if s not in globs],
                                    self.storage_options)
                for n, g in more.items():
                    con.execute(view_sql(n, g))
        try:
            yield con
        finally:
            con.close()
