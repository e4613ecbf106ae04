"""Scoring model adapters on the DocVQA-style test split: the five metrics side by side.

ANLS, exact match and LAVE are per question, then averaged; BLEU and CIDEr-D are corpus metrics
over the adapter's answers (CIDEr-D's IDF over the references of this test split). A prediction
that failed counts as an empty answer; a judgment that failed is left out of the LAVE mean and
counted. The LAVE column is named by who judged: `lave` for a judge model, `lave_proxy` for the
offline rubric proxy, never both for one adapter.
"""

from __future__ import annotations

import polars as pl

from assets.docmatix.cider import cider_d
from assets.docmatix.metrics import anls, bleu, exact_match
from assets.kit.identity import record_id
from assets.kit.provenance import MODELS, PARENTS, declare

EVALUATION_SCHEMA = {
    "record_id": pl.String, "adapter": pl.String, "n": pl.Int32,
    "anls": pl.Float64, "exact_match": pl.Float64, "bleu": pl.Float64, "cider_d": pl.Float64,
    "lave": pl.Float64, "lave_proxy": pl.Float64, "prediction_failures": pl.Int32, "judge_failures": pl.Int32,
    "prediction_ids": PARENTS, "entries": MODELS,
}


def lave_metric(judge_backend: str) -> str:
    return "lave_proxy" if judge_backend == "offline" else "lave"


def model_label(entry: dict) -> str:
    """'backend:model' as a person reads it (an offline label already starts with 'offline:')."""
    backend, model = entry["backend"], entry["model"]
    return model if model.startswith(f"{backend}:") else f"{backend}:{model}"


def _entries(models: pl.Series) -> list[dict]:
    """The distinct model entries of a `models` column, in first-seen order. A table row stands
    for many calls, one prompt each: its entries name the model and its identity, not a prompt
    (`prompt_sha` is left empty; each prediction and judgment row keeps its own)."""
    out: dict[tuple, dict] = {}
    for row in models.to_list():
        for e in row or []:
            e = {**e, "prompt_sha": ""}
            out.setdefault(tuple(sorted(e.items())), e)
    return list(out.values())


def evaluation_table(predictions: pl.DataFrame, judgments: pl.DataFrame) -> pl.DataFrame:
    """One row per adapter (`docvqa_score:<adapter>`), built from that adapter's predictions
    (`parent_ids`), with the answering model and the judge in `models` (roles `answer`, `judge`).
    `predictions`: record_id, adapter, prediction, answers (the references), error, models;
    `judgments`: prediction_id, metric, score, models."""
    rows = []
    for adapter in predictions["adapter"].unique(maintain_order=True):
        p = predictions.filter(pl.col("adapter") == adapter)
        j = judgments.filter(pl.col("prediction_id").is_in(p["record_id"].implode()))
        answers = p["prediction"].fill_null("").to_list()
        refs = p["answers"].to_list()
        scored = j.filter(pl.col("score").is_not_null())
        metric = scored["metric"][0] if scored.height else None
        lave_mean = float(scored["score"].mean()) if scored.height else None
        rows.append({
            "record_id": record_id("docvqa_score", adapter), "adapter": adapter, "n": p.height,
            "anls": anls(answers, refs), "exact_match": exact_match(answers, refs),
            "bleu": bleu(answers, refs), "cider_d": cider_d(answers, refs),
            "lave": lave_mean if metric == "lave" else None,
            "lave_proxy": lave_mean if metric == "lave_proxy" else None,
            "prediction_failures": int(p["error"].is_not_null().sum()),
            "judge_failures": j.height - scored.height,
            "prediction_ids": p["record_id"].to_list(),
            "entries": _entries(p["models"]) + _entries(scored["models"]),
        })
    df = pl.DataFrame(rows, schema=EVALUATION_SCHEMA).with_columns(
        pl.col(c).round(4) for c in ("anls", "exact_match", "bleu", "cider_d", "lave", "lave_proxy")
    )
    return declare(df, parents=["prediction_ids"], models=["entries"]).drop("prediction_ids", "entries")


def judge_of(row: dict) -> str | None:
    """The judge of an evaluation row, as 'backend:model' (None when nothing was judged)."""
    return next((model_label(e) for e in row["models"] if e["role"] == "judge"), None)
