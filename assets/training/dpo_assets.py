"""Preference optimisation of the stage-2 MLLM as assets (RECIPES section 7).

mllm_stage2 -> preference_pairs -> memory_plan -> dpo_model -> hallucination_eval

Thin wrappers over `preference.py` (on-policy RLAIF-V pairs), `dpo_memory.py` (the section-7
memory formula), `dpo.py` (TRL DPOTrainer + peft LoRA) and `hallucination.py` (AMBER). The device
work (sampling, DPO, evaluation) is `dpo_jobs.run_job`, in the step or under Dagster Pipes as
`GPUResource.launch` says; each asset records where it ran (`launch`, `device`). Budgets come
from the training profile (run config `profile`), recorded in each output's metadata.

Provenance: a pair's parent is its scene and the sampling policy is in `models` (role `policy`);
the DPO model is `dpo:<checkpoint sha256>` with the stage-2 model as parent; an evaluation row's
parent is its test scene and the evaluated checkpoint is in `models` (role `evaluated`).
"""

import json
import os
import random

import dagster as dg
import polars as pl
from pydantic import Field

from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec
from assets.kit.identity import parse_record_id, record_id
from assets.kit.metadata import markdown_table, png_markdown, preview
from assets.kit.provenance import declare, models_series
from assets.training.checkpoints import dims_of, evaluation_frame, load_model_row, model_row, model_used
from assets.training.dpo_jobs import CAPTION_QUESTION, run_job
from assets.training.dpo_memory import activation_gb_per_pair, plan_row
from assets.training.job_launch import device_job, launch_record
from assets.training.mllm_config import MllmBudget, budget_for
from assets.training.mllm_jobs import MODEL, ROWS, model_files
from assets.training.scene_frames import scenes_from_frame
from assets.training.scheduling import GPU_OP_TAGS, GPU_POOL
from assets.training.training_charts import dpo_rewards_figure, scene_grid_figure
from resources.gpu import GPUResource
from resources.gpu_memory import GB, estimate_memory
from resources.storage import MediaStore


class DpoConfig(dg.Config):
    profile: str = Field(default="", description="fast | default | large; empty: MMFOUNDRY_TRAINING_PROFILE.")


def budget_meta(b: MllmBudget) -> dict:
    """The run settings that decide the result (the profile's budget), for the output metadata."""
    return {"profile": b.profile, "budget": dg.MetadataValue.json(b.as_dict())}


def published(df: pl.DataFrame, metadata: dict):
    """The output (content-hashed data version) and its provenance contract check."""
    yield versioned(df, metadata)
    yield provenance_result(df)


