"""SQL models and declarative checks against a real DuckDB warehouse."""

import dagster as dg
import duckdb
import pytest

from assets.quality.check_specs import CheckSpecError, load_checks
from assets.quality.sql_models import build_data_check, build_sql_asset
from assets.quality.sql_parse import load_models, parse_model
from resources.warehouse import Warehouse

CHECKS = """
orders:
  - not_null: [id, status]
  - unique: [id]
  - accepted_values: {column: status, values: [open, shipped]}
  - relationships: {column: customer, to: customers, field: name}
  - row_count: {min: 1, max: 3}
  - sql: {name: no_negative_totals, query: "SELECT * FROM orders WHERE total < 0"}
    blocking: true
"""


def _warehouse(path, orders):
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE customers AS SELECT * FROM (VALUES ('ann'), ('bob')) t(name)")
        con.execute("CREATE TABLE orders (id INT, status VARCHAR, customer VARCHAR, total DOUBLE)")
        con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", orders)


def _run_checks(tmp_path, orders):
    db = tmp_path / "wh.duckdb"
    _warehouse(db, orders)
    (tmp_path / "checks.yml").write_text(CHECKS)
    checks = [build_data_check(c) for c in load_checks(tmp_path / "checks.yml")]
    specs = [dg.AssetSpec("orders"), dg.AssetSpec("customers")]
    res = dg.materialize([*specs, *checks], resources={"duckdb": Warehouse(database=str(db))},
                         selection=dg.AssetSelection.checks(*checks), raise_on_error=False)
    return {e.check_name: e.passed for e in res.get_asset_check_evaluations()}


def test_every_check_type_passes_on_good_data(tmp_path):
    results = _run_checks(tmp_path, [(1, "open", "ann", 10.0), (2, "shipped", "bob", 5.5)])
    assert results == {
        "not_null__id__status": True, "unique__id": True, "accepted_values__status": True,
        "relationships__customer__customers": True, "row_count": True, "no_negative_totals": True,
    }


def test_every_check_type_fails_on_bad_data(tmp_path):
    bad = [(1, "open", "ann", 1.0), (1, "lost", "zed", -2.0), (3, None, "bob", 0.0), (4, "open", "ann", 0.0)]
    assert set(_run_checks(tmp_path, bad).values()) == {False}


def test_malformed_checks_file_names_the_entry(tmp_path):
    (tmp_path / "checks.yml").write_text("orders:\n  - nonsense: [x]\n")
    with pytest.raises(CheckSpecError, match=r"checks.yml: orders\[0\]: .*unknown check type 'nonsense'"):
        load_checks(tmp_path / "checks.yml")


def test_sql_model_materializes_a_table_with_schema_and_lineage(tmp_path, monkeypatch):
    db = tmp_path / "wh.duckdb"
    _warehouse(db, [(1, "open", "ann", 10.0), (2, "open", "bob", 2.0), (3, "shipped", "ann", 1.0)])
    monkeypatch.setenv("MMFOUNDRY_DATA", str(tmp_path / "data"))
    (tmp_path / "per_status.sql").write_text(
        "-- description: totals per status\nSELECT status, sum(total) AS total FROM orders GROUP BY status")
    model = build_sql_asset(parse_model(tmp_path / "per_status.sql"))
    res = dg.materialize([dg.AssetSpec("orders"), model], selection=[model],
                         resources={"duckdb": Warehouse(database=str(db))})
    mat = res.asset_materializations_for_node("per_status")[0]
    assert mat.metadata["dagster/row_count"].value == 2
    schema = mat.metadata["dagster/column_schema"].value
    assert [c.name for c in schema.columns] == ["status", "total"]
    lineage = mat.metadata["dagster/column_lineage"].value
    assert lineage.deps_by_column["total"][0].column_name == "total"
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.sql("SELECT total FROM per_status WHERE status = 'open'").fetchall() == [(12.0,)]


