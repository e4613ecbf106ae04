"""The dataset card: the funnel across every FineVideo stage, hours, categories and licences.

FineVideo reported its funnel in a blog post (1.9M English videos, 600K dynamic, 44K annotated);
here it is computed from the stages' own accounting (every stage keeps every input row with a
verdict), so the card cannot disagree with the data it describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

LIMITATIONS = (
    "Selection reaches its hour budget per category only when enough videos of it pass the screens; "
    "small builds leave categories under budget (see the category table).",
    "Without a VLM backend the annotations are the offline method's: scene boundaries from detected cuts, "
    "speech from subtitles, mood by embedding similarity; fields nothing grounds stay empty.",
    "Licences are those YouTube-Commons declares per video; they are not re-verified against YouTube.",
    "Without an LLM backend taxonomy labels come from embedding similarity to the leaf paths; labels with a "
    "low confidence margin are listed in `taxonomy_feedback` for review.",
)
FUNNEL_COLUMNS = ("kept", "reason", "duration_s", "duration_seconds", "shard")  # all a stage's row needs
FUNNEL_SCHEMA = {"order": pl.Int32, "stage": pl.String, "inputs": pl.Int64, "kept": pl.Int64,
                 "rejected": pl.Int64, "kept_hours": pl.Float64, "top_rejections": pl.String}


def stage_row(order: int, stage: str, df: pl.DataFrame) -> dict[str, Any]:
    """Counts of one stage's frame; a frame without `kept` (the raw metadata, the release) keeps all."""
    has_kept = "kept" in df.columns and df.height > 0
    keep = df.filter(pl.col("kept")) if has_kept else df
    hours = None
    if "duration_s" in df.columns:
        hours = round(float(keep["duration_s"].sum() or 0.0) / 3600, 4)
    elif "duration_seconds" in df.columns:
        hours = round(float(keep["duration_seconds"].sum() or 0.0) / 3600, 4)
    reasons = ""
    if has_kept and "reason" in df.columns:
        top = df.filter(~pl.col("kept")).group_by("reason").len().sort(["len", "reason"], descending=[True, False])
        reasons = ", ".join(f"{r} {n}" for r, n in top.head(4).iter_rows())
    return {"order": order, "stage": stage, "inputs": df.height, "kept": keep.height,
            "rejected": df.height - keep.height, "kept_hours": hours, "top_rejections": reasons}


def funnel(stages: Sequence[tuple[str, pl.DataFrame]]) -> pl.DataFrame:
    return pl.DataFrame([stage_row(i, s, df) for i, (s, df) in enumerate(stages, start=1)], schema=FUNNEL_SCHEMA)


def _hours(df: pl.DataFrame, by: str) -> list[dict[str, Any]]:
    if not df.height:
        return []
    g = df.group_by(by).agg(pl.len().alias("videos"), (pl.col("duration_seconds").sum() / 3600).round(4).alias("hours"))
    return g.sort(["hours", by], descending=[True, False]).rename({by: "name"}).to_dicts()


def models_by_role(dataset: pl.DataFrame) -> dict[str, str]:
    """'<role>_models': the distinct backend:model of each role in the rows' `models`."""
    if "models" not in dataset.columns or not dataset.height:
        return {}
    entries = dataset.select(pl.col("models").explode()).unnest("models").drop_nulls("role")
    if not entries.height:
        return {}
    named = entries.select("role", pl.format("{}:{}", "backend", "model").alias("name")).unique()
    return {f"{role}_models": ", ".join(sorted(named.filter(pl.col("role") == role)["name"].to_list()))
            for role in sorted(named["role"].unique().to_list())}


def card(dataset: pl.DataFrame, funnel_df: pl.DataFrame, extra: dict[str, Any]) -> dict[str, Any]:
    """The card as data (the JSON the Markdown is rendered from)."""
    return {
        "name": "finevideo",
        "videos": dataset.height,
        "hours": round(float(dataset["duration_seconds"].sum() or 0.0) / 3600, 4) if dataset.height else 0.0,
        "funnel": funnel_df.to_dicts(),
        "parent_categories": _hours(dataset, "content_parent_category"),
        "fine_categories": _hours(dataset, "content_category_path"),
        "licences": {str(k): int(v) for k, v in dataset.group_by("license").len().sort("license").iter_rows()}
        if dataset.height else {},
        "columns": dataset.columns,
        "known_limitations": list(LIMITATIONS),
        **extra,
    }


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def markdown(c: dict[str, Any]) -> str:
    lines = [
        "# FineVideo (mmfoundry build)",
        "",
        f"{c['videos']} videos, {c['hours']:.3f} hours, annotated with FineVideo's schema "
        "(`content_metadata`) and aligned to detected scene cuts.",
        "",
        "## Funnel",
        "",
        _table(c["funnel"], ["stage", "inputs", "kept", "rejected", "kept_hours", "top_rejections"]),
        "",
        "## Hours by top-level category",
        "",
        _table(c["parent_categories"], ["name", "videos", "hours"]),
        "",
        "## Hours by category",
        "",
        _table(c["fine_categories"], ["name", "videos", "hours"]),
        "",
        "## Licences",
        "",
        _table([{"license": k, "videos": v} for k, v in c["licences"].items()], ["license", "videos"]),
        "",
        "## Shards",
        "",
        _table(c.get("shards", []), ["shard", "landed", "included", "status", "detail"]),
        "",
        "## Provenance",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in c.items()
              if k not in {"name", "videos", "hours", "funnel", "parent_categories", "fine_categories",
                           "licences", "columns", "known_limitations", "shards"}]
    lines += ["", "## Known limitations", "", *[f"- {x}" for x in c["known_limitations"]]]
    lines += ["", "## Columns", "", ", ".join(f"`{x}`" for x in c["columns"]), ""]
    return "\n".join(lines)
