"""The seed question bank: movie/video comprehension questions the templates are clustered from.

CinePile clustered questions from existing movie-QA sets. The default bank,
`question_bank.jsonl`, was written for this project: 360 generic templated questions over the five
categories (a `category` label each, used only to measure how well the clusters' offline categories
agree with it). Any Parquet file with a `question` column can replace it. Every input row is kept
or rejected with a reason: empty, too short to mean anything, or a repeat of an earlier question
(compared case- and whitespace-insensitively).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import polars as pl

DEFAULT_BANK = Path(__file__).with_name("question_bank.jsonl")
MIN_WORDS = 3
BANK_SCHEMA = {"record_id": pl.String, "source_row": pl.Int64, "question": pl.String,
               "source_category": pl.String, "kept": pl.Boolean, "reason": pl.String, "detail": pl.String}


def normalized(question: str) -> str:
    return re.sub(r"\s+", " ", question.strip().lower())


def read_bank(path: str | Path) -> pl.DataFrame:
    """`question` (and `category` when present) from a JSONL or Parquet file."""
    p = Path(path)
    df = pl.read_parquet(p) if p.suffix == ".parquet" else pl.read_ndjson(p)
    if "question" not in df.columns:
        raise ValueError(f"{p} has no `question` column (columns: {df.columns})")
    cat = pl.col("category").cast(pl.String) if "category" in df.columns else pl.lit(None, pl.String)
    return df.select(pl.col("question").cast(pl.String), cat.alias("source_category"))


def screen_bank(df: pl.DataFrame) -> pl.DataFrame:
    rows, seen = [], {}
    for i, (q, cat) in enumerate(df.select("question", "source_category").rows()):
        text = (q or "").strip()
        key = normalized(text)
        reason = detail = None
        if not text:
            reason, detail = "empty", "no question text"
        elif len(text.split()) < MIN_WORDS:
            reason, detail = "too_short", f"{len(text.split())} words (keep if >= {MIN_WORDS})"
        elif key in seen:
            reason, detail = "duplicate", f"repeats row {seen[key]}"
        else:
            seen[key] = i
        rows.append({"record_id": hashlib.sha256(f"bank:{i}:{key}".encode()).hexdigest()[:16], "source_row": i,
                     "question": text, "source_category": cat, "kept": reason is None, "reason": reason,
                     "detail": detail})
    return pl.DataFrame(rows, schema=BANK_SCHEMA)
