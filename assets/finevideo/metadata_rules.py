"""FineVideo's metadata screens as column rules: the raw language filter and word density.

FineVideo's `filter-yt-commons.py` kept `original_language == 'en'`, `transcription_language == 'en'`
and `word_count > 50`, dropping the rest; `worddensityfiltering.py` kept `word_count / duration > 0.5`
with the duration parsed from `duration_string` (0 when missing, so unmeasured videos silently failed).
Here every rule names its rejection, a row that cannot be measured is rejected as such, duplicate and
empty ids are caught before they can collide downstream, and density uses the duration measured from
the file, not the one the metadata claims.
"""

from __future__ import annotations

import polars as pl

from assets.kit.screening import Rule, screen

LANGUAGE = "en"
MIN_WORDS = 50  # keep strictly more
MIN_WORDS_PER_SECOND = 0.5  # keep strictly more


def _lang(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_lowercase()


def language_rules() -> list[Rule]:
    vid = pl.col("video_id").str.strip_chars()
    return [
        Rule("empty_video_id", vid.is_not_null() & (vid != ""), pl.col("video_id"), "a non-empty id"),
        # the first row of an id is the video; later rows with the same id are duplicates
        Rule("duplicate_video_id", vid.is_null() | (vid == "") | vid.is_first_distinct(), pl.col("video_id"),
             "first row of its id in the shard"),
        Rule("original_language", _lang("original_language") == LANGUAGE, pl.col("original_language"),
             f"== '{LANGUAGE}'"),
        Rule("transcription_language", _lang("transcription_language") == LANGUAGE,
             pl.col("transcription_language"), f"== '{LANGUAGE}'"),
        Rule("word_count", pl.col("word_count") > MIN_WORDS, pl.col("word_count"), f"> {MIN_WORDS}"),
    ]


def language_screen(raw: pl.DataFrame) -> pl.DataFrame:
    """Every raw row, with its verdict; ids and the measured columns only (no transcript)."""
    cols = ["record_id", "video_id", "shard", "original_language", "transcription_language", "word_count"]
    return screen(raw.select(cols), language_rules())


def words_per_second() -> pl.Expr:
    duration = pl.col("duration_s")
    return pl.when(duration > 0).then(pl.col("word_count") / duration).otherwise(None)


def word_density_rules() -> list[Rule]:
    return [
        Rule("word_density", pl.col("words_per_second") > MIN_WORDS_PER_SECOND,
             pl.col("words_per_second").round(4), f"> {MIN_WORDS_PER_SECOND} words/s"),
    ]


def word_density_screen(videos: pl.DataFrame) -> pl.DataFrame:
    """`videos` has record_id, video_id, shard, word_count and the measured duration_s."""
    df = videos.select("record_id", "video_id", "shard", "word_count", "duration_s")
    return screen(df.with_columns(words_per_second().alias("words_per_second")), word_density_rules())
