"""The FineVideo group, listed explicitly: metadata to a curated, annotated, aligned release."""

from assets.finevideo.annotation_assets import aligned_annotations, video_annotations
from assets.finevideo.caption_review import caption_review
from assets.finevideo.dynamism_screen import dynamism_screen
from assets.finevideo.language_screen import language_screen
from assets.finevideo.raw_metadata import raw_video_metadata
from assets.finevideo.release_assets import finevideo_dataset, finevideo_dataset_card
from assets.finevideo.selection_asset import curated_selection
from assets.finevideo.taxonomy_assets import taxonomy, taxonomy_feedback, taxonomy_labels
from assets.finevideo.video_duplicates import video_duplicates
from assets.finevideo.video_files import video_files
from assets.finevideo.word_density_screen import word_density_screen

ASSETS = [
    raw_video_metadata,
    language_screen,
    video_files,
    word_density_screen,
    dynamism_screen,
    taxonomy,
    taxonomy_labels,
    taxonomy_feedback,
    video_duplicates,
    curated_selection,
    video_annotations,
    aligned_annotations,
    caption_review,
    finevideo_dataset,
    finevideo_dataset_card,
]
# every check of the group is declared on its asset (check_specs); none stands alone
CHECKS: list = []
