"""video_annotations materialized on three selected videos of 24 s with real-world subtitle files:
one whose last cues run past the end (clipped, counted, no question points past the end), one
that belongs to a two-minute video (rejected: subtitle_mismatch, before any model call), and one in
UTF-16 SubRip with dialogue dashes and name labels (speakers kept apart)."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from tests.fakes.deployment import local_deployment

RIGHT = """WEBVTT

00:00:01.000 --> 00:00:04.000
Maria: We need 500 grams of flour.

00:00:10.000 --> 00:00:14.000
Tom: Bake it for 20 minutes.

00:00:22.000 --> 00:00:26.000
Maria: Wait 5 more minutes.

00:00:25.000 --> 00:00:27.000
Tom: Then 3 more.
"""
WRONG = "WEBVTT\n\n" + "\n\n".join(f"00:{t // 60:02d}:{t % 60:02d}.000 --> 00:{(t + 8) // 60:02d}:{(t + 8) % 60:02d}.000\n"
                                   f"Line {t // 10}." for t in range(0, 120, 10)) + "\n"
DIALOGUE = ("1\r\n00:00:02,000 --> 00:00:05,000\r\n- ANA: Are you coming?\r\n- LUIS: Yes, at 9.\r\n\r\n"
            "2\r\n00:00:12,000 --> 00:00:15,000\r\n- Why? - Because 3 friends wait.\r\n")


def selection(root: Path) -> pl.DataFrame:
    files = {"right": RIGHT.encode(), "wrong": WRONG.encode(), "dialogue": "\ufeff".encode("utf-16-le") + DIALOGUE.encode("utf-16-le")}
    uris = {}
    for name, data in files.items():
        path = root / f"{name}.sub"
        path.write_bytes(data)
        uris[name] = path.as_uri()
    names = list(files)
    return pl.DataFrame({
        "record_id": [f"yt:{n}" for n in names], "video_id": names, "shard": ["s0"] * 3, "kept": [True] * 3,
        "duration_s": [24.0] * 3, "fps": [25.0] * 3, "media_uri": [None] * 3, "subtitle_uri": [uris[n] for n in names],
        "scene_cuts_s": [[12.0]] * 3, "motion_per_second": [[0.01] * 24] * 3, "freeze_intervals": [[]] * 3,
        "text": ["We bake."] * 3, "title": names, "channel": ["c"] * 3, "category_path": ["Food > Recipes"] * 3,
    }, schema_overrides={"media_uri": pl.String,
                         "freeze_intervals": pl.List(pl.Struct({"start_s": pl.Float64, "end_s": pl.Float64}))})


@pytest.fixture(scope="module")
def annotations(tmp_path_factory):
    root = tmp_path_factory.mktemp("subtitles")
    with pytest.MonkeyPatch.context() as mp:
        local_deployment(mp, root / "data", root / "landing")
        (root / "data").mkdir()
        selection(root).write_parquet(root / "data" / "curated_selection.parquet")
        from definitions import build_definitions

        defs = build_definitions()
        with dg.instance_for_test() as instance:
            res = defs.resolve_implicit_global_asset_job_def().execute_in_process(
                instance=instance, asset_selection=[dg.AssetKey("video_annotations")], raise_on_error=False)
            assert res.success
            checks = [e.asset_check_evaluation_data for e in res.all_events
                      if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        df = pl.read_parquet(root / "data" / "video_annotations.parquet")
        yield {r["video_id"]: r for r in df.to_dicts()}, checks


def test_every_check_passes(annotations):
    _, checks = annotations
    assert checks and all(c.passed for c in checks), [c.check_name for c in checks if not c.passed]


def test_cues_past_the_end_are_clipped_and_no_question_points_past_it(annotations):
    row = annotations[0]["right"]
    assert row["kept"] and row["cues_source"] == "subtitles"
    assert (row["subtitle_cues"], row["cues_clipped"], row["cues_malformed"]) == (4, 2, 0)
    asked = [q["question"] for q in json.loads(row["content_metadata"])["qAndA"]]
    assert any("(at 00:22)" in q for q in asked) and not any("(at 00:25)" in q or "(at 00:26)" in q for q in asked)


def test_a_file_mostly_after_the_end_is_rejected_with_its_measure(annotations):
    row = annotations[0]["wrong"]
    assert not row["kept"] and row["reason"] == "subtitle_mismatch"
    assert row["subtitle_beyond_end"] == pytest.approx(76 / 96, abs=1e-4) and row["cues_clipped"] == 10
    assert row["detail"].startswith("79% of the subtitles' cue time is after the video's end (24.0 s;")
    assert row["description_text"] is None and row["models"] == []  # no model was asked about it


def test_utf16_subrip_dialogue_keeps_each_speakers_turn(annotations):
    row = annotations[0]["dialogue"]
    assert row["kept"] and row["cues_source"] == "subtitles" and row["subtitle_cues"] == 2
    content = json.loads(row["content_metadata"])
    assert [c["name"] for c in content["characterList"]] == ["ANA", "LUIS"]
    who = {q["question"]: q["answer"] for q in content["qAndA"] if q["question"].startswith("Who says")}
    # one cue held both turns: each keeps its speaker, the cue's time shared in order
    assert who == {'Who says "Are you coming?" (at 00:02)?': "ANA", 'Who says "Yes, at 9." (at 00:03)?': "LUIS"}
    numbers = [q["question"] for q in content["qAndA"] if q["question"].startswith("What number")]
    # "- Why? - Because 3 friends wait." is two turns: the number's sentence is the second alone
    assert any('"Because ___ friends wait."' in q for q in numbers)