def _grid(pngs: list[bytes], titles: list[str], title: str, cols: int = 4) -> dg.MetadataValue:
    return png_markdown(scene_grid_figure(pngs, titles, title, cols), title)


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description=(
        "Preference pairs in RLAIF-V's fields (ds_name, image, question, chosen, rejected, origin_dataset, "
        "origin_split, idx, image_path), built on-policy on the `pref` scenes (handwriting stage 2 never saw): "
        "the stage-2 model samples captions, each claim is checked against the scene (the labeler; RLAIF-V "
        "uses an open MLLM) and samples are ranked by wrong claims; chosen = a sample with none (else the "
        "reference caption), rejected = a sample with a hallucinated digit or a wrong position (else a "
        "synthetic one). Held-out pairs from unused test scenes. Images thumbnail-resized, inline PNG bytes. "
        "Parent: the scene; `models`: the sampling policy."
    ),
)
def preference_pairs(context: dg.AssetExecutionContext, config: DpoConfig, gpu: GPUResource, media: MediaStore,
                     digit_scenes: pl.DataFrame, mllm_stage2: pl.DataFrame):
    from assets.training.preference import build_pair, pair_record_id, thumbnail_png

    b = budget_for(config.profile)
    policy = mllm_stage2.row(0, named=True)
    # Training pairs: the pref split (handwriting stage 2 never saw). Held-out pairs: test scenes
    # the evaluations do not use.
    parts = [digit_scenes.filter(pl.col("split") == "pref").head(b.pair_scenes),
             digit_scenes.filter(pl.col("split") == "test").slice(max(b.eval_scenes, b.amber_scenes),
                                                                   b.pair_test_scenes)]
    frame = pl.concat(parts)
    scenes = scenes_from_frame(frame)
    k = b.samples_per_scene
    payload = {"job": "sample_captions", "policy": model_files(policy, media.local_path), "samples": k,
               "temperature": b.sample_temperature}
    with device_job(context, gpu, run_job, payload, {"scenes": frame}) as (sampled, _):
        samples = sampled["samples"]
    rng = random.Random(f"pairs:{gpu.seed}")
    rows = []
    for i, (scene, png) in enumerate(zip(scenes, frame["image_png"].to_list(), strict=True)):
        pair = build_pair(scene, CAPTION_QUESTION, samples[i], rng)
        thumb, before, after = thumbnail_png(png, b.thumbnail_side)
        rows.append({
            "record_id": pair_record_id(scene.scene_id), "ds_name": "digit_scenes", "image": thumb,
            "question": pair["question"], "chosen": pair["chosen"], "rejected": pair["rejected"],
            "origin_dataset": "digit_scenes", "origin_split": scene.split, "idx": i,
            "image_path": f"digit_scenes/{scene.split}/{parse_record_id(scene.scene_id)[1][-1]}.png",
            "scene_id": scene.scene_id, "chosen_source": pair["chosen_source"],
            "rejected_source": pair["rejected_source"], "rejected_fault": pair["rejected_fault"],
            "samples": pair["samples"], "faithful_samples": pair["faithful_samples"],
            "hallucinating_samples": pair["hallucinating_samples"], "image_size": list(before),
            "thumbnail_size": list(after),
        })
    df = pl.DataFrame(rows)
    df = declare(df, parents=["scene_id"], models=[models_series([[model_used("policy", policy)]] * df.height)])
    train = df.filter(pl.col("origin_split") == "pref")

    def counts(col: str) -> dg.MetadataValue:
        return dg.MetadataValue.json({str(k): int(n) for k, n in train.group_by(col).len().sort(col).iter_rows()})

    sample = df.head(6)
    yield from published(df, {
        "dagster/row_count": df.height, "train_pairs": train.height, "test_pairs": df.height - train.height,
        "policy": policy["record_id"], **budget_meta(b),
        "samples_per_scene": k, "sample_temperature": b.sample_temperature,
        "sampled_captions_hallucinating": float(df["hallucinating_samples"].sum() / max(1, df["samples"].sum())),
        "sampled_captions_faithful": float(df["faithful_samples"].sum() / max(1, df["samples"].sum())),
        "chosen_source": counts("chosen_source"), "rejected_source": counts("rejected_source"),
        "rejected_fault": counts("rejected_fault"), "sampling_seconds": sampled["sampling_seconds"],
        "thumbnail_side": b.thumbnail_side, **launch_record(sampled),
        "preview": preview(df, ["record_id", "question", "chosen", "rejected", "rejected_fault", "rejected_source"]),
        "sample_pairs": _grid(sample["image"].to_list(),
                              [f"+ {c}\n- {r}" for c, r in zip(sample["chosen"], sample["rejected"], strict=True)],
                              "chosen (+) / rejected (-)", cols=3),
    })


# --------------------------------------------------------------------------- memory plan


class MemoryPlanConfig(DpoConfig):
    target_model: str = Field(default="Idefics2-8B (Mistral-7B decoder)", description="Production model planned for.")
    target_params: int = Field(default=8_000_000_000, description="Parameters of the production model.")
    target_lora_params: int = Field(default=55_300_000, description="LoRA parameters (all linear layers, r=8).")
    target_hidden: int = 4096
    target_layers: int = 32
    target_seq_len: int = Field(default=2048, description="Tokens per sequence (image tokens + text).")
    target_vram_gb: float = Field(default=80.0, description="GPU memory per device for the production run.")
    target_effective_batch: int = 64


