"""raw_video_metadata -> dynamism_screen materialized on the tiny corpus: every row's decision per
stage is the one the corpus manifest states, and every stage accounts for its inputs."""

import hashlib
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from corpus.build import build_corpus
from scripts.materialize import materialize_graph
from scripts.shards import register_landed_shards
from tests.fakes.deployment import local_deployment
from tests.fakes.finevideo_screens import finevideo_definitions

STAGES = {"language": "language_screen", "video_file": "video_files", "word_density": "word_density_screen",
          "dynamism": "dynamism_screen"}
SELECTION = [dg.AssetKey("raw_video_metadata"), *(dg.AssetKey(a) for a in STAGES.values())]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    return landing, build_corpus(landing, seed=0, size="tiny")


@pytest.fixture(scope="module")
def materialized(tiny, tmp_path_factory):
    landing, manifest = tiny
    data = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as mp:
        local_deployment(mp, data, landing)
        defs = finevideo_definitions()
        with dg.instance_for_test() as instance:
            register_landed_shards(defs, instance)
            run = materialize_graph(defs, instance, selection=SELECTION)
            checks = {}
            for block in run.runs:
                for event in instance.all_logs(block.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
                    ev = event.dagster_event.event_specific_data
                    checks[(ev.asset_key.to_user_string(), ev.check_name, block.partition_key)] = ev.passed
            frames = {key: pl.read_parquet(data / key / "*.parquet") for key in STAGES.values()}
    return run, manifest, frames, checks


def test_every_stage_accounts_for_its_inputs_and_passes_its_blocking_checks(materialized):
    run, manifest, frames, _ = materialized
    assert run.success, [r.error for r in run.runs if not r.success]
    raw_rows = sum(s["rows"] for s in manifest["shards"]["youtube_commons"])
    inputs = raw_rows
    for key in STAGES.values():
        df = frames[key]
        assert df.height == inputs, key  # inputs == kept + rejected: every row it was given is here
        assert df.filter(~pl.col("kept") & pl.col("reason").is_null()).is_empty()
        assert df["record_id"].n_unique() == df.height
        inputs = int(df["kept"].sum())


def test_checks_ran_and_passed_for_every_stage_and_shard(materialized):
    run, manifest, _, checks = materialized
    shards = [s["shard"] for s in manifest["shards"]["youtube_commons"]]
    for key in STAGES.values():
        for check in ("accounted", "unique_ids", "schema", "provenance"):
            for shard in shards:
                assert checks.get((key, check, shard)) is True, (key, check, shard)


def test_each_rows_decisions_are_the_manifests(materialized):
    _, manifest, frames, _ = materialized
    videos = [it for it in manifest["items"] if it["kind"] == "video"]
    for it in videos:
        exp = it["expected"]
        for stage, key in STAGES.items():
            rows = frames[key].filter(pl.col("video_id") == it["id"])
            reached = stage in exp and (exp["first_rejection"] is None
                                        or list(STAGES).index(stage) <= list(STAGES).index(exp["first_rejection"]))
            if not reached:
                assert rows.is_empty(), (it["case"], stage)
                continue
            (row,) = rows.to_dicts()
            assert row["kept"] == exp[stage]["kept"], (it["case"], stage, row["reason"], row["detail"])
            if stage == "language" and not row["kept"]:
                assert row["reasons"] == exp[stage]["reasons"], it["case"]
            if stage == "video_file" and not row["kept"]:
                assert row["reason"] == exp[stage]["reason"], it["case"]
            if stage == "word_density":
                assert row["words_per_second"] == pytest.approx(exp[stage]["value"], abs=1e-3)
            if stage == "dynamism":
                d = exp[stage]
                assert row["static_segments"] == d["finevideo"]["static_segments"], it["case"]
                assert row["finevideo_static"] == d["finevideo"]["static"], it["case"]
                assert row["fixed_static_segments"] == d["fixed"]["static_segments"], it["case"]
                assert row["static_fraction_time"] == pytest.approx(d["frozen_fraction"], abs=0.01), it["case"]
                # shots from the same decode, whatever the mode (B-frames skipped outside freeze stretches)
                assert row["scene_cuts_s"] == pytest.approx(it["video"]["scene_cuts_s"], abs=0.15), it["case"]


def test_the_measurements_a_later_stage_needs_are_there(materialized):
    _, manifest, frames, _ = materialized
    by_case = {it["case"]: it for it in manifest["items"] if it["kind"] == "video"}
    files = frames["video_files"].filter(pl.col("kept"))
    assert files["media_uri"].null_count() == 0 and files["sha256"].str.len_chars().unique().to_list() == [64]
    assert files["subtitle_uri"].null_count() == 0  # every downloaded video has its .en.vtt
    dyn = frames["dynamism_screen"]
    modes = dict(zip(dyn["video_id"], dyn["decode_mode"], strict=True))
    assert modes[by_case["still"]["id"]] == "full"  # nothing to skip: the whole video is one freeze
    assert modes[by_case["short_last_segment"]["id"]] == "partial"  # only its last 60 s are decoded
    assert "keyframes" in modes.values()  # moving videos are settled by their keyframes
    still = dyn.filter(pl.col("video_id") == by_case["still"]["id"]).row(0, named=True)
    assert still["freeze_intervals"] == [{"start_s": 0.0, "end_s": 75.0}]  # open at the end: closed there
    assert still["longest_freeze_s"] == 75.0 and not still["kept"] and still["reason"] == "static"
    assert all(len(m) == pytest.approx(d, abs=1) for m, d in zip(dyn["motion_per_second"], dyn["duration_s"],
                                                                   strict=True))
    for row in dyn.filter(pl.col("decode_mode").is_not_null()).iter_rows(named=True):  # the annotation's stills
        spans = [0.0, *row["scene_cuts_s"], row["duration_s"]]
        assert 1 <= len(row["frames"]) <= 16 and row["thumbnail_uri"] and spans[-1] > spans[0]
        for still in row["frames"]:
            data = Path(still["uri"].removeprefix("file://")).read_bytes()
            assert data[:2] == b"\xff\xd8" and hashlib.sha256(data).hexdigest() == still["sha256"]


def test_every_stored_row_re_evaluates_to_its_verdict_from_its_own_columns(materialized):
    from assets.finevideo.freezes import DynamismRules
    from assets.finevideo.metadata_rules import LanguageRules, WordDensityRules
    from assets.finevideo.video_files import VideoFileRules
    from assets.kit.screening import evaluate

    rule_sets = {"language_screen": LanguageRules(), "video_files": VideoFileRules(),
                 "word_density_screen": WordDensityRules(), "dynamism_screen": DynamismRules()}
    _, _, frames, _ = materialized
    for key, rules in rule_sets.items():
        for row in frames[key].to_dicts():
            verdicts = evaluate(row, rules.rules())
            failed = [reason for reason, verdict, _ in verdicts if verdict == "FAIL"]
            assert failed == ([row["reason"]] if row["reason"] else []), (key, row["record_id"], verdicts)
