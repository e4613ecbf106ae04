"""Print a record's whole chain: `make audit ID=<record_id>` (or `python -m scripts.audit <id>`).

Reads the warehouse the demo (or any materialization) left: the `provenance_index` table and each
stage's view. Read-only, so it can run while the UI or a run is writing elsewhere.
"""

from __future__ import annotations

import argparse
import sys

import duckdb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("record_id")
    parser.add_argument("--warehouse", help="DuckDB file (default: <MMFOUNDRY_DATA>/warehouse.duckdb)")
    args = parser.parse_args(argv)

    from assets.quality.audit import audit, render
    from resources.settings import ConfigError, load_settings

    if args.warehouse:
        path = args.warehouse
    else:
        try:
            path = load_settings().warehouse_path
        except ConfigError as e:
            print(f"audit: {e}", file=sys.stderr)
            return 2
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as e:
        print(f"audit: cannot open the warehouse {path} ({e}); run `make demo` first", file=sys.stderr)
        return 2
    with con:
        has_index = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'provenance_index'").fetchall()[0][0]
        if not has_index:
            print(f"audit: {path} has no provenance_index; materialize it (make demo does)", file=sys.stderr)
            return 2
        result = audit(con, args.record_id)
        if result is None:
            close = con.execute(
                "SELECT DISTINCT record_id FROM provenance_index WHERE record_id ILIKE ? ORDER BY 1 LIMIT 5",
                [f"%{args.record_id}%"]).fetchall()
            hint = f"; did you mean: {', '.join(r[0] for r in close)}" if close else ""
            print(f"audit: no record {args.record_id!r} in the provenance index{hint}", file=sys.stderr)
            return 1
        print("\n".join(render(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
