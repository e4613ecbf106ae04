"""The seed question bank: movie/video comprehension questions the templates are clustered from.

CinePile clustered questions from existing movie-QA sets. The default bank,
`question_bank.jsonl`, was written for this project: 360 generic templated questions over the five
categories (a `category` label each, used only to measure how well the clusters' offline categories
agree with it). Any Parquet file with a `question` column can replace it. Every input row is kept
or rejected with a reason by `BankRules`: empty, too short to mean anything, or a repeat of an
earlier question (compared case- and whitespace-insensitively). The measurements (`words`,
`duplicate_of`) are stored with the row, so an audit re-evaluates the rules from the row alone.

A bank row is identified by where it landed: the bank file's name and the row's position there
(`bank:<file>:<row>`).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
from pydantic import Field

from assets.kit.identity import record_id
from assets.kit.screening import Rule, RuleSet, screen

DEFAULT_BANK = Path(__file__).with_name("question_bank.jsonl")
BANK_SCHEMA = {"record_id": pl.String, "source_row": pl.Int64, "question": pl.String,
               "source_category": pl.String, "words": pl.Int64, "duplicate_of": pl.Int64}


class BankRules(RuleSet):
    min_words: int = Field(default=3, ge=1, description="Fewest words a question needs to mean anything.")

    def rules(self) -> list[Rule]:
        return [
            Rule(reason="empty", column="words", op="gt", threshold=0),
            Rule(reason="too_short", column="words", op="ge", threshold=self.min_words),
            Rule(reason="duplicate", column="duplicate_of", op="is_null"),
        ]


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


def measure_bank(df: pl.DataFrame, source: str = DEFAULT_BANK.name) -> pl.DataFrame:
    """One row per input question with its id, word count and the first earlier row with the same
    normalized text (null for a first occurrence or an empty question)."""
    rows, first = [], {}
    for i, (q, cat) in enumerate(df.select("question", "source_category").rows()):
        text = (q or "").strip()
        key = normalized(text)
        repeat = first.get(key) if key else None
        if key and repeat is None:
            first[key] = i
        rows.append({"record_id": record_id("bank", source, i), "source_row": i, "question": text,
                     "source_category": cat, "words": len(text.split()), "duplicate_of": repeat})
    return pl.DataFrame(rows, schema=BANK_SCHEMA)


def screen_bank(df: pl.DataFrame, rules: BankRules | None = None, source: str = DEFAULT_BANK.name) -> pl.DataFrame:
    """The measured bank with `kept`, `reason`, `reasons` and `detail` (first failing rule)."""
    return screen(measure_bank(df, source), (rules or BankRules()).rules())
