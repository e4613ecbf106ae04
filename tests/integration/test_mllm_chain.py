"""The MLLM + DPO chain materialized in the fast profile into a private storage root."""

import json

import dagster as dg
import polars as pl
import pytest

from definitions import build_definitions
from resources.warehouse import query
from scripts.materialize import materialize_graph

CHAIN = ["digit_scenes", "digit_scene_dialogues", "mllm_tokenizer", "mllm_vision_encoder", "mllm_text_decoder",
         "mllm_base_model", "mllm_stage1", "mllm_stage2", "mllm_eval", "preference_pairs", "memory_plan",
         "dpo_model", "hallucination_eval"]


def _env(monkeypatch):
    monkeypatch.setenv("MMFOUNDRY_TRAINING_PROFILE", "fast")
    monkeypatch.setenv("MMFOUNDRY_TORCH_THREADS", "1")
    monkeypatch.setenv("MMFOUNDRY_GPU_DEVICE", "cpu")


def _meta(instance, name):
    return instance.fetch_materializations(dg.AssetKey(name), limit=1).records[0].asset_materialization.metadata


def test_scene_data_carries_provenance_and_balance(mmf_env, monkeypatch):
    _env(monkeypatch)
    defs = build_definitions()
    with dg.instance_for_test() as instance:
        run = materialize_graph(defs, instance, selection=[dg.AssetKey(n) for n in CHAIN[:3]])
        assert run.success, run.runs[-1].error
        meta = _meta(instance, "digit_scenes")
        assert meta["scenes_by_split"].value == {"train": 600, "pref": 64, "test": 60}
        assert meta["digits_per_scene"].value == {"1": 200, "2": 200, "3": 200}
        assert "data:image/png;base64" in meta["sample_grid"].value
    scenes = query(mmf_env.warehouse_path, "SELECT record_id, parent_ids, image_sha256 FROM digit_scenes")
    assert scenes["record_id"].n_unique() == scenes.height == 724
    assert all(p.startswith("sklearn_digits:") for ps in scenes["parent_ids"] for p in ps)
    dialogues = query(mmf_env.warehouse_path, "SELECT scene_id, kind, parent_ids FROM digit_scene_dialogues")
    assert set(dialogues["scene_id"]) == set(scenes["record_id"])
    assert set(dialogues["kind"]) == {"caption", "qa", "dialogue"}


@pytest.mark.slow
def test_fast_chain_trains_every_stage(mmf_env, monkeypatch):
    _env(monkeypatch)
    defs = build_definitions()
    from assets.training import mllm_components as mc
    from resources.storage import MediaStore

    media = MediaStore(root=mmf_env.data + "/media")
    with dg.instance_for_test() as instance:
        run = materialize_graph(defs, instance, selection=[dg.AssetKey(n) for n in CHAIN])
        assert run.success, run.runs[-1].error

        # Stage 1: the frozen parts are bit-identical, the projector moved.
        base = query(mmf_env.warehouse_path, "SELECT checkpoint_uri FROM mllm_base_model")["checkpoint_uri"][0]
        s1 = query(mmf_env.warehouse_path, "SELECT checkpoint_uri FROM mllm_stage1")["checkpoint_uri"][0]
        s2 = query(mmf_env.warehouse_path, "SELECT checkpoint_uri FROM mllm_stage2")["checkpoint_uri"][0]
        b, m1, m2 = (mc.load_checkpoint(str(media.local_path(u))).state_dict() for u in (base, s1, s2))
        import torch

        for name, tensor in b.items():
            unchanged = torch.equal(tensor, m1[name])
            assert unchanged == (mc.part_of(name) != "projector"), name
        assert any(not torch.equal(m1[n], m2[n]) for n in m1 if mc.part_of(n) == "language")
        assert all(torch.equal(m1[n], m2[n]) for n in m1 if mc.part_of(n) == "vision")
        assert _meta(instance, "mllm_stage1")["frozen_unchanged"].value is True

        ev = _meta(instance, "mllm_eval")
        for stage in ("base", "stage1", "stage2"):
            for metric in ("caption_accuracy", "qa_accuracy", "bbox_iou", "dialogue_turn_accuracy"):
                assert 0.0 <= ev[f"{stage}/{metric}"].value <= 1.0
        assert ev["stage2/qa_accuracy"].value > ev["base/qa_accuracy"].value

        dpo = _meta(instance, "dpo_model")
        assert dpo["trainer"].value.startswith("trl.DPOTrainer")
        for key in ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected"):
            assert f"train/{key}" in dpo and f"held_out/{key}" in dpo
        amber = _meta(instance, "hallucination_eval")
        for side in ("before", "after"):
            for metric in ("CHAIR", "Cover", "Hal", "yes_no_accuracy", "yes_no_f1_no"):
                assert 0.0 <= amber[f"{side}/{metric}"].value <= 1.0

    pairs = query(mmf_env.warehouse_path, "SELECT * FROM preference_pairs")
    for field in ("ds_name", "image", "question", "chosen", "rejected", "origin_dataset", "origin_split", "idx",
                  "image_path"):
        assert field in pairs.columns
    assert set(pairs["origin_split"]) == {"pref", "test"}
    assert pairs["thumbnail_size"].to_list() == [[36, 36]] * pairs.height
    assert (pairs["chosen"] != pairs["rejected"]).all()
    plan = query(mmf_env.warehouse_path, "SELECT * FROM memory_plan ORDER BY plan")
    target = plan.filter(pl.col("plan").str.starts_with("Idefics2")).row(0, named=True)
    assert (target["precision"], target["lora"], target["batch_size"], target["grad_accumulation"]) == (
        "bf16", True, 2, 32)
    dpo_row = query(mmf_env.warehouse_path, "SELECT parent_ids, metrics FROM dpo_model").row(0, named=True)
    assert dpo_row["parent_ids"][0].startswith("stage2:") and "log_history" in json.loads(dpo_row["metrics"])
