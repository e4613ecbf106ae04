"""A video's facts and same-type answers, built from its kept scenes: its lines (time, end, speaker,
text, scene), speakers and timed events, and the corpus's speakers and themes. Questions are
written from them, their distractors judged against them (`facts.py`), and rewrites settled
against them; an audit of a materialized table rebuilds them from `cinepile_scenes`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import polars as pl

from assets.cinepile.scenes import Event, Line, SceneClip
from assets.kit.screening import kept


def video_pool(scenes: Sequence[SceneClip], corpus_speakers: Sequence[str], corpus_themes: Sequence[str]
               ) -> dict[str, Any]:
    """Same-type material of one video for distractors (JSON-ready, it is part of a Task item)."""
    lines = [[ln.start, ln.end, ln.speaker, ln.text, s.scene_id] for s in scenes for ln in s.lines]
    return {
        "lines": sorted(lines, key=lambda x: x[0]),
        "speakers": list(dict.fromkeys(ln[2] for ln in lines if ln[2])),
        "events": sorted([[e.time, e.text, e.source] for s in scenes for e in s.events], key=lambda x: x[0]),
        "corpus_speakers": sorted(set(corpus_speakers)),
        "corpus_themes": sorted(set(corpus_themes)),
    }


def scene_clips(scenes: pl.DataFrame) -> dict[str, SceneClip]:
    return {r["record_id"]: scene_from(json.loads(r["scene"])) for r in scenes.iter_rows(named=True)}


def video_pools(scenes: pl.DataFrame, clips: dict[str, SceneClip] | None = None) -> dict[str, dict[str, Any]]:
    """Every video's `video_pool`, keyed by its record id, from the kept rows of `cinepile_scenes`."""
    scenes = kept(scenes).sort("video_record_id", "scene_id")
    clips = scene_clips(scenes) if clips is None else clips
    speakers = [s for sp in scenes["speakers"].to_list() for s in sp] if scenes.height else []
    themes = [clips[r].theme for r in scenes["record_id"].to_list() if clips[r].theme]
    return {v: video_pool([clips[r] for r in g["record_id"].to_list()], speakers, themes)
            for (v,), g in scenes.group_by("video_record_id", maintain_order=True)}


def scene_dict(scene: SceneClip) -> dict[str, Any]:
    return asdict(scene)


def scene_from(d: dict[str, Any]) -> SceneClip:
    return SceneClip(**{**d, "lines": [Line(**x) for x in d["lines"]], "events": [Event(**x) for x in d["events"]]})
