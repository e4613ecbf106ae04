"""The sCM assets' rows under the provenance contract (assets/kit/provenance.py).

- A training asset (`scm_teacher`, `scm_student`) has one row per logged step:
  `scm_teacher:<checkpoint sha256>:<step>`, the run that produced that checkpoint, at that step;
  the row of the final step stands for the checkpoint (`checkpoint_record`). The teacher's rows
  name their image source as parent (`image_source:digits`), the student's the teacher checkpoint
  it was initialised and distilled from.
- A report row is `scm_report:<sampler>` (`scm_report:heun:<nfe>` for the sweep); its parent is the
  image source whose test split it measured, and `models` names the checkpoint of the row's
  network (role `evaluated`, fingerprint = the checkpoint's sha256; none for the data floor).

Pure logic: polars only (the torch side, scm/, stays free of it).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from assets.kit.identity import record_id, record_id_expr, source_key
from assets.kit.provenance import declare, model_entry, models_series


def image_source(source: str) -> str:
    """The source key of the images an sCM run trains on ('digits', a folder, a Parquet file)."""
    return source_key("image_source", source)


def checkpoint_frame(asset: str, curve: list[dict], uri: str, sha256: str, parents: Sequence[str],
                     extra: dict | None = None) -> pl.DataFrame:
    """A training run's logged steps with its checkpoint (URI + sha256) on every row."""
    df = pl.DataFrame(curve, infer_schema_length=None)
    cols = {"checkpoint_uri": uri, "checkpoint_sha256": sha256, **(extra or {})}
    df = df.with_columns(*(pl.lit(v).alias(k) for k, v in cols.items()),
                         pl.Series("_parents", [list(parents)] * df.height, dtype=pl.List(pl.String)))
    df = df.select(record_id_expr(asset, "checkpoint_sha256", "step").alias("record_id"), pl.all())
    return declare(df, parents=["_parents"]).drop("_parents")


def checkpoint_record(df: pl.DataFrame) -> dict:
    """The row of a training asset's final step: the record that stands for its checkpoint."""
    return df.filter(pl.col("step") == pl.col("step").max()).row(0, named=True)


def report_frame(rows: list[dict], columns: Sequence[str], source: str, checkpoints: dict[str, dict]
                 ) -> pl.DataFrame:
    """The report's rows; `checkpoints` maps a network name (teacher, student) to its checkpoint
    record (a row of its training asset)."""
    df = pl.DataFrame(rows, schema_overrides={"t_mid": pl.Float64}, infer_schema_length=None).select(columns)
    ids = [record_id("scm_report", r["sampler"], *([r["nfe"]] if r["section"] == "heun_sweep" else []))
           for r in df.iter_rows(named=True)]
    models = models_series([[model_entry("evaluated", "torch", checkpoints[n]["record_id"],
                                         fingerprint=checkpoints[n]["checkpoint_sha256"])] if n in checkpoints else []
                            for n in df["network"]])
    df = df.select(pl.Series("record_id", ids, dtype=pl.String), pl.all(),
                   pl.lit(image_source(source)).alias("_source"))
    return declare(df, parents=["_source"], models=[models]).drop("_source")
