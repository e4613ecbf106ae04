"""Placeholders for the four screens built in parallel (issue 3, items 2-5).

The curation stages (labels, selection, annotations, release) read these assets by key, and a
code location cannot load while an input key is undefined. Until the screens land, they are declared
here as external assets with the agreed column contract in their descriptions; tests write their
partitions through the IO manager. DELETE THIS MODULE WHEN THE SCREENS ARE MERGED (their real
definitions take the same keys, and two definitions of one key do not load).
"""

import dagster as dg

from assets.partitions import video_shards

_COMMON = "Per shard; record_id, video_id, shard, kept, reason, reasons, detail"
CONTRACT = {
    "language_screen": (["raw_video_metadata"], "original_language, transcription_language, word_count"),
    "video_files": (["language_screen"], "source_uri, media_uri, sha256, size_bytes, container, duration_s, "
                    "declared_duration_s, fps, width, height, vcodec, acodec, keyframes, subtitle_uri"),
    "word_density_screen": (["video_files"], "word_count, duration_s, words_per_second"),
    "dynamism_screen": (["word_density_screen"], "media_uri, duration_s, fps, segments, static_segments, "
                        "finevideo_static, fixed_static, static_fraction_segments, static_fraction_time, "
                        "longest_freeze_s, freeze_intervals, decode_mode, scene_cuts_s, motion_per_second"),
}

pending_screens = dg.AssetsDefinition(specs=[
    dg.AssetSpec(name, deps=deps, partitions_def=video_shards, group_name="finevideo",
                 description=f"(placeholder until merged) {_COMMON}, {columns}.")
    for name, (deps, columns) in CONTRACT.items()
])
