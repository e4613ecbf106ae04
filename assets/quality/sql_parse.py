"""SQL files as models, read without dbt: dependencies, versions and column lineage from sqlglot.

One `dbt_like_sql/<name>.sql` file is one model named `<name>`. Its dependencies are the tables its
query reads (CTE names excluded; joins, subqueries and quoted names included); its version is the
hash of the normalised SQL and of the model's entry in `schema.yml` (its column descriptions), so
reformatting or editing a comment changes nothing downstream while a real change makes it stale.
Leading `-- key: value` comments are the model's header (`description`, `owner`). A cycle between
models or a table nothing provides fails at load time, naming the file, because a graph that cannot
run should not load.

`schema.yml` beside the SQL files describes every output column of every model:

```yaml
<model>:
  columns:
    <column>: <description>
```
"""

from __future__ import annotations

import graphlib
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp

DIALECT = "duckdb"
_HEADER = re.compile(r"^--\s*([A-Za-z_]+)\s*:\s*(.*)$")
SCHEMA_FILE = "schema.yml"


class SqlModelError(ValueError):
    """A model that cannot be part of the graph; the message names the file and the reason."""


@dataclass(frozen=True)
class SqlModel:
    name: str
    path: str
    sql: str
    deps: tuple[str, ...]
    code_version: str
    header: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)  # column -> description, from schema.yml

    @property
    def description(self) -> str:
        return self.header.get("description", f"SQL model {self.name} ({Path(self.path).name})")


def referenced_tables(sql: str) -> set[str]:
    tree = sqlglot.parse_one(sql, dialect=DIALECT)
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}


def normalised(sql: str) -> str:
    return sqlglot.parse_one(sql, dialect=DIALECT).sql(dialect=DIALECT, comments=False, normalize=True)


def parse_header(sql: str) -> dict[str, str]:
    header = {}
    for line in sql.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _HEADER.match(line)
        if not m:
            break
        header[m.group(1).lower()] = m.group(2).strip()
    return header


def output_columns(sql: str) -> list[str] | None:
    """The names of the columns a query returns, in order (None when a `*` leaves them to the data)."""
    tree = sqlglot.parse_one(sql, dialect=DIALECT)
    names = []
    for select in tree.selects:
        if isinstance(select, exp.Star) or (isinstance(select, exp.Column) and isinstance(select.this, exp.Star)):
            return None
        names.append(select.alias_or_name)
    return names


def schema_version(columns: dict[str, str]) -> str:
    return json.dumps(columns, sort_keys=True, ensure_ascii=False)


def parse_model(path: str | Path, columns: dict[str, str] | None = None) -> SqlModel:
    """One model; `columns` is its schema.yml entry (column descriptions), part of its version."""
    path = Path(path)
    sql = path.read_text(encoding="utf-8").strip().rstrip(";")
    columns = dict(columns or {})
    try:
        deps = referenced_tables(sql)
        version = hashlib.sha256((normalised(sql) + "\x1f" + schema_version(columns)).encode()).hexdigest()[:12]
    except sqlglot.errors.ParseError as e:
        first = str(e).strip().splitlines()[0]
        raise SqlModelError(f"{path.name}: cannot parse SQL ({first})") from e
    if path.stem in deps:
        raise SqlModelError(f"{path.name}: reads its own table {path.stem!r}")
    return SqlModel(path.stem, str(path), sql, tuple(sorted(deps)), version, parse_header(sql), columns)


def load_schema(folder: str | Path) -> dict[str, dict[str, str]]:
    """`schema.yml`: model -> column -> description (empty when the file is absent)."""
    import yaml

    path = Path(folder) / SCHEMA_FILE
    if not path.exists():
        return {}
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise SqlModelError(f"{SCHEMA_FILE}: not valid YAML ({e})") from e
    if not isinstance(doc, dict):
        raise SqlModelError(f"{SCHEMA_FILE}: expected a mapping of model -> {{columns: {{column: description}}}}")
    out = {}
    for model, entry in doc.items():
        columns = (entry or {}).get("columns") if isinstance(entry, dict) else None
        if not isinstance(columns, dict) or set(entry) - {"columns"}:
            raise SqlModelError(f"{SCHEMA_FILE}: {model}: expected `columns:` mapping each column to its description")
        bad = [c for c, d in columns.items() if not isinstance(d, str) or not d.strip()]
        if bad:
            raise SqlModelError(f"{SCHEMA_FILE}: {model}: columns without a description: {', '.join(map(str, bad))}")
        out[str(model)] = {str(c): " ".join(d.split()) for c, d in columns.items()}
    return out


def load_models(folder: str | Path) -> list[SqlModel]:
    schema = load_schema(folder)
    paths = sorted(Path(folder).glob("*.sql"))
    unknown = sorted(set(schema) - {p.stem for p in paths})
    if unknown:
        raise SqlModelError(f"{SCHEMA_FILE} describes models with no .sql file: {', '.join(unknown)}")
    models = [parse_model(p, schema.get(p.stem)) for p in paths]
    by_name = {m.name: m for m in models}
    sorter = graphlib.TopologicalSorter({m.name: [d for d in m.deps if d in by_name] for m in models})
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError as e:
        cycle = " -> ".join(e.args[1])
        raise SqlModelError(f"cycle between SQL models: {cycle}") from e
    return [by_name[n] for n in order]


def check_known(models: list[SqlModel], known: set[str]) -> None:
    problems = [f"{Path(m.path).name} reads {', '.join(sorted(set(m.deps) - known))}"
                for m in models if set(m.deps) - known]
    if problems:
        raise SqlModelError("unknown tables in SQL models (no asset of that name): " + "; ".join(problems))


def column_lineage(sql: str, schema: dict[str, dict[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """For each output column, the (table, column) pairs it is computed from."""
    from sqlglot.lineage import lineage

    tree = sqlglot.parse_one(sql, dialect=DIALECT)
    out: dict[str, list[tuple[str, str]]] = {}
    for select in tree.selects:
        name = select.alias_or_name
        if not name or name == "*":
            continue
        try:
            node = lineage(name, sql, schema=schema, dialect=DIALECT)
        except (sqlglot.errors.SqlglotError, KeyError, ValueError):
            continue  # an expression sqlglot cannot trace gets no lineage, not a failed model
        deps = set()
        for leaf in node.walk():
            if leaf.downstream or not isinstance(leaf.expression, exp.Table):
                continue
            table = leaf.expression.name
            column = leaf.name.split(".")[-1]
            if table in schema:
                deps.add((table, column))
        out[name] = sorted(deps)
    return out
