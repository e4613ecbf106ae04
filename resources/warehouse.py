"""The DuckDB warehouse: every tabular asset is a view over its Parquet files.

DuckDB allows one writing process per file, and several steps may finish at once, so registering a
view retries with backoff; a view that still cannot be written is logged and left to the next
`sync_views`, never allowed to fail the asset whose data is already safely stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import duckdb
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_random_exponential

FINGERPRINT_EXEMPT = "views over outputs, written after them"

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


@retry(
    retry=retry_if_exception_type(duckdb.IOException),
    wait=wait_random_exponential(multiplier=0.05, max=2),
    stop=stop_after_delay(20),
    reraise=True,
)
def execute(db_path: str, statements: list[str]) -> None:
    """Run statements in one short write transaction, waiting out another writer's lock."""
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(db_path) as con:
        con.execute("BEGIN")
        for stmt in statements:
            con.execute(stmt)
        con.execute("COMMIT")


def try_register_asset_view(db_path: str, key_path: list[str], source_glob: str, log=None) -> bool:
    log = log or _log
    name = view_name(key_path)
    try:
        execute(db_path, [view_sql(name, source_glob)])
        return True
    except duckdb.Error as e:
        log.warning(f"warehouse view {name} not refreshed ({type(e).__name__}: {e}); next sync retries")
        return False


def sync_views(db_path: str, base_path: str, key_paths: Iterable[list[str]]) -> list[str]:
    """(Re)create the view of every asset that has data under `base_path`; returns view names."""
    from upath import UPath

    base = UPath(base_path)
    statements, names = [], []
    for key_path in key_paths:
        single = base.joinpath(*key_path[:-1], key_path[-1] + ".parquet")
        folder = base.joinpath(*key_path)
        if single.exists():
            glob = str(single)
        elif folder.is_dir() and any(p.name.endswith(".parquet") for p in folder.iterdir()):
            glob = f"{folder}/*.parquet"
        else:
            continue
        names.append(view_name(key_path))
        statements.append(view_sql(names[-1], glob))
    if statements:
        execute(db_path, statements)
    return names


def query(db_path: str, sql: str):
    """Read-only query returning a polars DataFrame (duckdb 2: `.sql(...).pl()`)."""
    with duckdb.connect(db_path, read_only=True) as con:
        return con.sql(sql).pl()