@kit_asset(
    group="training", kinds={"polars"}, check_specs=(provenance_spec,),
    description=(
        "Memory plan for DPO (RECIPES section 7: policy + reference + gradients + 2 AdamW states, activations "
        "extra). For the configured production model and VRAM budget it picks precision, LoRA, batch, gradient "
        "accumulation and checkpointing, or records the refusal with its numbers; for this run (the tiny "
        "model on this device) it gives the batch, accumulation and checkpointing the DPO step uses. Rows "
        "`memory_plan:target` (the production model, from run config) and `memory_plan:this_run` (parent: "
        "the stage-2 model it measured)."
    ),
)
def memory_plan(context: dg.AssetExecutionContext, config: MemoryPlanConfig, gpu: GPUResource, media: MediaStore,
                mllm_stage2: pl.DataFrame, preference_pairs: pl.DataFrame):
    from peft import get_peft_model

    from assets.training.dpo import lora_config

    b = budget_for(config.profile)
    target = plan_row(
        config.target_model, config.target_params, config.target_lora_params, config.target_vram_gb,
        config.target_effective_batch,
        activation_gb_per_pair(config.target_seq_len, config.target_hidden, config.target_layers, 2), "target GPU")
    row = mllm_stage2.row(0, named=True)
    model, tok, _, n_img = load_model_row(media, row)
    lora_params = get_peft_model(model, lora_config(b.lora_rank, b.lora_alpha)).get_nb_trainable_parameters()[0]
    n_params = sum(p.numel() for p in model.parameters())
    longest = max(len(tok(t, add_special_tokens=False)["input_ids"])
                  for t in preference_pairs["chosen"].to_list() + preference_pairs["rejected"].to_list())
    seq = n_img + 16 + longest
    device = gpu.torch_device().type
    vram = gpu.available_vram_gb()
    if vram is None and device == "cpu":
        vram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
    text = model.config.get_text_config()
    run = plan_row("this run", n_params, int(lora_params), vram, b.dpo_batch * b.dpo_grad_accumulation,
                   activation_gb_per_pair(seq, text.hidden_size, text.num_hidden_layers, 4), device)
    df = pl.DataFrame([{"record_id": record_id("memory_plan", "target"), "_parents": []} | target,
                       {"record_id": record_id("memory_plan", "this_run"), "_parents": [row["record_id"]]} | run],
                      infer_schema_length=None, schema_overrides={"_parents": pl.List(pl.String)})
    df = declare(df, parents=["_parents"]).drop("_parents")
    published_figures = {
        "8B fp32 (GB)": round(estimate_memory(8_000_000_000, "fp32").total_gb, 1),
        "8B bf16 + LoRA 55.3M (GB)": round(estimate_memory(8_000_000_000, "bf16", 55_300_000).total_gb, 1),
    }
    cols = ["plan", "status", "precision", "lora", "batch_size", "grad_accumulation", "gradient_checkpointing",
            "policy_gb", "reference_gb", "gradients_gb", "optimizer_gb", "activations_gb", "total_gb", "vram_gb"]
    if run["status"] != "planned":
        raise dg.Failure(description=f"DPO does not fit this device: {run['message']}")
    yield from published(df, {
        "plans": dg.MetadataValue.md(markdown_table(df.select([c for c in cols if c in df.columns]))),
        "target_status": target["status"], "target_message": target["message"] or "fits",
        "this_run_status": run["status"], "published_figures": dg.MetadataValue.json(published_figures),
        "measured_model": row["record_id"], **budget_meta(b),
        "this_run_sequence_tokens": seq, "note": "LoRA is the recipe's choice for the DPO step even where the "
        "planner would allow full fine-tuning (it does for the tiny model); TRL with PEFT reuses the frozen base "
        "as the reference, so the recipe's second copy is an upper bound there.",
    })


@dg.asset_check(asset=memory_plan, description="The production configuration fits its VRAM budget (else the "
                "plan records the refusal and the smallest footprint).")
def memory_plan_fits_target(memory_plan: pl.DataFrame) -> dg.AssetCheckResult:
    target = memory_plan.filter(pl.col("record_id") == record_id("memory_plan", "target")).row(0, named=True)
    return dg.AssetCheckResult(passed=target["status"] == "planned", severity=dg.AssetCheckSeverity.WARN,
                               metadata={"plan": target["plan"], "message": target["message"] or "fits"})


# --------------------------------------------------------------------------- DPO


