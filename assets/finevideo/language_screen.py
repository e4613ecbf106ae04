import dagster as dg
import polars as pl

from assets.finevideo import metadata_rules
from assets.finevideo.contract import LANGUAGE_SCREEN, conform, schema_result, screen_asset
from assets.kit.checks import screen_check_results
from assets.kit.metadata import preview, screen_counts


@screen_asset(
    "FineVideo's raw filter on every metadata row of the shard: original and transcription "
    "language 'en' and more than 50 transcript words; empty and in-shard duplicate video ids "
    "are rejected too. Each rejection names its rule; ids and measured columns only (join "
    "raw_video_metadata on record_id for the rest).",
)
def language_screen(raw_video_metadata: pl.DataFrame):
    df = conform(metadata_rules.language_screen(raw_video_metadata), LANGUAGE_SCREEN)
    yield dg.Output(df, metadata={
        **screen_counts(df),
        "preview": preview(df.sort("kept"), ["record_id", "original_language", "transcription_language",
                                             "word_count", "kept", "reason", "detail"]),
    })
    yield from screen_check_results(df, raw_video_metadata.height)
    yield schema_result(df, LANGUAGE_SCREEN)
