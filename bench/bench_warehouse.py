"""Warehouse build time at 1x, 10x and 100x the demo's rows (and 1000x with BENCH_WAREHOUSE_MAX=1000).

The demo's warehouse (`make demo` first) is the template: every table an SQL model reads is copied
into a scratch DuckDB file k times over, each copy with its own record ids, so keys stay unique and
joins keep their shape. Then every `dbt_like_sql` model is built in dependency order, as the
`quality` group does (`CREATE OR REPLACE TABLE/VIEW ... AS`), and its checks are evaluated. Printed:
input rows, seconds to build all models and run all checks, and microseconds per input row (flat
per-row cost = linear growth); and the time of one record's audit through the `record_audit` view.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import duckdb

from assets.quality.check_specs import load_checks
from assets.quality.sql_models import MODELS, SQL_DIR


def sources() -> list[str]:
    built = {m.name for m in MODELS}
    return sorted({d for m in MODELS for d in m.deps} - built)


def replicate(con, template: str, table: str, k: int) -> int:
    cols = [r[0] for r in con.execute(f'DESCRIBE "{template}"."{table}"').fetchall()]
    copy = "record_id || CASE WHEN r.i = 0 THEN '' ELSE '#' || r.i END AS record_id" if "record_id" in cols else None
    select = f"* REPLACE ({copy})" if copy else "*"
    con.execute(f'CREATE OR REPLACE TABLE "{table}" AS SELECT {select} FROM "{template}"."{table}", '
                f"range({k}) r(i)")
    return con.execute(f'SELECT count(*) FROM "{table}"').fetchall()[0][0]


def build(scale: int, template_path: str, scratch: str) -> dict:
    with duckdb.connect(scratch) as con:
        con.execute(f"ATTACH '{template_path}' AS template (READ_ONLY)")
        rows = sum(replicate(con, "template", t, scale) for t in sources())
        con.execute("DETACH template")
        start = time.perf_counter()
        for m in MODELS:
            kind = "VIEW" if m.header.get("materialized", "table").lower() == "view" else "TABLE"
            con.execute(f'CREATE OR REPLACE {kind} "{m.name}" AS {m.sql}')
        built = time.perf_counter() - start
        start = time.perf_counter()
        violations = sum(con.execute(f"SELECT count(*) FROM ({c.violations_sql()})").fetchall()[0][0]
                         for c in load_checks(SQL_DIR / "checks.yml"))
        checked = time.perf_counter() - start
        rid = con.execute("SELECT min(record_id) FROM finevideo_dataset").fetchall()[0][0]
        start = time.perf_counter()
        chain = con.execute("SELECT count(*) FROM record_audit WHERE root_record_id = ?", [rid]).fetchall()[0][0]
        audit_s = time.perf_counter() - start
    return {"scale": scale, "rows": rows, "build_s": built, "checks_s": checked, "violations": violations,
            "us_per_row": 1e6 * (built + checked) / rows, "audit_s": audit_s, "chain_rows": chain}


def main() -> None:
    from resources.settings import load_settings

    template = load_settings().warehouse_path
    if not Path(template).exists():
        print(f"no warehouse at {template}: run `make demo` first (the benchmark scales the demo's rows)")
        return
    scales = [s for s in (1, 10, 100, 1000) if s <= int(os.environ.get("BENCH_WAREHOUSE_MAX", "100"))]
    print(f"{len(MODELS)} SQL models over {len(sources())} source tables; template {template}")
    print(f"{'scale':>6} {'input rows':>11} {'build s':>8} {'checks s':>9} {'us/row':>7} {'audit s':>8} "
          f"{'chain':>6} {'violations':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for scale in scales:
            r = build(scale, template, str(Path(tmp) / f"x{scale}.duckdb"))
            print(f"{r['scale']:>6} {r['rows']:>11,} {r['build_s']:>8.2f} {r['checks_s']:>9.2f} "
                  f"{r['us_per_row']:>7.1f} {r['audit_s']:>8.3f} {r['chain_rows']:>6} {r['violations']:>10}")


if __name__ == "__main__":
    main()