@kit_asset(
    group="training", kinds={"pytorch", "trl", "peft"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS,
    check_specs=(provenance_spec,),
    description=(
        "DPO of the stage-2 model with TRL's DPOTrainer and a peft LoRA adapter on the decoder and projector "
        "(reference = the frozen base with the adapter disabled), merged after training. Batch, accumulation, "
        "checkpointing and precision come from memory_plan. The loss is sigmoid DPO plus, while the profile's "
        "dpo_sft_weight is above 0 (1.0 by default), that weight times TRL's 'sft' loss, the NLL of the chosen "
        "answer (RPO); metadata `loss` names the one used. TRL's rewards/accuracies, margins, chosen and "
        "rejected, and the same metrics on held-out test pairs. Parent: the stage-2 model."
    ),
)
def dpo_model(context: dg.AssetExecutionContext, config: DpoConfig, gpu: GPUResource, media: MediaStore,
              digit_scenes: pl.DataFrame, mllm_stage2: pl.DataFrame, preference_pairs: pl.DataFrame,
              memory_plan: pl.DataFrame):
    from assets.training import dpo

    b = budget_for(config.profile)
    plan = memory_plan.filter(pl.col("record_id") == record_id("memory_plan", "this_run")).row(0, named=True)
    policy_row = mllm_stage2.row(0, named=True)
    batch = int(min(plan["batch_size"], b.dpo_batch))
    accumulation = int(max(1, (b.dpo_batch * b.dpo_grad_accumulation) // batch))
    payload = {"job": "dpo", "profile": b.profile, "policy": model_files(policy_row, media.local_path),
               "batch": batch, "accumulation": accumulation, "precision": plan["precision"],
               "gradient_checkpointing": bool(plan["gradient_checkpointing"])}
    with device_job(context, gpu, run_job, payload, {"pairs": preference_pairs}) as (result, out):
        ref = media.put_file(out / MODEL, ".safetensors")
    summary, held_out, logs = result["summary"], result["held_out"], result["logs"]
    df = model_row("dpo", ref.uri, ref.sha256, ref.size, policy_row, dims_of(policy_row), b.profile,
                   [policy_row["record_id"]], {**summary, **{f"held_out/{k}": v for k, v in held_out.items()},
                                               "log_history": logs})
    yield from published(df, {
        **{f"train/{k}": v for k, v in summary.items() if isinstance(v, float | int)},
        **{f"held_out/{k}": v for k, v in held_out.items()},
        "trainer": summary["trainer"], "peft": summary["peft"], "batch_size": batch,
        "grad_accumulation": accumulation, "bf16": result["bf16"], "beta": b.dpo_beta, "lr": b.dpo_lr,
        "lora_rank": b.lora_rank, "sft_weight": b.dpo_sft_weight, "loss": dpo.loss_name(b.dpo_sft_weight),
        "train_pairs": result["train_pairs"], "held_out_pairs": result["held_out_pairs"], "trained_on": "preference_pairs (pref split)", **budget_meta(b),
        "rewards_curve": png_markdown(dpo_rewards_figure(logs), "DPO rewards"), "checkpoint_uri": ref.uri,
        "checkpoint_sha256": ref.sha256, **launch_record(result),
    })


# --------------------------------------------------------------------------- hallucination evaluation


AMBER_TABLE = ("CHAIR", "Cover", "Hal", "CHAIR_loc", "position_error_rate", "caption_accuracy", "yes_no_accuracy",
               "yes_no_f1_no")


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description=(
        "AMBER-style hallucination evaluation before (stage 2) and after DPO on held-out scenes: generative "
        "CHAIR (hallucinated digit mentions / all mentions), Cover (true digits mentioned / true digits), Hal "
        "(% captions with a hallucination), CHAIR over (digit, position) pairs, and discriminative yes/no "
        "existence questions (balanced) with accuracy and F1 with 'no' as the positive class. `variant` says "
        "before_dpo / after_dpo; parent = the test scene, `models` = the evaluated checkpoint."
    ),
)
def hallucination_eval(context: dg.AssetExecutionContext, config: DpoConfig, gpu: GPUResource,
                       media: MediaStore, digit_scenes: pl.DataFrame, mllm_stage2: pl.DataFrame,
                       dpo_model: pl.DataFrame):
    b = budget_for(config.profile)
    test_df = digit_scenes.filter(pl.col("split") == "test").head(b.amber_scenes)
    rows_of = {"before_dpo": mllm_stage2.row(0, named=True), "after_dpo": dpo_model.row(0, named=True)}
    payload = {"job": "amber", "models": {n: model_files(r, media.local_path) for n, r in rows_of.items()}}
    with device_job(context, gpu, run_job, payload, {"scenes": test_df}) as (result, out):
        rows = json.loads((out / ROWS).read_text())
    results = result["scores"]
    evaluated = {n: r["record_id"] for n, r in rows_of.items()}
    frames = [evaluation_frame("hallucination_eval", rows[n], ("variant", n), ["variant", "task", "scene_id", "item"],
                               "scene_id", r, {"hallucinated": pl.List(pl.Int64)}) for n, r in rows_of.items()]
    df = pl.concat(frames)
    before, after = results["before_dpo"], results["after_dpo"]
    table = pl.DataFrame([{"metric": m, "before_dpo": round(before[m], 4), "after_dpo": round(after[m], 4),
                           "change": round(after[m] - before[m], 4)} for m in AMBER_TABLE])
    rel = (before["CHAIR"] - after["CHAIR"]) / before["CHAIR"] if before["CHAIR"] else 0.0
    captions = df.filter(pl.col("task") == "caption")
    fixed = captions.filter((pl.col("variant") == "before_dpo") & (pl.col("hallucinated").list.len() > 0)).head(6)
    after_caps = dict(captions.filter(pl.col("variant") == "after_dpo").select("scene_id", "prediction").iter_rows())
    pngs = dict(zip(test_df["record_id"], test_df["image_png"], strict=True))
    yield from published(df, {
        "dagster/row_count": df.height, "scenes": test_df.height, **launch_record(result),
        **{f"before/{k}": float(v) for k, v in before.items()}, **{f"after/{k}": float(v) for k, v in after.items()},
        "chair_relative_reduction": rel, "cover_change_points": 100 * (after["Cover"] - before["Cover"]),
        "evaluated_models": dg.MetadataValue.json(evaluated), **budget_meta(b),
        "amber": dg.MetadataValue.md(markdown_table(table, 20)),
        "hallucinations_before_dpo": _grid(
            [pngs[s] for s in fixed["scene_id"]],
            [f"before: {p}\nafter: {after_caps[s]}" for s, p in zip(fixed["scene_id"], fixed["prediction"], strict=True)],
            "captions that hallucinated before DPO", cols=3) if fixed.height else "none",
    })
