"""Every `dbt_like_sql/*.sql` file as a DuckDB-backed asset, every `checks.yml` entry as a check.

A model runs `CREATE OR REPLACE TABLE <name> AS <query>` (or `VIEW`, with a `-- materialized: view`
header) in the warehouse through dagster-duckdb's resource, in the `duckdb` pool (one writer per
file). A `-- chart: <label column> <value column>` header adds a bar chart of the result to the UI. Upstream Python assets are visible to SQL as
views under their names; their views are refreshed first so a model never reads a stale glob. The
materialization records row count, column schema and column lineage (sqlglot), so the UI shows
which upstream column each report column comes from.
"""


from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.kit.metadata import bar_chart, markdown_table
from assets.quality.check_specs import DataCheck, load_checks
from assets.quality.sql_parse import SqlModel, column_lineage, load_models

SQL_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql"


def _existing(con, names: list[str]) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() WHERE NOT internal"
    ).fetchall()
    return {r[0] for r in rows} & set(names)


def _schema(con, table: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f'DESCRIBE "{table}"').fetchall()}


def _chart(con, model: SqlModel):
    spec = model.header.get("chart", "").split()
    if len(spec) != 2:
        return None
    label, value = spec
    rows = con.execute(
        f'SELECT CAST("{label}" AS VARCHAR), sum("{value}") FROM "{model.name}" GROUP BY 1 ORDER BY 2 DESC LIMIT 40'
    ).fetchall()
    if not rows:
        return None
    return bar_chart({str(k): float(v or 0) for k, v in rows}, f"{model.name}: {value} by {label}", value)


def refresh_upstream_views(deps: tuple[str, ...], database: str) -> None:
    """Recreate the views of Python assets this model reads (a no-op for SQL-model tables)."""
    from resources.settings import load_settings
    from resources.warehouse import sync_views

    sync_views(database, load_settings().data, [[d] for d in deps])


def build_sql_asset(model: SqlModel) -> dg.AssetsDefinition:
    @dg.asset(
        name=model.name,
        deps=[dg.AssetKey(d) for d in model.deps],
        group_name="quality",
        kinds={"duckdb", "sql"},
        owners=[model.header.get("owner", "team:data")],
        code_version=model.code_version,
        pool="duckdb",
        description=model.description,
        metadata={"sql": dg.MetadataValue.md(f"```sql\n{model.sql}\n```"),
                  "source_file": f"dbt_like_sql/{Path(model.path).name}"},
    )
    def _sql_model(duckdb: DuckDBResource) -> dg.MaterializeResult:
        kind = "VIEW" if model.header.get("materialized", "table").lower() == "view" else "TABLE"
        refresh_upstream_views(model.deps, duckdb.database)
        with duckdb.get_connection() as con:
            missing = set(model.deps) - _existing(con, list(model.deps))
            if missing:
                raise dg.Failure(f"{model.name}: the warehouse has no table or view for "
                                 f"{', '.join(sorted(missing))}; materialize them first")
            con.execute(f'CREATE OR REPLACE {kind} "{model.name}" AS {model.sql}')
            rows = con.execute(f'SELECT count(*) FROM "{model.name}"').fetchall()[0][0]
            columns = _schema(con, model.name)
            upstream = {d: _schema(con, d) for d in model.deps}
            preview = con.sql(f'SELECT * FROM "{model.name}" LIMIT 20').pl()
            chart = _chart(con, model)
        lineage = column_lineage(model.sql, upstream)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(name, dtype) for name, dtype in columns.items()]
                ),
                "dagster/column_lineage": dg.TableColumnLineage(
                    deps_by_column={
                        col: [dg.TableColumnDep(asset_key=dg.AssetKey(t), column_name=c) for t, c in deps]
                        for col, deps in lineage.items() if deps
                    }
                ),
                "preview": dg.MetadataValue.md(markdown_table(preview, 20)),
                **({"chart": chart} if chart is not None else {}),
            }
        )

    return _sql_model


def build_data_check(check: DataCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(check.table),
        name=check.name,
        blocking=check.blocking,
        description=check.description or f"{check.kind} on {check.table}",
        additional_deps=[dg.AssetKey(d) for d in check.depends_on],
        pool="duckdb",
    )
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        sql = check.violations_sql()
        with duckdb.get_connection() as con:
            n = con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
            sample = con.sql(f"SELECT * FROM ({sql}) LIMIT 5").pl() if n else None
        meta = {"violations": n, "sql": dg.MetadataValue.md(f"```sql\n{sql}\n```")}
        if sample is not None:
            meta["sample"] = dg.MetadataValue.md(markdown_table(sample, 5))
        return dg.AssetCheckResult(passed=n == 0, metadata=meta)

    return _check


MODELS = load_models(SQL_DIR)
sql_model_assets = [build_sql_asset(m) for m in MODELS]
data_checks = [build_data_check(c) for c in load_checks(SQL_DIR / "checks.yml")]
