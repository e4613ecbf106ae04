"""Print a record's whole chain: `make audit ID=<record_id>` (or `python -m scripts.audit <id>`).

Reads the warehouse the demo (or any materialization) left: the `provenance_index` table and each
stage's view. Read-only, so it can run while the UI or a run is writing elsewhere. When the Dagster
instance (`DAGSTER_HOME`) shows an asset the index covers materialized after the index, it says so
first: the new records are not in the index yet.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def freshness_warning(con, environ: dict[str, str] | None = None) -> str:
    """A line saying whether the index is current, read from the Dagster instance; a note when
    there is no instance to read."""
    env = os.environ if environ is None else environ
    home = env.get("DAGSTER_HOME")
    if not home:
        return "audit: note: DAGSTER_HOME is not set, so whether the provenance index is current is unknown"
    if not Path(home).is_dir():
        return f"audit: note: no Dagster instance at DAGSTER_HOME={home}; whether the index is current is unknown"
    try:
        import dagster as dg

        from assets.quality.audit_job import index_freshness
        from assets.quality.index_store import stages_held
        from resources.warehouse import view_folder

        covered = stages_held(con, "provenance_index", view_folder(con, "provenance_index"))
        with dg.DagsterInstance.from_config(home) as instance:
            freshness = index_freshness(instance, covered)
    except Exception as e:  # an unreadable instance must not keep the audit from printing
        return f"audit: note: the Dagster instance at {home} could not be read ({type(e).__name__}: {e})"
    warning = freshness.warning()
    if not warning:
        return ""
    return f"audit: {'note' if freshness.index_at is None else 'WARNING'}: {warning}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record_id")
    parser.add_argument("--warehouse", help="DuckDB file (default: MMFOUNDRY_WAREHOUSE, else <MMFOUNDRY_DATA>/warehouse.duckdb)")
    args = parser.parse_args(argv)

    import contextlib

    import duckdb

    from assets.quality.audit import audit, near_ids, render
    from resources.settings import ConfigError, load_settings
    from resources.warehouse import Warehouse

    try:
        environ = {**os.environ, **({"MMFOUNDRY_WAREHOUSE": args.warehouse} if args.warehouse else {})}
        settings = load_settings(environ)
    except ConfigError as e:
        print(f"audit: {e}", file=sys.stderr)
        return 2
    path = settings.warehouse_path
    warehouse = Warehouse(database=path, data_root=settings.data, storage_options=settings.storage_options)
    with contextlib.ExitStack() as stack:
        try:
            con = stack.enter_context(warehouse.read_connection(["provenance_index", "provenance_edges"]))
        except duckdb.Error as e:
            print(f"audit: cannot open the warehouse {path} ({e}); run `make demo` first", file=sys.stderr)
            return 2
        has_index = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'provenance_index'").fetchall()[0][0]
        if not has_index:
            print(f"audit: {path} has no provenance_index; materialize it (make demo does)", file=sys.stderr)
            return 2
        warning = freshness_warning(con)
        if warning:
            print(warning, file=sys.stderr)
        result = audit(con, args.record_id)
        if result is None:
            close = near_ids(con, args.record_id)
            hint = f"; did you mean: {', '.join(close)}" if close else ""
            print(f"audit: no record {args.record_id!r} in the provenance index{hint}", file=sys.stderr)
            return 1
        print("\n".join(render(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
