"""Record identity and the provenance contract of the training group's rows, on frames the test
builds: every id is minted by assets.kit.identity (parses back to its parts), ids are unique by
construction, and each row declares its parents and the models it came from."""

from __future__ import annotations

import json

import polars as pl
import pytest

from assets.kit.identity import parse_record_id, record_id
from assets.kit.provenance import contract_problems
from assets.training import digit_scenes as ds
from assets.training.checkpoints import checkpoint_id, evaluation_frame, model_row, pretrained_source
from assets.training.mllm_config import ModelDims
from assets.training.preference import pair_record_id
from assets.training.scm_records import checkpoint_frame, checkpoint_record, image_source, report_frame

POOL = {d: list(range(d * 5, d * 5 + 5)) for d in range(10)}
SHA = "ab" * 32


def test_scene_and_conversation_ids_parse_back_and_nest_their_scene():
    scenes = [s for split in ("train", "test") for s in ds.generate_scenes(30, split, POOL, seed=4)[0]]
    assert len({s.scene_id for s in scenes}) == len(scenes)
    for s in scenes:
        ns, (split, seed, n) = parse_record_id(s.scene_id)
        assert (ns, split, seed) == ("digit_scene", s.split, "4") and s.scene_id == record_id(ns, split, 4, int(n))
    convs = [c for s in scenes for c in ds.conversations(s, seed=4, dialogues=2)]
    assert len({c.record_id for c in convs}) == len(convs)
    for c in convs:
        ns, (scene, kind, _) = parse_record_id(c.record_id)
        assert (ns, scene) == ("conversation", c.scene_id) and kind == c.kind
    assert ds.digit_source_key(17) == "sklearn_digits:17"


def test_the_same_draw_is_the_same_scene_whatever_the_count():
    few, _ = ds.generate_scenes(10, "train", POOL, seed=1)
    many, _ = ds.generate_scenes(40, "train", POOL, seed=1)
    by_id = {s.scene_id: s for s in many}
    assert all(by_id[s.scene_id] == s for s in few)


def test_a_checkpoint_row_is_its_content_and_names_what_it_starts_from():
    row = model_row("stage2", "file:///m/x.safetensors", SHA, 10, {"tokenizer_uri": "file:///t.json"},
                    ModelDims(), "fast", ["stage1:" + "cd" * 32], {"final_loss": 0.5})
    assert contract_problems(row) == []
    r = row.row(0, named=True)
    assert r["record_id"] == checkpoint_id("stage2", SHA) == f"stage2:{SHA}"
    assert r["parent_ids"] == ["stage1:" + "cd" * 32] and r["models"] == []
    assert r["tokenizer_uri"] == "file:///t.json" and json.loads(r["metrics"]) == {"final_loss": 0.5}
    # a production base model: its folder is a source, nested in the record id
    src = pretrained_source("/models/llava:1.5")
    base = model_row("base_model", None, None, None, {"pretrained_path": "/models/llava:1.5"}, None, "large",
                     [src], {}, rid=record_id("base_model", src)).row(0, named=True)
    assert parse_record_id(base["record_id"]) == ("base_model", (src,)) and base["parent_ids"] == [src]
    assert parse_record_id(src) == ("pretrained_checkpoint", ("/models/llava:1.5",))


def test_evaluation_rows_name_their_test_item_and_the_evaluated_checkpoint():
    rows = [{"conversation_id": "conversation:s:qa:0", "turn": 0, "score": 1.0},
            {"conversation_id": "conversation:s:dialogue:0", "turn": 0, "score": 0.0},
            {"conversation_id": "conversation:s:dialogue:0", "turn": 1, "score": 1.0}]
    frames = [evaluation_frame("mllm_eval", rows, ("stage", stage), ["stage", "conversation_id", "turn"],
                               "conversation_id", {"record_id": f"{stage}:{sha}", "checkpoint_sha256": sha})
              for stage, sha in (("stage1", "11" * 32), ("stage2", "22" * 32))]
    df = pl.concat(frames)
    assert contract_problems(df) == [] and df["record_id"].n_unique() == df.height == 6
    first = df.row(2, named=True)
    assert parse_record_id(first["record_id"]) == ("mllm_eval", ("stage1", "conversation:s:dialogue:0", "1"))
    assert first["parent_ids"] == ["conversation:s:dialogue:0"]
    assert first["models"] == [{"role": "evaluated", "backend": "torch", "model": "stage1:" + "11" * 32,
                                "task_version": "", "prompt_sha": "", "fingerprint": "11" * 32}]
    assert "model_id" not in df.columns


def test_preference_pair_ids_are_one_per_scene():
    scenes = ds.generate_scenes(20, "pref", POOL, seed=0)[0]
    ids = [pair_record_id(s.scene_id) for s in scenes]
    assert len(set(ids)) == len(ids) and all(parse_record_id(i)[1] == (s.scene_id,) for i, s in zip(ids, scenes, strict=True))


def _curve(steps):
    return [{"step": s, "loss": 1.0 / (s + 1)} for s in steps]


def test_scm_rows_name_their_source_teacher_and_evaluated_checkpoints():
    teacher = checkpoint_frame("scm_teacher", _curve([10, 20, 30]), "file:///t.pt", SHA, [image_source("digits")])
    assert contract_problems(teacher) == [] and teacher["record_id"].n_unique() == 3
    final = checkpoint_record(teacher)
    assert final["record_id"] == f"scm_teacher:{SHA}:30" and final["parent_ids"] == ["image_source:digits"]
    student = checkpoint_frame("scm_student", _curve([0, 5]), "file:///s.pt", "cd" * 32, [final["record_id"]])
    assert student["parent_ids"].to_list() == [[final["record_id"]]] * 2
    rows = [{"section": "heun_sweep", "sampler": "heun", "network": "teacher", "nfe": n} for n in (2, 4)]
    rows += [{"section": "sampler", "sampler": "student_1step", "network": "student", "nfe": 1},
             {"section": "floor", "sampler": "real_vs_real", "network": "data", "nfe": None}]
    report = report_frame(rows, ["section", "sampler", "network", "nfe"], "digits",
                          {"teacher": final, "student": checkpoint_record(student)})
    assert contract_problems(report) == [] and report["record_id"].to_list() == [
        "scm_report:heun:2", "scm_report:heun:4", "scm_report:student_1step", "scm_report:real_vs_real"]
    models = [[m["model"] for m in ms] for ms in report["models"].to_list()]
    assert models == [[final["record_id"]]] * 2 + [[checkpoint_record(student)["record_id"]], []]
    assert report["models"][0][0]["fingerprint"] == SHA
    assert set(report["parent_ids"].explode()) == {"image_source:digits"}


@pytest.mark.parametrize("namespace", ["digit_scene", "conversation", "preference_pair", "mllm_eval",
                                       "hallucination_eval", "memory_plan", "scm_report", "scm_teacher"])
def test_namespaces_are_valid(namespace):
    assert parse_record_id(record_id(namespace, "x"))[0] == namespace
