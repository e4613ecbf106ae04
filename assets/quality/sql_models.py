"""Every `dbt_like_sql/*.sql` file as a DuckDB-backed asset, every `checks.yml` entry as a check.

A model runs `CREATE OR REPLACE TABLE <name> AS <query>` (or `VIEW`, with a `-- materialized: view`
header) in the warehouse through dagster-duckdb's resource, in the `duckdb` pool (one writer per
file). A `-- chart: <label column> <value column>` header adds a bar chart of the result to the UI.
Upstream Python assets are visible to SQL as views under their names; their views are refreshed
first so a model never reads a stale glob. The materialization records row count, column schema
with each column's description (`schema.yml`) and column lineage (sqlglot), so the UI shows what
each report column means and which upstream column it comes from; record ids and URIs in the
result are listed as links (a record id opens its audit in the launchpad).

Versions: a model's code version is the hash of its normalised SQL and its schema.yml entry (so
these assets are declared with `dg.asset`, not `kit_asset`, whose version is a module's source). A
table's data version is a hash of its content, independent of row order, so a report recomputed
to the same rows reports the same version and nothing downstream re-runs; a view's is left to
Dagster (its code version and its inputs' data versions, which is what a view's content is).
"""

import hashlib
from pathlib import Path

import dagster as dg

from assets.kit.links import audit_launchpad_url, is_uri, local_path, markdown_link
from assets.kit.metadata import bar_chart, markdown_table
from assets.quality.check_specs import DataCheck, load_checks
from assets.quality.sql_parse import SqlModel, column_lineage, load_models, referenced_tables
from resources.warehouse import Warehouse

LINKS_SHOWN = 10

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


def content_version(con, table: str) -> str:
    """A hash of a table's schema and rows, independent of row order (a sum of per-row md5s, so a
    repeated row counts twice)."""
    schema = _schema(con, table)
    n, upper, lower = con.execute(
        f'SELECT count(*), coalesce(sum(md5_number_upper(CAST(t AS VARCHAR))), 0), '
        f'coalesce(sum(md5_number_lower(CAST(t AS VARCHAR))), 0) FROM "{table}" AS t').fetchall()[0]
    text = "\x1f".join([*(f"{c}:{t}" for c, t in schema.items()), str(n), str(upper), str(lower)])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def is_id_column(name: str) -> bool:
    return name == "record_id" or name.endswith("_record_id")


def link_metadata(con, table: str, columns: list[str]) -> dict[str, dg.MetadataValue]:
    """Clickable values from a result: record ids (to their audit) and URIs (to the file)."""
    out: dict[str, dg.MetadataValue] = {}
    for col in columns:
        if not is_id_column(col) and not col.endswith("_uri"):
            continue
        values = [r[0] for r in con.execute(
            f'SELECT DISTINCT CAST("{col}" AS VARCHAR) AS v FROM "{table}" WHERE "{col}" IS NOT NULL '
            f"ORDER BY v LIMIT {LINKS_SHOWN}").fetchall()]
        if not values:
            continue
        if is_id_column(col):
            lines = [f"- {markdown_link(v, audit_launchpad_url(v))}" for v in values]
            out[f"{col}_audits"] = dg.MetadataValue.md("Audit (opens the `audit` launchpad):\n\n"
                                                      + "\n".join(lines))
        elif all(is_uri(v) for v in values):
            if len(values) == 1:
                path = local_path(values[0])
                out[col] = dg.MetadataValue.path(path) if path else dg.MetadataValue.url(values[0])
            else:
                out[col] = dg.MetadataValue.md("\n".join(f"- {markdown_link(v, v)}" for v in values))
    return out


def table_schema(model: SqlModel, columns: dict[str, str]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name, dtype, description=model.columns.get(name))
                                   for name, dtype in columns.items()])


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
                  "source_file": dg.MetadataValue.path(f"dbt_like_sql/{Path(model.path).name}")},
    )
    def _sql_model(duckdb: Warehouse) -> dg.MaterializeResult:
        kind = "VIEW" if model.header.get("materialized", "table").lower() == "view" else "TABLE"
        duckdb.refresh_views(model.deps)
        with duckdb.get_connection() as con:
            missing = set(model.deps) - _existing(con, list(model.deps))
            if missing:
                raise dg.Failure(f"{model.name}: the warehouse has no table or view for "
                                 f"{', '.join(sorted(missing))}; materialize them first")
            duckdb.store_model(con, model.name, kind, model.sql)
            rows = con.execute(f'SELECT count(*) FROM "{model.name}"').fetchall()[0][0]
            columns = _schema(con, model.name)
            upstream = {d: _schema(con, d) for d in model.deps}
            preview = con.sql(f'SELECT * FROM "{model.name}" LIMIT 20').pl()
            chart = _chart(con, model)
            links = link_metadata(con, model.name, list(columns))
            version = content_version(con, model.name) if kind == "TABLE" else None
        lineage = column_lineage(model.sql, upstream)
        undescribed = [c for c in columns if c not in model.columns]
        return dg.MaterializeResult(
            data_version=dg.DataVersion(version) if version else None,
            metadata={
                "dagster/row_count": rows,
                "dagster/column_schema": table_schema(model, columns),
                **({"undescribed_columns": dg.MetadataValue.json(undescribed)} if undescribed else {}),
                **links,
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
    def _check(duckdb: Warehouse) -> dg.AssetCheckResult:
        sql = check.violations_sql()
        duckdb.refresh_views(sorted(referenced_tables(sql) | {check.table, *check.depends_on}))
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