def test_view_header_and_chart_header(tmp_path, monkeypatch):
    """`materialized: view` keeps the model live over its inputs; `chart` draws the result in the UI."""
    db = tmp_path / "wh.duckdb"
    _warehouse(db, [(1, "open", "ann", 10.0), (2, "shipped", "bob", 2.0)])
    monkeypatch.setenv("MMFOUNDRY_DATA", str(tmp_path / "data"))
    (tmp_path / "open_orders.sql").write_text(
        "-- materialized: view\n-- chart: status total\nSELECT status, total FROM orders WHERE status = 'open'")
    model = build_sql_asset(parse_model(tmp_path / "open_orders.sql"))
    res = dg.materialize([dg.AssetSpec("orders"), model], selection=[model],
                         resources={"duckdb": Warehouse(database=str(db))})
    mat = res.asset_materializations_for_node("open_orders")[0]
    assert mat.metadata["chart"].value.startswith("![")
    with duckdb.connect(str(db)) as con:
        kinds = con.sql("SELECT table_type FROM information_schema.tables WHERE table_name = 'open_orders'").fetchall()
        assert kinds == [("VIEW",)]
        con.execute("INSERT INTO orders VALUES (3, 'open', 'bob', 5.0)")
        assert con.sql("SELECT count(*) FROM open_orders").fetchall() == [(2,)]


def _materialize(model, db, instance=None):
    return dg.materialize([dg.AssetSpec("orders"), model], selection=[model], instance=instance,
                          resources={"duckdb": Warehouse(database=str(db))})


def test_column_descriptions_content_data_version_and_audit_links(tmp_path, monkeypatch):
    """schema.yml's descriptions reach the column schema; the data version follows the table's content
    (not its row order, not the run), so an unchanged report retriggers nothing downstream."""
    db = tmp_path / "wh.duckdb"
    _warehouse(db, [(1, "open", "ann", 10.0), (2, "open", "bob", 2.0), (3, "shipped", "ann", 1.0)])
    monkeypatch.setenv("MMFOUNDRY_DATA", str(tmp_path / "data"))
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    (sql_dir / "per_customer.sql").write_text(
        "SELECT customer, 'order:' || min(id) AS first_record_id, sum(total) AS total FROM orders GROUP BY customer")
    (sql_dir / "schema.yml").write_text(
        "per_customer:\n  columns:\n    customer: who ordered\n    first_record_id: their first order\n")
    (model_def,) = load_models(sql_dir)
    model = build_sql_asset(model_def)
    with dg.instance_for_test() as instance:
        first = _materialize(model, db, instance).asset_materializations_for_node("per_customer")[0]
        schema = first.metadata["dagster/column_schema"].value
        assert {c.name: c.description for c in schema.columns} == {
            "customer": "who ordered", "first_record_id": "their first order", "total": None}
        assert first.metadata["undescribed_columns"].value == ["total"]
        links = first.metadata["first_record_id_audits"].value
        assert "[order:1](/locations/__repository__@mmfoundry/jobs/audit/playground/setup?config=" in links
        again = _materialize(model, db, instance).asset_materializations_for_node("per_customer")[0]
        assert again.tags["dagster/data_version"] == first.tags["dagster/data_version"]
        with duckdb.connect(str(db)) as con:
            con.execute("INSERT INTO orders VALUES (4, 'open', 'bob', 1.0)")
        changed = _materialize(model, db, instance).asset_materializations_for_node("per_customer")[0]
        assert changed.tags["dagster/data_version"] != first.tags["dagster/data_version"]
    assert model.code_versions_by_key[dg.AssetKey("per_customer")] == model_def.code_version


def test_the_project_sql_models_carry_their_descriptions():
    from assets.quality.sql_models import MODELS, sql_model_assets

    assert len(MODELS) == len(sql_model_assets) > 0
    for m in MODELS:
        assert m.columns, f"{m.name} has no schema.yml entry"
