"""Where CinePile's scenes come from: FineVideo's aligned annotations, or an external clip table.

Either source becomes one clip frame (`CLIP_SCHEMA`), one row per video: its record id (the parent of
its scenes, and nested in their ids), the annotation (`content_metadata`, FineVideo's schema), its subtitles as
WebVTT text, and the metadata CinePile's rows show (movie name, year, genres, link). An external
table needs `record_id`, `video_id`, `duration_s`, `content_metadata` (the columns of
`aligned_annotations`); `kept`, `subtitles`, `title`, `video_link`, `year` and `genre` are optional.

A scene is `record_id("scene", <video record id>, <sceneId>)`: unique because a video appears once
(a clip table that repeats a record id is refused) and an annotation whose sceneIds repeat yields
no scene (one rejected row, `scene:<video record id>:none`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import polars as pl

from assets.cinepile.scenes import cues_from, scene_text, scenes_of, subtitles_text, visual_text
from assets.cinepile.scenes import mmss as _mmss
from assets.kit.identity import record_id
from assets.kit.provenance import CONTRACT, declare

CLIP_SCHEMA = {
    "record_id": pl.String, "video_id": pl.String, "duration_s": pl.Float64, "content_metadata": pl.String,
    "subtitles": pl.String, "movie_name": pl.String, "year": pl.Int64, "genre": pl.List(pl.String),
    "video_link": pl.String, "source": pl.String,
}
REQUIRED = ("record_id", "video_id", "duration_s", "content_metadata")
SCENE_SCHEMA = {
    "record_id": pl.String, "video_record_id": pl.String, "video_id": pl.String, "scene_id": pl.Int64,
    "start_s": pl.Float64, "end_s": pl.Float64, "scene": pl.String, "scene_text": pl.String,
    "movie_scene": pl.String, "subtitles": pl.String, "lines": pl.Int64, "speakers": pl.List(pl.String),
    "events": pl.Int64, "movie_name": pl.String, "year": pl.Int64, "genre": pl.List(pl.String),
    "yt_clip_title": pl.String, "yt_clip_link": pl.String, "source": pl.String,
    "kept": pl.Boolean, "reason": pl.String, "detail": pl.String,
    **{k: v for k, v in CONTRACT.items() if k != "record_id"},
}


def _year(date: str | None) -> int | None:
    return int(date[:4]) if date and date[:4].isdigit() else None


def youtube_link(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def finevideo_clips(aligned: pl.DataFrame, selection: pl.DataFrame,
                    read_subtitles: Callable[[dict], str | None]) -> pl.DataFrame:
    """Kept aligned annotations joined to their selection row (title, date, categories, subtitles)."""
    sel = {r["record_id"]: r for r in selection.iter_rows(named=True)} if selection.height else {}
    rows = []
    for r in aligned.filter(pl.col("kept")).sort("record_id").iter_rows(named=True):
        s = sel.get(r["record_id"], {})
        genre = [g for g in (s.get("content_parent_category"), s.get("content_fine_category")) if g]
        rows.append({
            "record_id": r["record_id"], "video_id": r["video_id"], "duration_s": r["duration_s"],
            "content_metadata": r["content_metadata"], "subtitles": read_subtitles({**s, **r}),
            "movie_name": s.get("title") or r["video_id"], "year": _year(s.get("date")), "genre": genre,
            "video_link": youtube_link(r["video_id"]), "source": "aligned_annotations",
        })
    return pl.DataFrame(rows, schema=CLIP_SCHEMA)


def external_clips(df: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise ValueError(f"clip table lacks columns {missing} (needs {', '.join(REQUIRED)})")
    if "kept" in df.columns:
        df = df.filter(pl.col("kept"))
    repeated = sorted(str(k) for k, n in Counter(df["record_id"].to_list()).items() if n > 1)
    if repeated:
        raise ValueError(f"clip table repeats record ids {repeated[:5]}: a video's scenes would share ids")
    rows = []
    for r in df.iter_rows(named=True):
        genre = r.get("genre")
        rows.append({
            "record_id": str(r["record_id"]), "video_id": str(r["video_id"]), "duration_s": float(r["duration_s"]),
            "content_metadata": r["content_metadata"], "subtitles": r.get("subtitles"),
            "movie_name": r.get("movie_name") or r.get("title") or str(r["video_id"]),
            "year": r.get("year"), "genre": [genre] if isinstance(genre, str) else list(genre or []),
            "video_link": r.get("video_link") or youtube_link(str(r["video_id"])), "source": "clip_table",
        })
    return pl.DataFrame(rows, schema=CLIP_SCHEMA)


def scene_id(video_record_id: str, scene: int | str) -> str:
    """Scene `scene` of the video record (or "none": the video's one rejected row)."""
    return record_id("scene", video_record_id, scene)


def scene_rows(clips: pl.DataFrame) -> pl.DataFrame:
    """One row per scene (kept), or one rejected row for a video that yields none; each row's
    parent is its video record."""
    from dataclasses import asdict

    rows = []
    for c in clips.iter_rows(named=True):
        base = {"video_record_id": c["record_id"], "video_id": c["video_id"], "movie_name": c["movie_name"],
                "year": c["year"], "genre": c["genre"], "source": c["source"]}
        try:
            scenes = scenes_of(c["record_id"], c["video_id"], c["content_metadata"], c["duration_s"],
                               cues_from(c["subtitles"]))
            repeats = sorted(k for k, n in Counter(sc.scene_id for sc in scenes).items() if n > 1)
            problem = (None if scenes and not repeats
                       else ("invalid_annotation", f"sceneIds repeat: {repeats}") if repeats
                       else ("no_scenes", "the annotation has no scene with valid timestamps"))
        except (json.JSONDecodeError, TypeError, ValueError) as e:
            scenes, problem = [], ("invalid_annotation", f"{type(e).__name__}: {str(e)[:200]}")
        if problem:
            rows.append({**base, "record_id": scene_id(c["record_id"], "none"), "kept": False,
                         "reason": problem[0], "detail": problem[1], "genre": c["genre"]})
            continue
        for sc in scenes:
            rid = scene_id(c["record_id"], sc.scene_id)
            empty = not sc.lines and not sc.events and not (sc.mood or sc.motion or sc.speech or sc.theme)
            rows.append({
                **base, "record_id": rid, "scene_id": sc.scene_id, "start_s": sc.start, "end_s": sc.end,
                "scene": json.dumps(asdict(sc), ensure_ascii=False), "scene_text": scene_text(sc),
                "movie_scene": visual_text(sc), "subtitles": subtitles_text(sc), "lines": len(sc.lines),
                "speakers": list(dict.fromkeys(ln.speaker for ln in sc.lines if ln.speaker)),
                "events": len(sc.events),
                "yt_clip_title": f"{c['movie_name']} - scene {sc.scene_id} ({_mmss(sc.start)}-{_mmss(sc.end)})",
                "yt_clip_link": f"{c['video_link']}&t={int(sc.start)}s",
                "kept": not empty, "reason": "empty_scene" if empty else None,
                "detail": "no dialogue, no timed description, no attribute" if empty else None,
            })
    fields = {k: v for k, v in SCENE_SCHEMA.items() if k not in CONTRACT or k == "record_id"}
    return declare(pl.DataFrame(rows, schema=fields), parents=["video_record_id"])
