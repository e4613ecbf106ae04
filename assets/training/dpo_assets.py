"""Preference optimisation of the stage-2 MLLM as assets (RECIPES section 7).

mllm_stage2, preference_labeler -> preference_pairs -> memory_plan -> dpo_model -> hallucination_eval
-> dpo_ablation

Thin wrappers over `claim_labeler.py` (the independent claim verifier), `preference.py`
(on-policy RLAIF-V pairs), `dpo_memory.py` (the section-7
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
from functools import partial

import dagster as dg
import polars as pl
from pydantic import Field

from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec
from assets.kit.identity import parse_record_id, record_id, record_id_expr
from assets.kit.metadata import markdown_table, png_markdown, preview
from assets.kit.provenance import declare, models_series
from assets.training import digit_scenes as ds
from assets.training.checkpoints import (
    dims_of,
    evaluation_frame,
    load_model_row,
    model_files,
    model_row,
    model_used,
)
from assets.training.dpo_jobs import CAPTION_QUESTION, pairs_of, run_job
from assets.training.dpo_memory import activation_gb_per_pair, plan_row
from assets.training.intervals import scene_bootstrap
from assets.training.job_launch import device_job, launch_record
from assets.training.mllm_config import MllmBudget, budget_for
from assets.training.mllm_jobs import MODEL, ROWS
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
    group="training", kinds={"scikitlearn"}, check_specs=(provenance_spec,),
    description=(
        "The independent preference labeler (RLAIF-V's claim verifier): a cell classifier that reads each of a "
        "scene image's nine cells from the pixels as a digit or empty, trained on its own random scenes of the "
        "train digits (not the dialogues), its error measured on cells of scenes built from the test digits "
        "(handwriting it never saw, as the pref scenes it labels). Weights as .npz in the media store. "
        "Record `claim_labeler:<sha256 of the weights>`."
    ),
)
def preference_labeler(context: dg.AssetExecutionContext, config: DpoConfig, media: MediaStore,
                       digit_scenes: pl.DataFrame):
    from assets.training import claim_labeler as cl

    b = budget_for(config.profile)
    # the digit split the scenes were drawn with (their record ids carry its seed), so the labeler
    # never trains on the pref or test handwriting
    seed = int(parse_record_id(digit_scenes["record_id"][0])[1][1])
    pool, images = ds.load_digit_pool(seed), ds.digit_images()
    scale = cl.png_pixels(digit_scenes["image_png"][0]).shape[0] // ds.CANVAS  # as the scenes are rendered
    x, y = cl.crops_of_scenes(pool["train"], b.labeler_scenes, seed=seed, scale=scale, images=images)
    clf = cl.CellClassifier.train(x, y, seed=seed)
    x_test, y_test = cl.crops_of_scenes(pool["test"], b.labeler_eval_scenes, seed=seed + 1, scale=scale,
                                        images=images)
    errors = cl.error_rates(clf, x_test, y_test)
    ref = media.put_bytes(clf.to_bytes(), ".npz")
    df = declare(pl.DataFrame([{"record_id": record_id("claim_labeler", ref.sha256), "labeler_uri": ref.uri,
                                "labeler_sha256": ref.sha256, "trained_cells": int(len(y)), **errors,
                                "profile": b.profile}]))
    yield from published(df, {
        **{k: v for k, v in errors.items()}, "trained_cells": int(len(y)), "trained_scenes": b.labeler_scenes,
        "trained_on": "random scenes of the train digits (the labeler's own draw)",
        "evaluated_on": f"{b.labeler_eval_scenes} random scenes of the test digits",
        "labeler_uri": ref.uri, "labeler_sha256": ref.sha256, **budget_meta(b),
    })


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description=(
        "Preference pairs in RLAIF-V's fields (ds_name, image, question, chosen, rejected, origin_dataset, "
        "origin_split, idx, image_path), fully on-policy on the `pref` scenes (handwriting stage 2 never saw): "
        "the stage-2 model samples captions, each caption is split into claims ('a d at the p') and every claim "
        "is verified by preference_labeler's reading of the image; chosen = a sample with the fewest wrong "
        "claims, rejected = one with the most, a pair only where chosen ranks strictly better (else `reason`). "
        "The same samples judged by the scene's annotation give `oracle_chosen` / `oracle_rejected` beside "
        "them, for the ablation. Held-out pairs from unused test scenes. Images thumbnail-resized, inline PNG "
        "bytes. Parent: the scene; `models`: the sampling policy."
    ),
)
def preference_pairs(context: dg.AssetExecutionContext, config: DpoConfig, gpu: GPUResource, media: MediaStore,
                     digit_scenes: pl.DataFrame, mllm_stage2: pl.DataFrame, preference_labeler: pl.DataFrame):
    from assets.training import claim_labeler as cl
    from assets.training.preference import build_pair, judge, pair_record_id, thumbnail_png

    b = budget_for(config.profile)
    policy = mllm_stage2.row(0, named=True)
    labeler_row = preference_labeler.row(0, named=True)
    labeler = cl.CellClassifier.from_bytes(media.local_path(labeler_row["labeler_uri"]).read_bytes())
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
    rows, readings, truths = [], [], []
    for i, (scene, png) in enumerate(zip(scenes, frame["image_png"].to_list(), strict=True)):
        seen, truth = cl.reading(labeler, png), cl.scene_reading(scene)
        readings.append(seen)
        truths.append(truth)
        pair = build_pair(CAPTION_QUESTION, samples[i], seen, random.Random(f"pairs:{gpu.seed}:{scene.scene_id}"))
        oracle = build_pair(CAPTION_QUESTION, samples[i], truth, random.Random(f"pairs:{gpu.seed}:{scene.scene_id}"))
        thumb, before, after = thumbnail_png(png, b.thumbnail_side)
        rows.append({
            "record_id": pair_record_id(scene.scene_id), "ds_name": "digit_scenes", "image": thumb,
            "question": CAPTION_QUESTION, "chosen": pair["chosen"], "rejected": pair["rejected"],
            "origin_dataset": "digit_scenes", "origin_split": scene.split, "idx": i,
            "image_path": f"digit_scenes/{scene.split}/{parse_record_id(scene.scene_id)[1][-1]}.png",
            "scene_id": scene.scene_id, "paired": pair["chosen"] is not None, "reason": pair["reason"],
            "rejected_fault": pair["rejected_fault"], "chosen_wrong": pair["chosen_wrong"],
            "rejected_wrong": pair["rejected_wrong"], "labeler_reading": json.dumps(seen, sort_keys=True),
            "oracle_chosen": oracle["chosen"], "oracle_rejected": oracle["rejected"],
            # the annotation ranks the labeler's chosen below its rejected (a label error that matters)
            "oracle_reverses": pair["chosen"] is not None and (
                judge(pair["chosen"], truth).wrong > judge(pair["rejected"], truth).wrong),
            "samples": pair["samples"], "faithful_samples": oracle["faithful_samples"],
            "hallucinating_samples": oracle["hallucinating_samples"], "image_size": list(before),
            "thumbnail_size": list(after),
        })
    df = pl.DataFrame(rows, schema_overrides={c: pl.String for c in (
        "chosen", "rejected", "reason", "rejected_fault", "oracle_chosen", "oracle_rejected")} | {
        "chosen_wrong": pl.Int64, "rejected_wrong": pl.Int64})
    df = declare(df, parents=["scene_id"], models=[models_series([[model_used("policy", policy)]] * df.height)])
    train = df.filter(pl.col("origin_split") == "pref")
    agreement = cl.claim_agreement([s for ss in samples for s in ss],
                                   [r for r, ss in zip(readings, samples, strict=True) for _ in ss],
                                   [t for t, ss in zip(truths, samples, strict=True) for _ in ss])

    def counts(col: str) -> dg.MetadataValue:
        return dg.MetadataValue.json({str(k): int(n) for k, n in train.group_by(col).len().sort(col).iter_rows()})

    paired = df.filter("paired")
    sample = paired.head(6)
    yield from published(df, {
        "dagster/row_count": df.height, "train_pairs": int(train["paired"].sum()),
        "test_pairs": int(paired.height - train["paired"].sum()), "scenes_without_pair": int((~df["paired"]).sum()),
        "oracle_train_pairs": int(train["oracle_chosen"].is_not_null().sum()),
        "policy": policy["record_id"], "labeler": labeler_row["record_id"], **budget_meta(b),
        "labeler_claim_agreement": dg.MetadataValue.json(agreement),
        "labeler_pairs_the_oracle_reverses": int(train["oracle_reverses"].sum()),
        "samples_per_scene": k, "sample_temperature": b.sample_temperature,
        "sampled_captions_hallucinating": float(df["hallucinating_samples"].sum() / max(1, df["samples"].sum())),
        "sampled_captions_faithful": float(df["faithful_samples"].sum() / max(1, df["samples"].sum())),
        "reason": counts("reason"), "rejected_fault": counts("rejected_fault"),
        "sampling_seconds": sampled["sampling_seconds"], "thumbnail_side": b.thumbnail_side, **launch_record(sampled),
        "preview": preview(df, ["record_id", "chosen", "rejected", "rejected_fault", "reason", "oracle_chosen"]),
        "sample_pairs": _grid(sample["image"].to_list(),
                              [f"+ {c}\n- {r}" for c, r in zip(sample["chosen"], sample["rejected"], strict=True)],
                              "chosen (+) / rejected (-)", cols=3) if sample.height else "no pair",
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
    texts = [t for c in ("chosen", "rejected", "oracle_chosen", "oracle_rejected")
             for t in preference_pairs[c].drop_nulls().to_list()]
    if not texts:
        raise dg.Failure(description="preference_pairs holds no pair (every scene's samples ranked the same): "
                                     "nothing to plan DPO for; see its `reason` counts")
    longest = max(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts)
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


def dpo_payload(b: MllmBudget, memory_plan: pl.DataFrame, policy_row: dict, media: MediaStore, labels: str,
                sft_weight: float) -> dict:
    """A DPO job: the plan's batch, accumulation, precision and checkpointing for this run."""
    plan = memory_plan.filter(pl.col("record_id") == record_id("memory_plan", "this_run")).row(0, named=True)
    batch = int(min(plan["batch_size"], b.dpo_batch))
    return {"job": "dpo", "profile": b.profile, "policy": model_files(policy_row, media.local_path),
            "batch": batch, "accumulation": int(max(1, (b.dpo_batch * b.dpo_grad_accumulation) // batch)),
            "precision": plan["precision"], "gradient_checkpointing": bool(plan["gradient_checkpointing"]),
            "labels": labels, "sft_weight": sft_weight}


@kit_asset(
    group="training", kinds={"pytorch", "trl", "peft"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS,
    check_specs=(provenance_spec,),
    description=(
        "DPO of the stage-2 model with TRL's DPOTrainer and a peft LoRA adapter on the decoder and projector "
        "(reference = the frozen base with the adapter disabled), merged after training. Batch, accumulation, "
        "checkpointing and precision come from memory_plan. The loss is sigmoid DPO plus, while the profile's "
        "dpo_sft_weight is above 0 (1.0 by default), that weight times TRL's 'sft' loss, the NLL of the chosen "
        "answer (RPO); metadata `loss` names the one used. TRL's rewards/accuracies, margins, chosen and "
        "rejected, and the same metrics on held-out test pairs. Trained on the independent labeler's pairs "
        "(dpo_ablation trains the oracle's and pure sigmoid DPO beside it). Parent: the stage-2 model."
    ),
)
def dpo_model(context: dg.AssetExecutionContext, config: DpoConfig, gpu: GPUResource, media: MediaStore,
              mllm_stage2: pl.DataFrame, preference_pairs: pl.DataFrame, memory_plan: pl.DataFrame):

    b = budget_for(config.profile)
    policy_row = mllm_stage2.row(0, named=True)
    payload = dpo_payload(b, memory_plan, policy_row, media, "labeler", b.dpo_sft_weight)
    batch, accumulation = payload["batch"], payload["accumulation"]
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
        "lora_rank": b.lora_rank, "sft_weight": b.dpo_sft_weight, "loss": result["loss"], "labels": result["labels"],
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
    change_ci = caption_change_intervals(captions, "after_dpo")
    fixed = captions.filter((pl.col("variant") == "before_dpo") & (pl.col("hallucinated").list.len() > 0)).head(6)
    after_caps = dict(captions.filter(pl.col("variant") == "after_dpo").select("scene_id", "prediction").iter_rows())
    pngs = dict(zip(test_df["record_id"], test_df["image_png"], strict=True))
    yield from published(df, {
        "dagster/row_count": df.height, "scenes": test_df.height, **launch_record(result),
        **{f"before/{k}": float(v) for k, v in before.items()}, **{f"after/{k}": float(v) for k, v in after.items()},
        "chair_relative_reduction": rel, "cover_change_points": 100 * (after["Cover"] - before["Cover"]),
        **{f"{k}_ci95": dg.MetadataValue.json(v) for k, v in change_ci.items()},
        "evaluated_models": dg.MetadataValue.json(evaluated), **budget_meta(b),
        "amber": dg.MetadataValue.md(markdown_table(table, 20)),
        "hallucinations_before_dpo": _grid(
            [pngs[s] for s in fixed["scene_id"]],
            [f"before: {p}\nafter: {after_caps[s]}" for s, p in zip(fixed["scene_id"], fixed["prediction"], strict=True)],
            "captions that hallucinated before DPO", cols=3) if fixed.height else "none",
    })


def chair_of(captions: pl.DataFrame) -> dict[str, float]:
    """CHAIR, Cover and Hal of caption rows (prediction, truth), from the rows themselves."""
    from assets.training import hallucination as hl

    s = hl.chair_scores([hl.caption_objects(p) for p in captions["prediction"]],
                        [hl.caption_objects(t) for t in captions["truth"]])
    return {"CHAIR": s.chair, "Cover": s.cover, "Hal": s.hal}


def caption_change_intervals(captions: pl.DataFrame, after: str, seed: int = 0) -> dict[str, list[float]]:
    """Paired scene-bootstrap intervals of CHAIR's relative reduction and Cover's change from
    `before_dpo` to the `after` variant of caption rows (variant, scene_id, prediction, truth)."""
    from assets.training import hallucination as hl

    rows = [{"scene_id": r["scene_id"], "variant": r["variant"], "mentioned": hl.caption_objects(r["prediction"]),
             "true": hl.caption_objects(r["truth"])} for r in captions.iter_rows(named=True)
            if r["variant"] in ("before_dpo", after)]
    return scene_bootstrap(rows, partial(hl.chair_change, after=after), seed=seed)


# variant -> (pair labels, SFT weight; None = the profile's)
ABLATIONS = {"oracle_pairs": ("oracle", None), "sigmoid_only": ("labeler", 0.0)}


@kit_asset(
    group="training", kinds={"pytorch", "trl", "peft"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS,
    check_specs=(provenance_spec,),
    description=(
        "What the DPO result owes to its labels and its loss: DPO retrained from the same stage-2 model with the "
        "oracle's pairs (the annotation ranking the same on-policy samples) and with pure sigmoid DPO (no SFT "
        "term) on the labeler's pairs, each scored on hallucination_eval's scenes, beside dpo_model (labeler "
        "pairs, the profile's loss). One row per variant: CHAIR before and after, relative reduction, Cover "
        "change, Hal. Parent: the stage-2 model; `models`: the evaluated checkpoint."
    ),
)
def dpo_ablation(context: dg.AssetExecutionContext, config: DpoConfig, gpu: GPUResource, media: MediaStore,
                 digit_scenes: pl.DataFrame, mllm_stage2: pl.DataFrame, preference_pairs: pl.DataFrame,
                 memory_plan: pl.DataFrame, dpo_model: pl.DataFrame, hallucination_eval: pl.DataFrame):
    from assets.training import dpo

    b = budget_for(config.profile)
    policy_row = mllm_stage2.row(0, named=True)
    trained, skipped = {}, {}
    for name, (labels, sft) in ABLATIONS.items():
        if pairs_of(preference_pairs, labels).filter(pl.col("origin_split") == "pref").is_empty():
            skipped[name] = f"no {labels} pair to train on"
            continue
        payload = dpo_payload(b, memory_plan, policy_row, media, labels, b.dpo_sft_weight if sft is None else sft)
        with device_job(context, gpu, run_job, payload, {"pairs": preference_pairs}) as (result, out):
            ref = media.put_file(out / MODEL, ".safetensors")
        trained[name] = (result, model_row("dpo", ref.uri, ref.sha256, ref.size, policy_row, dims_of(policy_row),
                                           b.profile, [policy_row["record_id"]], result["summary"]).row(0, named=True))
    test_df = digit_scenes.filter(pl.col("split") == "test").head(b.amber_scenes)
    rows, scored = {}, {}
    if trained:
        payload = {"job": "amber", "models": {n: model_files(r, media.local_path) for n, (_, r) in trained.items()}}
        with device_job(context, gpu, run_job, payload, {"scenes": test_df}) as (scored, out):
            rows = json.loads((out / ROWS).read_text())
    captions = hallucination_eval.filter(pl.col("task") == "caption")
    before = chair_of(captions.filter(pl.col("variant") == "before_dpo"))
    main = dpo_model.row(0, named=True)
    main_pairs = pairs_of(preference_pairs, "labeler").filter(pl.col("origin_split") == "pref").height
    variants = [("dpo_model", "labeler", dpo.loss_name(b.dpo_sft_weight), main,
                 chair_of(captions.filter(pl.col("variant") == "after_dpo")), main_pairs)]
    for name, (result, row) in trained.items():
        caps = pl.DataFrame([r for r in rows[name] if r["task"] == "caption"])
        variants.append((name, result["labels"], result["loss"], row, chair_of(caps), result["train_pairs"]))
        captions = pl.concat([captions.select("variant", "scene_id", "prediction", "truth"),
                              caps.select(pl.lit(name).alias("variant"), "scene_id", "prediction", "truth")])
    out_rows = []
    for name, labels, loss, row, after, pairs in variants:
        ci = caption_change_intervals(captions, "after_dpo" if name == "dpo_model" else name)
        out_rows.append({
            "variant": name, "labels": labels, "loss": loss, "train_pairs": pairs,
            "chair_before": before["CHAIR"], "chair_after": after["CHAIR"],
            "chair_relative_reduction": (before["CHAIR"] - after["CHAIR"]) / before["CHAIR"] if before["CHAIR"] else 0.0,
            "chair_reduction_lo": ci["chair_relative_reduction"][0], "chair_reduction_hi": ci["chair_relative_reduction"][1],
            "cover_before": before["Cover"], "cover_after": after["Cover"],
            "cover_change_points": 100 * (after["Cover"] - before["Cover"]), "hal_after": after["Hal"],
            "checkpoint_sha256": row["checkpoint_sha256"], "_model": row})
    df = pl.DataFrame([{k: v for k, v in r.items() if k != "_model"} for r in out_rows],
                      schema_overrides={"train_pairs": pl.Int64})
    df = df.select(record_id_expr("dpo_ablation", "variant").alias("record_id"), pl.all(),
                   pl.Series("_parents", [[policy_row["record_id"]]] * df.height),
                   models_series([[model_used("evaluated", r["_model"])] for r in out_rows], "_models"))
    df = declare(df, parents=["_parents"], models=["_models"]).drop("_parents", "_models")
    table = df.select("variant", "labels", "loss", "train_pairs", "chair_before", "chair_after",
                      "chair_relative_reduction", "chair_reduction_lo", "chair_reduction_hi", "cover_change_points",
                      "hal_after").with_columns(
        pl.col(pl.Float64).round(4))
    yield from published(df, {
        "dagster/row_count": df.height, "ablation": dg.MetadataValue.md(markdown_table(table, 10)),
        **{f"{r['variant']}/chair_relative_reduction": float(r["chair_relative_reduction"]) for r in df.to_dicts()},
        "skipped": dg.MetadataValue.json(skipped), **budget_meta(b), **(launch_record(scored) if scored else {}),
    })
