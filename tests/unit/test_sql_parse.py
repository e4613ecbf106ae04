from pathlib import Path

import pytest

from assets.quality.sql_parse import (
    SqlModelError,
    check_known,
    column_lineage,
    load_models,
    load_schema,
    output_columns,
    parse_model,
    referenced_tables,
)

SQL_DIR = Path(__file__).resolve().parents[2] / "dbt_like_sql"


@pytest.mark.parametrize(
    "sql, tables",
    [
        ("SELECT * FROM a", {"a"}),
        ("WITH c AS (SELECT * FROM a) SELECT * FROM c JOIN b USING (id)", {"a", "b"}),
        ("SELECT x FROM (SELECT x FROM inner_t) sub WHERE x IN (SELECT y FROM filter_t)", {"inner_t", "filter_t"}),
        ('SELECT * FROM "Quoted Name" q LEFT JOIN "other-table" o ON q.id = o.id', {"Quoted Name", "other-table"}),
        ("WITH a AS (SELECT 1 AS x), b AS (SELECT * FROM a) SELECT * FROM b, real_t", {"real_t"}),
        ("SELECT * FROM t1 UNION ALL SELECT * FROM t2", {"t1", "t2"}),
    ],
)
def test_dependencies_are_the_tables_read(sql, tables):
    assert referenced_tables(sql) == tables


def _write(folder, name, sql):
    (folder / f"{name}.sql").write_text(sql)


def test_header_version_and_formatting_independence(tmp_path):
    _write(tmp_path, "m1", "-- description: counts\n-- owner: team:qa\nSELECT count(*) AS n FROM a")
    m1 = parse_model(tmp_path / "m1.sql")
    assert m1.description == "counts" and m1.header["owner"] == "team:qa" and m1.deps == ("a",)
    _write(tmp_path, "m2", "select   COUNT(*)  as n\n  from a  -- a comment")
    assert parse_model(tmp_path / "m2.sql").code_version == m1.code_version
    _write(tmp_path, "m3", "SELECT count(*) AS n FROM b")
    assert parse_model(tmp_path / "m3.sql").code_version != m1.code_version


def test_models_load_in_dependency_order(tmp_path):
    _write(tmp_path, "z_base", "SELECT * FROM src")
    _write(tmp_path, "a_top", "SELECT * FROM z_base")
    assert [m.name for m in load_models(tmp_path)] == ["z_base", "a_top"]


def test_a_cycle_fails_at_load_naming_the_models(tmp_path):
    _write(tmp_path, "x", "SELECT * FROM y")
    _write(tmp_path, "y", "SELECT * FROM x")
    with pytest.raises(SqlModelError, match=r"cycle between SQL models: (x -> y -> x|y -> x -> y)"):
        load_models(tmp_path)


def test_self_reference_and_parse_errors_name_the_file(tmp_path):
    _write(tmp_path, "selfish", "SELECT * FROM selfish")
    with pytest.raises(SqlModelError, match="selfish.sql: reads its own table"):
        parse_model(tmp_path / "selfish.sql")
    _write(tmp_path, "broken", "SELECT FROM WHERE (")
    with pytest.raises(SqlModelError, match="broken.sql: cannot parse SQL"):
        parse_model(tmp_path / "broken.sql")


def test_unknown_tables_fail_with_the_file_and_table(tmp_path):
    _write(tmp_path, "report", "SELECT * FROM known JOIN missing_one USING (id)")
    models = load_models(tmp_path)
    check_known(models, {"known", "missing_one"})
    with pytest.raises(SqlModelError, match="report.sql reads missing_one"):
        check_known(models, {"known"})


def test_column_lineage_through_a_cte():
    sql = ("WITH k AS (SELECT shard, kept FROM screen) "
           "SELECT k.shard AS shard, count(*) FILTER (WHERE k.kept) AS kept_rows, r.licence "
           "FROM k JOIN raw r ON r.shard = k.shard GROUP BY k.shard, r.licence")
    schema = {"screen": {"shard": "VARCHAR", "kept": "BOOLEAN"}, "raw": {"shard": "VARCHAR", "licence": "VARCHAR"}}
    lineage = column_lineage(sql, schema)
    assert lineage["shard"] == [("screen", "shard")]
    assert lineage["kept_rows"] == [("screen", "kept")]
    assert lineage["licence"] == [("raw", "licence")]


@pytest.mark.parametrize(
    "sql, columns",
    [
        ("SELECT a, b AS c FROM t", ["a", "c"]),
        ("WITH x AS (SELECT 1 AS z) SELECT t.a, count(*) AS n FROM t GROUP BY 1", ["a", "n"]),
        ("SELECT a, b FROM t UNION ALL SELECT c, d FROM u", ["a", "b"]),
        ("SELECT * FROM t", None),
        ("SELECT t.* FROM t", None),
    ],
)
def test_output_columns(sql, columns):
    assert output_columns(sql) == columns


def test_schema_entry_is_part_of_the_version(tmp_path):
    _write(tmp_path, "m", "SELECT count(*) AS n FROM a")
    (tmp_path / "schema.yml").write_text("m:\n  columns:\n    n: rows of a\n")
    (m,) = load_models(tmp_path)
    assert m.columns == {"n": "rows of a"}
    (tmp_path / "schema.yml").write_text("m:\n  columns:\n    n:   rows   of a\n")  # whitespace only
    assert load_models(tmp_path)[0].code_version == m.code_version
    (tmp_path / "schema.yml").write_text("m:\n  columns:\n    n: rows of table a\n")
    assert load_models(tmp_path)[0].code_version != m.code_version


@pytest.mark.parametrize(
    "text, error",
    [
        ("ghost:\n  columns:\n    n: x\n", "describes models with no .sql file: ghost"),
        ("m:\n  columns:\n    n: ''\n", "m: columns without a description: n"),
        ("m:\n  n: rows\n", "m: expected `columns:`"),
        ("m: [", "not valid YAML"),
    ],
)
def test_malformed_schema_names_the_problem(tmp_path, text, error):
    _write(tmp_path, "m", "SELECT count(*) AS n FROM a")
    (tmp_path / "schema.yml").write_text(text)
    with pytest.raises(SqlModelError, match=error.replace("(", r"\(")):
        load_models(tmp_path)


def test_every_column_of_every_model_is_described():
    """schema.yml describes exactly the columns each dbt_like_sql model returns, in a UI-readable way."""
    schema = load_schema(SQL_DIR)
    models = load_models(SQL_DIR)
    problems = []
    for m in models:
        columns = output_columns(m.sql)
        if columns is None or "" in columns:
            problems.append(f"{m.name}: every output column needs an explicit name (no *, alias expressions)")
            continue
        described = schema.get(m.name, {})
        missing = [c for c in columns if c not in described]
        stale = [c for c in described if c not in columns]
        if missing:
            problems.append(f"{m.name}: no description for {missing}")
        if stale:
            problems.append(f"{m.name}: schema.yml describes columns it does not return: {stale}")
    assert problems == []
    assert {m.name for m in models} == set(schema)
