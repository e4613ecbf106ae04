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

EVALUATION_SCHEMA = {
    "adapter": pl.String, "backend": pl.String, "model": pl.String, "n": pl.Int32,
    "anls": pl.Float64, "exact_match": pl.Float64, "bleu": pl.Float64, "cider_d": pl.Float64,
    "lave": pl.Float64, "lave_proxy": pl.Float64, "judge": pl.String, "prediction_failures": pl.Int32,
    "judge_failures": pl.Int32,
}


def lave_metric(judge_backend: str) -> str:
    return "lave_proxy" if judge_backend == "offline" else "lave"


def _judge_label(backend: str, model: str) -> str:
    return model if model.startswith(f"{backend}:") else f"{backend}:{model}"


def evaluation_table(predictions: pl.DataFrame, judgments: pl.DataFrame) -> pl.DataFrame:
    """One row per adapter. `predictions`: adapter, backend, model, prediction, answers (the references), error;
    `judgments`: record_id (a prediction's), metric, score, judge_backend, judge_model."""
    rows = []
    for adapter in predictions["adapter"].unique(maintain_order=True):
        p = predictions.filter(pl.col("adapter") == adapter)
        j = judgments.filter(pl.col("record_id").is_in(p["record_id"].implode()))
        answers = p["prediction"].fill_null("").to_list()
        refs = p["answers"].to_list()
        scored = j.filter(pl.col("score").is_not_null())
        metric = scored["metric"][0] if scored.height else None
        lave_mean = float(scored["score"].mean()) if scored.height else None
        judge = _judge_label(scored["judge_backend"][0], scored["judge_model"][0]) if scored.height else None
        rows.append({
            "adapter": adapter, "backend": p["backend"][0], "model": p["model"][0], "n": p.height,
            "anls": anls(answers, refs), "exact_match": exact_match(answers, refs),
            "bleu": bleu(answers, refs), "cider_d": cider_d(answers, refs),
            "lave": lave_mean if metric == "lave" else None,
            "lave_proxy": lave_mean if metric == "lave_proxy" else None,
            "judge": judge, "prediction_failures": int(p["error"].is_not_null().sum()),
            "judge_failures": j.height - scored.height,
        })
    return pl.DataFrame(rows, schema=EVALUATION_SCHEMA).with_columns(
        pl.col(c).round(4) for c in ("anls", "exact_match", "bleu", "cider_d", "lave", "lave_proxy")
    )
