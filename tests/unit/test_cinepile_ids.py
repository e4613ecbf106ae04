"""CinePile record ids are minted by `assets/kit/identity.py`: unique by construction, each nesting
the record it was made from, and read back by `parse_record_id`."""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path

import polars as pl
import pytest

from assets.cinepile.question_assets import question_id
from assets.cinepile.sources import CLIP_SCHEMA, external_clips, scene_rows
from assets.kit.identity import parse_record_id, record_id
from assets.kit.provenance import contract_problems

GROUP_DIR = Path(__file__).resolve().parents[2] / "assets" / "cinepile"
# video record ids as another group may mint them: separators and escapes inside
VIDEOS = [record_id("video", "shard:1", "abc"), record_id("video", "shard%3A1", "abc"), "rec:0", "rec%3A0"]


def annotation(*scene_ids: int) -> str:
    return json.dumps({"scenes": [
        {"sceneId": i, "timestamps": {"start_timestamp": f"00:00:{10 * n:02d}.000",
                                      "end_timestamp": f"00:00:{10 * n + 9:02d}.000"},
         "mood": {"description": "Calm", "keyMoments": []}, "thematicElements": "Food > Baking"}
        for n, i in enumerate(scene_ids)]})


def clips(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame([{"record_id": rid, "video_id": f"v{n}", "duration_s": 60.0, "content_metadata": meta,
                          "subtitles": None, "movie_name": "m", "year": None, "genre": [], "video_link": "l",
                          "source": "clip_table"} for n, (rid, meta) in enumerate(rows)], schema=CLIP_SCHEMA)


def test_a_scene_id_nests_its_video_record_id_and_parses_back_to_it():
    df = scene_rows(clips([(v, annotation(1, 2, 3)) for v in VIDEOS]))
    assert df.height == 12 and df["record_id"].n_unique() == 12
    for row in df.iter_rows(named=True):
        namespace, (video, scene) = parse_record_id(row["record_id"])
        assert (namespace, video, scene) == ("scene", row["video_record_id"], str(row["scene_id"]))
        assert row["parent_ids"] == [row["video_record_id"]] and row["models"] == []
    assert contract_problems(df) == []


def test_a_video_without_scenes_or_with_repeated_scene_ids_is_one_rejected_row():
    df = scene_rows(clips([("a", annotation()), ("b", annotation(1, 1)), ("c", "{not json")]))
    assert df["record_id"].to_list() == ["scene:a:none", "scene:b:none", "scene:c:none"]
    assert df["reason"].to_list() == ["no_scenes", "invalid_annotation", "invalid_annotation"]
    assert "sceneIds repeat: [1]" in df["detail"][1]


def test_a_clip_table_that_repeats_a_record_id_is_refused():
    table = clips([("a", annotation(1)), ("a", annotation(2))]).drop("source")
    with pytest.raises(ValueError, match="repeats record ids"):
        external_clips(table)


def test_question_ids_are_unique_and_nest_their_scene_and_template():
    scenes = [record_id("scene", v, 1) for v in VIDEOS]
    templates = [record_id("template", record_id("bank", "question_bank.jsonl", i)) for i in range(3)]
    ids = [question_id(s, t, k) for s, t, k in itertools.product(scenes, templates, range(3))]
    ids += [question_id(s) for s in scenes]  # the one row of a scene whose pick failed
    assert len(set(ids)) == len(ids)
    for s, t, k in itertools.product(scenes, templates, range(3)):
        assert parse_record_id(question_id(s, t, k)) == ("question", (s, t, str(k)))
        scene = parse_record_id(question_id(s, t, k))[1][0]
        assert parse_record_id(scene)[1][0] in VIDEOS  # down to the video, through two levels of nesting


def _hash_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in ("sha256", "sha256_text", "md5", "blake2b"):
                out.append(name)
    return out


def test_no_cinepile_module_mints_an_id_by_hashing():
    """The only hashes left decide a position or a split (deterministic shuffles), never an id."""
    hashing = {p.name: _hash_calls(p) for p in sorted(GROUP_DIR.glob("*.py")) if _hash_calls(p)}
    assert hashing == {"mcq.py": ["sha256"], "tables.py": ["sha256"]}
