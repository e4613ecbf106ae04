"""`dbt_like_sql/checks.yml`: declarative data tests, each compiled to one SQL query that returns
the violating rows (zero rows = pass), the way dbt's generic tests work.

```yaml
<table>:                    # any asset in the warehouse: a SQL model or a Python asset's view
  - not_null: [col, ...]
  - unique: [col, ...]      # the combination is unique
  - accepted_values: {column: col, values: [a, b]}
  - relationships: {column: col, to: other_table, field: other_col}
  - row_count: {min: 1, max: 1000000}
  - sql: {name: my_rule, query: "SELECT ... returning violations"}
```
Any entry may add `blocking: true` (a failure stops downstream steps) and `description`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

KINDS = ("not_null", "unique", "accepted_values", "relationships", "row_count", "sql")


class CheckSpecError(ValueError):
    pass


class DataCheck(BaseModel):
    table: str
    kind: str
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    blocking: bool = False
    description: str = ""

    def violations_sql(self) -> str:
        t = _ident(self.table)
        a = self.args
        if self.kind == "not_null":
            cols = a["columns"]
            return f"SELECT * FROM {t} WHERE " + " OR ".join(f"{_ident(c)} IS NULL" for c in cols)
        if self.kind == "unique":
            cols = ", ".join(_ident(c) for c in a["columns"])
            return f"SELECT {cols}, count(*) AS n FROM {t} GROUP BY ALL HAVING count(*) > 1"
        if self.kind == "accepted_values":
            values = ", ".join(_literal(v) for v in a["values"])
            c = _ident(a["column"])
            return f"SELECT * FROM {t} WHERE {c} IS NOT NULL AND {c} NOT IN ({values})"
        if self.kind == "relationships":
            c, other, f = _ident(a["column"]), _ident(a["to"]), _ident(a["field"])
            return (f"SELECT * FROM {t} AS child WHERE child.{c} IS NOT NULL AND NOT EXISTS "
                    f"(SELECT 1 FROM {other} AS parent WHERE parent.{f} = child.{c})")
        if self.kind == "row_count":
            lo, hi = a.get("min", 0), a.get("max")
            cond = f"n < {int(lo)}" + (f" OR n > {int(hi)}" if hi is not None else "")
            return f"SELECT n FROM (SELECT count(*) AS n FROM {t}) WHERE {cond}"
        return a["query"]

    @property
    def depends_on(self) -> list[str]:
        return [self.args["to"]] if self.kind == "relationships" else []


def _ident(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(v: Any) -> str:
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def _one(table: str, entry: dict[str, Any]) -> DataCheck:
    entry = dict(entry)
    blocking = bool(entry.pop("blocking", False))
    description = str(entry.pop("description", ""))
    if len(entry) != 1:
        raise ValueError(f"each check is one of {', '.join(KINDS)} (plus blocking/description); got {list(entry)}")
    kind, body = next(iter(entry.items()))
    if kind not in KINDS:
        raise ValueError(f"unknown check type {kind!r}; use one of {', '.join(KINDS)}")
    if kind in ("not_null", "unique"):
        cols = body if isinstance(body, list) else [body]
        args = {"columns": [str(c) for c in cols]}
        name = f"{kind}__{'__'.join(args['columns'])}"
    elif kind == "sql":
        args = {"query": str(body["query"])}
        name = str(body["name"])
    elif kind == "accepted_values":
        args = {"column": str(body["column"]), "values": list(body["values"])}
        name = f"accepted_values__{args['column']}"
    elif kind == "relationships":
        args = {k: str(body[k]) for k in ("column", "to", "field")}
        name = f"relationships__{args['column']}__{args['to']}"
    else:
        args = {k: body[k] for k in ("min", "max") if k in body}
        name = "row_count"
    return DataCheck(table=table, kind=kind, name=name, args=args, blocking=blocking, description=description)


def load_checks(path: str | Path) -> list[DataCheck]:
    path = Path(path)
    if not path.exists():
        return []
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise CheckSpecError(f"{path.name}: not valid YAML ({e})") from e
    if not isinstance(doc, dict):
        raise CheckSpecError(f"{path.name}: expected a mapping of table -> list of checks")
    checks = []
    for table, entries in doc.items():
        for i, entry in enumerate(entries or []):
            try:
                checks.append(_one(str(table), entry))
            except (ValidationError, ValueError, KeyError, TypeError, AttributeError) as e:
                raise CheckSpecError(f"{path.name}: {table}[{i}]: {e}") from e
    names = [(c.table, c.name) for c in checks]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise CheckSpecError(f"{path.name}: duplicate check names {sorted(dupes)}")
    return checks
