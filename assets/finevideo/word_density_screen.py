import dagster as dg
import polars as pl

from assets.finevideo import metadata_rules
from assets.finevideo.contract import SCHEMA_CHECK, WORD_DENSITY_SCREEN, conform, schema_check
from assets.finevideo.metadata_rules import WordDensityRules
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import preview, screen_counts
from assets.kit.partitions import video_shards
from assets.kit.provenance import declare
from assets.kit.screening import kept

WordDensityConfig = rule_config(WordDensityRules, "WordDensityConfig")


@kit_asset(
    group="finevideo",
    partitions_def=video_shards,
    rules=WordDensityRules(),
    screen=True,
    check_specs=(provenance_spec, named_check(*SCHEMA_CHECK)),
    description=(
        "Transcript words per second of the video's measured duration (from the file, not the "
        "metadata's duration_string), as FineVideo's word density filter. Screens the kept rows of "
        "video_files."
    ),
)
def word_density_screen(config: WordDensityConfig, video_files: pl.DataFrame, language_screen: pl.DataFrame):
    rules = rules_from(config, WordDensityRules)
    videos = kept(video_files).join(language_screen.select("record_id", "word_count"), on="record_id",
                                    how="left")
    df = conform(declare(metadata_rules.word_density_screen(videos, rules)), WORD_DENSITY_SCREEN)
    yield versioned(df, {
        **screen_counts(df),
        "median_words_per_second": float(df["words_per_second"].median() or 0.0) if df.height else 0.0,
        "preview": preview(df.sort("words_per_second"), ["record_id", "word_count", "duration_s",
                                                         "words_per_second", "kept", "reason"]),
    }, rules=rules)
    yield from screen_check_results(df, videos.height)
    yield provenance_result(df)
    yield dg.AssetCheckResult(**schema_check(df, WORD_DENSITY_SCREEN))
