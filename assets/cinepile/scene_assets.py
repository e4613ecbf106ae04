"""CinePile's scenes (step 2, its input): FineVideo's aligned annotations or an external clip table."""

import dagster as dg
import polars as pl
from pydantic import Field

from assets.cinepile.sources import external_clips, finevideo_clips, scene_rows
from assets.finevideo.subtitles import decode
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import preview, screen_counts
from assets.kit.screening import kept
from resources.containment import OutsideLandingZone
from resources.landing import LandingZone
from resources.storage import MediaStore


class SceneConfig(dg.Config):
    clip_table: str | None = Field(
        default=None, description="A Parquet file with the columns of aligned_annotations (record_id, video_id, "
                                  "duration_s, content_metadata; optional subtitles as WebVTT text, title, "
                                  "video_link, year, genre) to read scenes from instead of FineVideo.")


def _subtitles(media: MediaStore, landing: LandingZone):
    """The subtitle file of a clip as text (its encoding read from its bytes: UTF-8, UTF-16, ...)."""
    def read(row: dict) -> str | None:
        if row.get("subtitle_uri"):
            try:
                return decode(media.local_path(row["subtitle_uri"]).read_bytes())[0]
            except OSError:
                pass
        try:
            found = landing.subtitle_file(row["video_id"]) if row.get("video_id") else None
        except OutsideLandingZone:  # a link out of the landing zone is never read: the clip has no subtitles
            return None
        return decode(found.read_bytes())[0] if found is not None else None
    return read


@kit_asset(
    group="cinepile",
    screen=True,
    check_specs=(provenance_spec,),
    description=(
        "CinePile's scene text, one row per scene of every aligned FineVideo annotation (or of an external "
        "clip table, config `clip_table`): the scene's subtitle sentences with speakers and times, its timed "
        "visual descriptions (activities, props, editing details, mood changes) and measured attributes "
        "(mood, motion, speech coverage, theme). A scene's id nests its video's record id (its parent). A video "
        "with no usable scene is one rejected row."
    ),
)
def cinepile_scenes(config: SceneConfig, aligned_annotations: pl.DataFrame, curated_selection: pl.DataFrame,
                    media: MediaStore, landing: LandingZone):
    if config.clip_table:
        clips = external_clips(pl.read_parquet(config.clip_table))
    else:
        clips = finevideo_clips(aligned_annotations, curated_selection, _subtitles(media, landing))
    df = scene_rows(clips)
    videos = df.filter(pl.col("kept"))["video_record_id"].n_unique() if df.height else 0
    yield versioned(df, {
        **screen_counts(df),
        "source": "clip_table" if config.clip_table else "aligned_annotations",
        "videos": clips.height,
        "videos_with_scenes": videos,
        "videos_with_subtitles": int(clips["subtitles"].is_not_null().sum()) if clips.height else 0,
        "mean_lines_per_scene": round(float(kept(df)["lines"].mean() or 0), 2) if kept(df).height else 0.0,
        "preview": preview(df, ["record_id", "scene_id", "start_s", "end_s", "lines", "events", "speakers", "kept"]),
    })
    # the rows are made here (a scene, or the clip that has none): the check verifies reasons and ids
    yield from screen_check_results(df, n_inputs=df.height)
    yield provenance_result(df)
