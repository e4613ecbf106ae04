import dagster as dg
import polars as pl

from assets.finevideo import metadata_rules
from assets.finevideo.contract import LANGUAGE_SCREEN, SCHEMA_CHECK, conform, schema_check
from assets.finevideo.metadata_rules import LanguageRules
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import preview, screen_counts
from assets.kit.partitions import video_shards
from assets.kit.provenance import declare

LanguageConfig = rule_config(LanguageRules, "LanguageConfig")


@kit_asset(
    group="finevideo",
    partitions_def=video_shards,
    rules=LanguageRules(),
    screen=True,
    check_specs=(provenance_spec, named_check(*SCHEMA_CHECK)),
    description=(
        "FineVideo's raw filter on every metadata row of the shard: the video's original and "
        "transcription language and its transcript length; empty and in-shard duplicate video ids "
        "are rejected too. Each rejection names its rule; ids and measured columns only (join "
        "raw_video_metadata on record_id for the rest)."
    ),
)
def language_screen(config: LanguageConfig, raw_video_metadata: pl.DataFrame):
    rules = rules_from(config, LanguageRules)
    df = conform(declare(metadata_rules.language_screen(raw_video_metadata, rules)), LANGUAGE_SCREEN)
    yield versioned(df, {
        **screen_counts(df),
        "preview": preview(df.sort("kept"), ["record_id", "original_language", "transcription_language",
                                             "word_count", "kept", "reason", "detail"]),
    }, rules=rules)
    yield from screen_check_results(df, raw_video_metadata.height)
    yield provenance_result(df)
    yield dg.AssetCheckResult(**schema_check(df, LANGUAGE_SCREEN))
