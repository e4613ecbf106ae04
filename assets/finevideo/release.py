"""The released FineVideo rows, and the same samples as webdataset tar shards.

A row is what FineVideo's dataset card promises (the video, its YouTube metadata,
`content_parent_category`, `content_fine_category`, `content_metadata`) plus what an audit needs: the
video's URI and sha256 in the media store, the source file and row, and for each model step the
backend, model, task version and prompt hash. Tar shards are byte-for-byte reproducible (members
sorted, zeroed times and owners), so the content-addressed store keeps one copy of each.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path

import polars as pl

SELECTION_COLUMNS = {
    "video_id": "video_id", "shard": "shard", "media_uri": "video_uri", "sha256": "video_sha256",
    "size_bytes": "video_size_bytes", "duration_s": "duration_seconds", "fps": "fps", "width": "width",
    "height": "height", "title": "youtube_title", "channel": "youtube_channel", "channel_id": "youtube_channel_id",
    "license": "license", "date": "upload_date", "view_count": "view_count", "like_count": "like_count",
    "comment_count": "comment_count", "channel_follower_count": "channel_follower_count", "text": "text",
    "content_parent_category": "content_parent_category", "content_fine_category": "content_fine_category",
    "category_path": "content_category_path", "taxonomy_version": "taxonomy_version",
    "source_file": "source_file", "source_row": "source_row", "label_backend": "label_backend",
    "label_model": "label_model", "label_task_version": "label_task_version", "label_prompt_sha": "label_prompt_sha",
}
ANNOTATION_COLUMNS = {"backend": "annotation_backend", "model": "annotation_model",
                      "task_version": "annotation_task_version", "prompt_sha": "annotation_prompt_sha"}
JSON_FIELDS = ("record_id", "video_id", "youtube_title", "youtube_channel", "youtube_channel_id", "license",
               "upload_date", "duration_seconds", "content_parent_category", "content_fine_category",
               "video_sha256", "text")


def release_rows(aligned: pl.DataFrame, annotations: pl.DataFrame, selection: pl.DataFrame) -> pl.DataFrame:
    """One row per aligned, kept annotation, joined to its selection row and annotation provenance."""
    def pick(df: pl.DataFrame, columns: dict[str, str]) -> list[pl.Expr]:
        # every release column exists, null where an upstream frame has no such column
        return [pl.col(c).alias(n) if c in df.columns else pl.lit(None).alias(n) for c, n in columns.items()]

    sel = selection.filter(pl.col("kept")).select("record_id", *pick(selection, SELECTION_COLUMNS))
    ann = annotations.select("record_id", *pick(annotations, ANNOTATION_COLUMNS))
    rows = aligned.filter(pl.col("kept")).select(
        "record_id", "content_metadata", pl.col("max_shift_frames").alias("alignment_max_shift_frames"))
    return rows.join(sel, on="record_id", how="left").join(ann, on="record_id", how="left").sort("record_id")


def sample_json(row: dict) -> bytes:
    meta = {k: row.get(k) for k in JSON_FIELDS}
    meta["content_metadata"] = json.loads(row["content_metadata"])
    return json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8")


def write_tar(samples: Iterable[tuple[str, Path, bytes]], path: Path) -> None:
    """`<key>.mp4` + `<key>.json` per sample, sorted by key, with reproducible headers."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for key, video, meta in sorted(samples, key=lambda s: s[0]):
            for name, data in ((f"{key}.mp4", Path(video).read_bytes()), (f"{key}.json", meta)):
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(data), 0, 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))
