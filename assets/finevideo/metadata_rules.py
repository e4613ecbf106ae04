"""FineVideo's metadata screens as column rules: the raw language filter and word density.

FineVideo's `filter-yt-commons.py` kept `original_language == 'en'`, `transcription_language == 'en'`
and `word_count > 50`, dropping the rest; `worddensityfiltering.py` kept `word_count / duration > 0.5`
with the duration parsed from `duration_string` (0 when missing, so unmeasured videos silently failed).
Here every rule names its rejection, a row that cannot be measured is rejected as such, duplicate and
empty ids are caught before they can collide downstream, and density uses the duration measured from
the file, not the one the metadata claims.

Each screen first stores what it measured (the normalised language codes, whether the id is present
and repeated in the shard, words per second), then its `RuleSet` compares those stored columns with
its parameters, so a verdict can be re-evaluated from the stored row alone.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field, field_validator

from assets.finevideo.youtube_commons import video_id_key
from assets.kit.screening import Rule, RuleSet, screen

LANGUAGE_COLUMNS = ["record_id", "video_id", "shard", "original_language", "transcription_language", "word_count"]
LANGUAGE_MEASURES = ["has_video_id", "duplicate_in_shard", "original_language_code", "transcription_language_code"]
DENSITY_COLUMNS = ["record_id", "video_id", "shard", "word_count", "duration_s"]


class LanguageRules(RuleSet):
    """FineVideo's raw filter: an identifiable video, English both ways, enough transcript words."""

    language: str = Field(default="en", description="the original and transcription language a video needs "
                          "(compared case- and whitespace-insensitively)")
    min_words: int = Field(default=50, ge=0, description="transcript words a video needs: strictly more")

    @field_validator("language")
    @classmethod
    def _code(cls, v: str) -> str:
        return v.strip().lower()

    def rules(self) -> list[Rule]:
        return [
            Rule(reason="empty_video_id", column="has_video_id", op="is_true", shown="video_id"),
            # the first row of an id is the video; later rows with the same id are duplicates
            Rule(reason="duplicate_video_id", column="duplicate_in_shard", op="is_false", shown="video_id"),
            Rule(reason="original_language", column="original_language_code", op="eq", threshold=self.language,
                 shown="original_language"),
            Rule(reason="transcription_language", column="transcription_language_code", op="eq",
                 threshold=self.language, shown="transcription_language"),
            Rule(reason="word_count", column="word_count", op="gt", threshold=self.min_words),
        ]


class WordDensityRules(RuleSet):
    """FineVideo's word density, on the duration measured from the file."""

    min_words_per_second: float = Field(default=0.5, ge=0, description="transcript words per second of the "
                                        "measured duration a video needs: strictly more")

    def rules(self) -> list[Rule]:
        return [Rule(reason="word_density", column="words_per_second", op="gt", threshold=self.min_words_per_second)]


def _code(col: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_lowercase()


def language_measures(raw: pl.DataFrame) -> pl.DataFrame:
    """Ids and the measured columns of every raw row (no transcript); ids compared as the record id
    and source key mint them (`video_id_key`)."""
    vid = video_id_key()
    present = vid.is_not_null()
    return raw.select(LANGUAGE_COLUMNS).with_columns(
        present.alias("has_video_id"),
        (present & ~vid.is_first_distinct()).alias("duplicate_in_shard"),
        _code("original_language").alias("original_language_code"),
        _code("transcription_language").alias("transcription_language_code"),
    )


def language_screen(raw: pl.DataFrame, rules: LanguageRules | None = None) -> pl.DataFrame:
    """Every raw row, with its measurements and verdict."""
    return screen(language_measures(raw), (rules or LanguageRules()).rules())


def words_per_second() -> pl.Expr:
    duration = pl.col("duration_s")
    return pl.when(duration > 0).then(pl.col("word_count") / duration).otherwise(None)


def word_density_screen(videos: pl.DataFrame, rules: WordDensityRules | None = None) -> pl.DataFrame:
    """`videos` has record_id, video_id, shard, word_count and the measured duration_s."""
    df = videos.select(DENSITY_COLUMNS).with_columns(words_per_second().alias("words_per_second"))
    return screen(df, (rules or WordDensityRules()).rules())

