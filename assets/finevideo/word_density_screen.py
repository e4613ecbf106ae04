import dagster as dg
import polars as pl

from assets.finevideo import metadata_rules
from assets.finevideo.contract import WORD_DENSITY_SCREEN, conform, schema_result, screen_asset
from assets.kit.checks import screen_check_results
from assets.kit.metadata import preview, screen_counts
from assets.kit.screening import kept


@screen_asset(
    "Transcript words per second of the video's measured duration (from the file, not the "
    "metadata's duration_string), kept strictly above 0.5 as in FineVideo. Screens the kept "
    "rows of video_files.",
)
def word_density_screen(video_files: pl.DataFrame, language_screen: pl.DataFrame):
    videos = kept(video_files).join(language_screen.select("record_id", "word_count"), on="record_id",
                                    how="left")
    df = conform(metadata_rules.word_density_screen(videos), WORD_DENSITY_SCREEN)
    yield dg.Output(df, metadata={
        **screen_counts(df),
        "median_words_per_second": float(df["words_per_second"].median() or 0.0) if df.height else 0.0,
        "preview": preview(df.sort("words_per_second"), ["record_id", "word_count", "duration_s",
                                                         "words_per_second", "kept", "reason"]),
    })
    yield from screen_check_results(df, videos.height)
    yield schema_result(df, WORD_DENSITY_SCREEN)
