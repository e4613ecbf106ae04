"""Frames as Markdown tables, for the UI and for dataset cards (pure: cards are built without Dagster)."""

from __future__ import annotations

from typing import Any

import polars as pl

PREVIEW_ROWS = 10
_CELL = 80


def _cell(v: Any) -> str:
    text = "" if v is None else str(v)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= _CELL else text[: _CELL - 1] + "…"


def markdown_table(df: pl.DataFrame, max_rows: int = PREVIEW_ROWS) -> str:
    if df.width == 0:
        return "_(no columns)_"
    head = df.head(max_rows)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * head.width]
    for row in head.iter_rows():
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    if df.height > max_rows:
        lines.append(f"\n_{df.height - max_rows} more rows_")
    return "\n".join(lines)
