"""The released FineVideo rows, and the same samples as webdataset tar shards.

A row is what FineVideo's dataset card promises (the video, its YouTube metadata,
`content_parent_category`, `content_fine_category`, `content_metadata`) plus what an audit needs: the
video's URI and sha256 in the media store, the source file and row, its `source_key`, and the
provenance contract: `models` lists the taxonomy label's model (from the selection row) and the
description's and annotation's (from the annotation row). Tar shards are byte-for-byte reproducible (members
sorted, zeroed times and owners), so the content-addressed store keeps one copy of each.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from assets.kit.provenance import MODELS, declare

SELECTION_COLUMNS = {
    "video_id": "video_id", "source_key": "source_key", "shard": "shard", "media_uri": "video_uri", "sha256": "video_sha256",
    "size_bytes": "video_size_bytes", "duration_s": "duration_seconds", "fps": "fps", "avg_fps": "avg_fps",
    "vfr": "vfr", "rotation_deg": "rotation_deg", "width": "width", "height": "height", "title": "youtube_title",
    "channel": "youtube_channel", "channel_id": "youtube_channel_id",
    "license": "license", "date": "upload_date", "view_count": "view_count", "like_count": "like_count",
    "comment_count": "comment_count", "channel_follower_count": "channel_follower_count", "text": "text",
    "content_parent_category": "content_parent_category", "content_fine_category": "content_fine_category",
    "category_path": "content_category_path", "taxonomy_version": "taxonomy_version",
    "source_file": "source_file", "source_row": "source_row",
}
JSON_FIELDS = ("record_id", "video_id", "youtube_title", "youtube_channel", "youtube_channel_id", "license",
               "upload_date", "duration_seconds", "content_parent_category", "content_fine_category",
               "video_sha256", "text")


def _models(df: pl.DataFrame, name: str) -> pl.Expr:
    return (pl.col("models") if "models" in df.columns else pl.lit([], dtype=MODELS)).cast(MODELS).alias(name)


def release_rows(aligned: pl.DataFrame, annotations: pl.DataFrame, selection: pl.DataFrame,
                 review: pl.DataFrame) -> pl.DataFrame:
    """One row per aligned annotation the caption review kept, with its reviewed `content_metadata`
    and `caption_original` (the prose as written, where rewritten), joined to its selection row,
    with the models of the selection, the annotation and the review."""
    def pick(df: pl.DataFrame, columns: dict[str, str]) -> list[pl.Expr]:
        # every release column exists, null where an upstream frame has no such column
        return [pl.col(c).alias(n) if c in df.columns else pl.lit(None).alias(n) for c, n in columns.items()]

    sel = selection.filter(pl.col("kept")).select("record_id", *pick(selection, SELECTION_COLUMNS),
                                                  _models(selection, "_selection_models"))
    ann = annotations.select("record_id", _models(annotations, "_annotation_models"))
    reviewed = review.filter(pl.col("kept")).select("record_id", "content_metadata", "caption_original",
                                                    _models(review, "_review_models"))
    rows = aligned.filter(pl.col("kept")).select(
        "record_id", pl.col("max_shift_frames").alias("alignment_max_shift_frames")).join(reviewed, on="record_id")
    out = rows.join(sel, on="record_id", how="left").join(ann, on="record_id", how="left").sort("record_id")
    # the same video record as the selection row: no parents; the models of every model-made field
    none = pl.lit([], dtype=MODELS)
    out = declare(out, models=[pl.col("_selection_models").fill_null(none),
                               pl.col("_annotation_models").fill_null(none), pl.col("_review_models").fill_null(none)])
    return out.drop("_selection_models", "_annotation_models", "_review_models")


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
