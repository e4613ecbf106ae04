"""The provenance contract every dataset row carries (DESIGN principle 5), written through one helper.

- `record_id`: from `assets.kit.identity`.
- `parent_ids: list[str]`: the records this row was built from (a question's scene, a Q/A's
  document), in order, without nulls or repeats. A row screened from the previous stage of the same
  record lists nothing: it *is* that record.
- `models: list[struct(role, backend, model, task_version, prompt_sha, fingerprint)]`: one entry per
  model-derived field group (`role` says which: label, annotation, question, judge, ...).

`provenance_index` reads exactly these columns, so the audit never guesses from column names.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

MODEL_FIELDS = ("role", "backend", "model", "task_version", "prompt_sha", "fingerprint")
MODEL_STRUCT = pl.Struct({f: pl.String for f in MODEL_FIELDS})
MODELS = pl.List(MODEL_STRUCT)
PARENTS = pl.List(pl.String)
CONTRACT = {"record_id": pl.String, "parent_ids": PARENTS, "models": MODELS}


def models_series(entries: Sequence[Sequence[dict[str, str]]], name: str = "models") -> pl.Series:
    """A `models` column from per-row entry lists (`TaskRun.model_entries(role)`, or hand-built
    entries for a model that is not a Task, such as a trained checkpoint)."""
    return pl.Series(name, [list(e) for e in entries], dtype=MODELS)


def model_entry(role: str, backend: str, model: str, task_version: str = "", prompt_sha: str = "",
                fingerprint: str = "") -> dict[str, str]:
    return {"role": role, "backend": backend, "model": model, "task_version": task_version,
            "prompt_sha": prompt_sha, "fingerprint": fingerprint}


def _as_list(part: str | pl.Expr | pl.Series, schema: pl.Schema) -> pl.Expr:
    expr = pl.col(part) if isinstance(part, str) else pl.lit(part) if isinstance(part, pl.Series) else part
    name = part if isinstance(part, str) else None
    if name is not None and not isinstance(schema.get(name), pl.List):
        return pl.concat_list(expr.cast(pl.String))
    return expr


def declare(df: pl.DataFrame, *, parents: Sequence[str | pl.Expr] = (),
            models: Sequence[str | pl.Expr | pl.Series] = ()) -> pl.DataFrame:
    """`df` with `parent_ids` and `models` set from the given columns (scalar or list columns of
    ids; `models`-typed columns or series). Columns consumed here and not otherwise part of the
    row are the caller's to drop."""
    if parents:
        exprs = [_as_list(p, df.schema).cast(PARENTS) for p in parents]
        parent_ids = pl.concat_list(exprs).list.drop_nulls().list.unique(maintain_order=True)
    else:
        parent_ids = pl.lit([], dtype=PARENTS)
    if models:
        exprs = [(pl.col(m) if isinstance(m, str) else pl.lit(m) if isinstance(m, pl.Series) else m).cast(MODELS)
                 for m in models]
        model_list = pl.concat_list(exprs).list.eval(pl.element().filter(pl.element().struct.field("backend")
                                                                         .is_not_null()))
    else:
        model_list = pl.lit([], dtype=MODELS)
    return df.with_columns(parent_ids.alias("parent_ids"), model_list.cast(MODELS).alias("models"))


def contract_problems(df: pl.DataFrame) -> list[str]:
    """What keeps `df` from honouring the contract (missing or mistyped columns)."""
    return [f"{c}: expected {t}, found {df.schema.get(c)}" for c, t in CONTRACT.items() if df.schema.get(c) != t]
