"""LLaVA-style two-stage MLLM training as assets (RECIPES section 6).

digit_scenes -> digit_scene_dialogues (scene_assets.py) -> mllm_tokenizer -> mllm_vision_encoder,
mllm_text_decoder -> mllm_base_model -> mllm_stage1 -> mllm_stage2 -> mllm_eval

Thin wrappers: the world is `digit_scenes.py`, the parts `mllm_components.py`, the stages
`mllm_training.py`, the metrics `mllm_metrics.py`, checkpoint rows `checkpoints.py`. Every asset in
the GPU pool runs its work as a device job (`mllm_jobs.run_job`), in the step or under Dagster
Pipes as `GPUResource.launch` says, and records where it ran (`launch`, `device`) in its metadata. Checkpoints
are safetensors files in the media store, referenced by `checkpoint_uri` + `checkpoint_sha256`; a
model's record is `<component>:<checkpoint sha256>` and names the artifacts it starts from as
parents. Budgets are optimizer steps chosen by the training profile (config `profile`, else
MMFOUNDRY_TRAINING_PROFILE): a run setting, recorded in every output's metadata (`profile`,
`budget`), not part of the code version.
"""

import json
import os

import dagster as dg
import polars as pl
from pydantic import Field

from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec
from assets.kit.identity import record_id
from assets.kit.metadata import markdown_table, png_markdown, preview
from assets.kit.provenance import declare
from assets.training.checkpoints import dims_of, evaluation_frame, model_files, model_row, pretrained_source
from assets.training.intervals import formatted
from assets.training.job_launch import device_job, launch_record
from assets.training.mllm_config import MllmBudget, budget_for
from assets.training.mllm_jobs import MODEL, ROWS, run_job
from assets.training.scene_frames import conversations_from_frame, scenes_from_frame
from assets.training.scheduling import GPU_OP_TAGS, GPU_POOL
from assets.training.training_charts import loss_figure, scene_grid_figure
from resources.gpu import GPUResource
from resources.storage import MediaStore


class MllmConfig(dg.Config):
    profile: str = Field(default="", description="fast | default | large; empty: MMFOUNDRY_TRAINING_PROFILE.")


class BaseModelConfig(MllmConfig):
    pretrained_path: str = Field(
        default_factory=lambda: os.environ.get("MMFOUNDRY_MLLM_CHECKPOINT", ""),
        description="A local folder with a LLaVA-style checkpoint (e.g. llava-1.5-7b-hf) used instead of "
                    "assembling the tiny model; never a hub id. Default: MMFOUNDRY_MLLM_CHECKPOINT.",
    )


def budget_meta(b: MllmBudget) -> dict:
    """The run settings that decide the result (the profile's budget), for the output metadata."""
    return {"profile": b.profile, "budget": dg.MetadataValue.json(b.as_dict())}


def published(df: pl.DataFrame, metadata: dict):
    """The output (content-hashed data version) and its provenance contract check."""
    yield versioned(df, metadata)
    yield provenance_result(df)


# --------------------------------------------------------------------------- components


@kit_asset(
    group="training", kinds={"tokenizers"}, check_specs=(provenance_spec,),
    description="A BPE tokenizer trained offline on the train dialogues (`tokenizers`, wrapped in "
                "PreTrainedTokenizerFast); digits are single tokens; <image>, <s>, </s>, <pad> are special. "
                "Its record is `tokenizer:<sha256 of the tokenizer JSON>`.",
)
def mllm_tokenizer(context: dg.AssetExecutionContext, config: MllmConfig, media: MediaStore,
                   digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame):
    from assets.training import mllm_components as mc

    b = budget_for(config.profile)
    scenes = {s.scene_id: s for s in scenes_from_frame(digit_scenes, "train")}
    texts = mc.decoder_corpus(conversations_from_frame(digit_scene_dialogues, "train"), scenes)
    tok = mc.train_tokenizer(texts, b.dims.vocab_size)
    ref = media.put_bytes(mc.tokenizer_json(tok).encode(), ".json")
    example = texts[0]
    df = declare(pl.DataFrame([{"record_id": record_id("tokenizer", ref.sha256), "tokenizer_uri": ref.uri,
                                "tokenizer_sha256": ref.sha256, "vocab_size": len(tok), "profile": b.profile}]))
    yield from published(df, {
        "vocab_size": len(tok), "trained_on_texts": len(texts), "trained_on": "digit_scene_dialogues (train split)",
        "tokenizer_uri": ref.uri, "tokenizer_sha256": ref.sha256, **budget_meta(b),
        "example": dg.MetadataValue.md(f"`{example}`\n\n" + " ".join(f"`{t}`" for t in tok.tokenize(example))),
    })


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description="A CLIP vision encoder pretrained on its own for digit recognition: every 12x12 patch of "
                "fresh random train-digit scenes predicts the digit covering it (or background) and the "
                "tile's offset. Held-out patch accuracy on test scenes in the metadata.",
)
def mllm_vision_encoder(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource,
                        media: MediaStore, digit_scenes: pl.DataFrame):
    b = budget_for(config.profile)
    with device_job(context, gpu, run_job, {"job": "vision_encoder", "profile": b.profile},
                    {"scenes": digit_scenes.filter(pl.col("split") == "test")}) as (summary, out):
        ref = media.put_file(out / MODEL, ".safetensors")
    metrics = summary["metrics"]
    df = model_row("vision_encoder", ref.uri, ref.sha256, ref.size, None, b.dims, b.profile, [], metrics)
    yield from published(df, {
        "parameters": summary["parameters"], **{k: float(v) for k, v in metrics.items()},
        "trained_on": "random scenes of the train digits; evaluated on digit_scenes (test split)",
        "checkpoint_uri": ref.uri, "checkpoint_sha256": ref.sha256, **budget_meta(b), **launch_record(summary),
    })


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description="A decoder-only language model pretrained on its own on the train dialogues' text, with "
                "each scene written as a 9-symbol layout transcript where the image will go (no pixels). "
                "Held-out perplexity on test dialogues in the metadata. Parent: the tokenizer.",
)
def mllm_text_decoder(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource,
                      media: MediaStore, digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame,
                      mllm_tokenizer: pl.DataFrame):
    b = budget_for(config.profile)
    tok_row = mllm_tokenizer.row(0, named=True)
    payload = {"job": "text_decoder", "profile": b.profile,
               "tokenizer": str(media.local_path(tok_row["tokenizer_uri"]))}
    with device_job(context, gpu, run_job, payload,
                    {"scenes": digit_scenes, "dialogues": digit_scene_dialogues}) as (summary, out):
        ref = media.put_file(out / MODEL, ".safetensors")
    metrics = summary["metrics"]
    df = model_row("text_decoder", ref.uri, ref.sha256, ref.size, tok_row, b.dims, b.profile,
                   [tok_row["record_id"]], metrics)
    yield from published(df, {
        "architecture": summary["architecture"], "parameters": summary["parameters"],
        **{k: float(v) for k, v in metrics.items()}, "trained_on": "digit_scene_dialogues (train split)",
        "checkpoint_uri": ref.uri, "checkpoint_sha256": ref.sha256, **budget_meta(b), **launch_record(summary),
    })


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description="The tiny LlavaForConditionalGeneration assembled from LlavaConfig(vision_config, "
                "text_config, image_token_id): pretrained encoder and decoder weights copied in, a fresh "
                "2-layer GELU projector. With `pretrained_path` a local LLaVA-style checkpoint is used instead.",
)
def mllm_base_model(context: dg.AssetExecutionContext, config: BaseModelConfig, gpu: GPUResource,
                    media: MediaStore, mllm_tokenizer: pl.DataFrame, mllm_vision_encoder: pl.DataFrame,
                    mllm_text_decoder: pl.DataFrame):
    b = budget_for(config.profile)
    if config.pretrained_path:
        with device_job(context, gpu, run_job, {"job": "base_model", "profile": b.profile,
                                                "pretrained_path": config.pretrained_path}) as (summary, _):
            counts = summary["counts"]
        source = pretrained_source(config.pretrained_path)
        df = model_row("base_model", None, None, None, {"pretrained_path": config.pretrained_path}, None,
                       b.profile, [source], counts, rid=record_id("base_model", source))
        yield from published(df, {"pretrained_path": config.pretrained_path, **counts, **budget_meta(b),
                                  **launch_record(summary)})
        return
    tok_row = mllm_tokenizer.row(0, named=True)
    enc_row, dec_row = mllm_vision_encoder.row(0, named=True), mllm_text_decoder.row(0, named=True)
    payload = {"job": "base_model", "profile": b.profile,
               **{k: str(media.local_path(r[c])) for k, r, c in (("tokenizer", tok_row, "tokenizer_uri"),
                                                                  ("encoder", enc_row, "checkpoint_uri"),
                                                                  ("decoder", dec_row, "checkpoint_uri"))}}
    with device_job(context, gpu, run_job, payload) as (summary, out):
        ref = media.put_file(out / MODEL, ".safetensors")
    counts = summary["counts"]
    df = model_row("base_model", ref.uri, ref.sha256, ref.size, tok_row, b.dims, b.profile,
                   [enc_row["record_id"], dec_row["record_id"], tok_row["record_id"]], counts)
    yield from published(df, {
        **{f"parameters/{k}": v for k, v in counts.items()}, "image_tokens": b.dims.image_tokens,
        "decoder": summary["decoder"], "checkpoint_uri": ref.uri, "checkpoint_sha256": ref.sha256,
        **budget_meta(b), "config": dg.MetadataValue.json(summary["config"]), **launch_record(summary),
    })


# --------------------------------------------------------------------------- stages


def _train_stage(context, gpu: GPUResource, media: MediaStore, name: str, parent: dict, kinds: set[str],
                 lrs: dict[str, float], steps: int, batch: int, frozen: set[str], digit_scenes: pl.DataFrame,
                 dialogues: pl.DataFrame, repeat: dict[str, int] | None = None):
    """Run one stage as a device job; (summary, stored checkpoint)."""
    payload = {"job": "stage", "name": name, "model": model_files(parent, media.local_path), "kinds": sorted(kinds),
               "lrs": lrs, "steps": steps, "batch": batch, "frozen": sorted(frozen),
               "repeat": repeat or {}}
    with device_job(context, gpu, run_job, payload, {"scenes": digit_scenes, "dialogues": dialogues}) as (
            summary, out):
        if summary["frozen_sha256_before"] != summary["frozen_sha256_after"]:
            raise dg.Failure(f"{name} changed frozen {'/'.join(sorted(frozen))} weights")
        ref = media.put_file(out / MODEL, ".safetensors")
    return summary, ref


def _stage_figures(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k in ("steps", "batch_size", "loss_curve", "final_loss", "seconds",
                                                         "trainable_params")}


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description="Stage 1 (pre-training / alignment): the projector alone is trained on image-caption "
                "pairs; vision encoder and decoder frozen (their bytes are hashed before and after). "
                "Parent: the base model.",
)
def mllm_stage1(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource, media: MediaStore,
                digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame, mllm_base_model: pl.DataFrame):
    b = budget_for(config.profile)
    base = mllm_base_model.row(0, named=True)
    stats, ref = _train_stage(context, gpu, media, "stage 1", base, {"caption"}, {"projector": b.stage1_lr},
                              b.stage1_steps, b.stage1_batch, {"vision", "language"}, digit_scenes,
                              digit_scene_dialogues)
    df = model_row("stage1", ref.uri, ref.sha256, ref.size, base, dims_of(base), b.profile, [base["record_id"]],
                   _stage_figures(stats))
    yield from published(df, {
        "steps": b.stage1_steps, "batch_size": b.stage1_batch, "lr/projector": b.stage1_lr,
        "trainable_params": stats["trainable_params"], "final_loss": stats["final_loss"],
        "seconds": stats["seconds"], "train_conversations": stats["train_conversations"],
        "trained_on": "digit_scene_dialogues (train split, captions)",
        "frozen_sha256_before": stats["frozen_sha256_before"], "frozen_sha256_after": stats["frozen_sha256_after"],
        "frozen_unchanged": stats["frozen_sha256_before"] == stats["frozen_sha256_after"],
        "checkpoint_uri": ref.uri, "checkpoint_sha256": ref.sha256, **budget_meta(b),
        "loss_curve": png_markdown(loss_figure({"stage 1": stats["loss_curve"]}, "stage 1 loss (captions)"),
                                   "stage 1 loss (captions)"),
        **launch_record(stats),
    })


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description="Stage 2 (instruction tuning): projector and decoder trained on every conversation "
                "(captions, counting, existence, grounding, region, reading, multi-turn), labels only on "
                "the answers, question types weighted by the profile's `stage2_repeat`; the vision "
                "encoder joins at a lower lr when the profile sets one. Parent: the "
                "stage-1 model.",
)
def mllm_stage2(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource, media: MediaStore,
                digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame, mllm_stage1: pl.DataFrame):
    b = budget_for(config.profile)
    s1 = mllm_stage1.row(0, named=True)
    lrs = {"projector": b.stage2_lr, "language": b.stage2_lr}
    if b.stage2_vision_lr > 0:
        lrs["vision"] = b.stage2_vision_lr
    frozen = set() if "vision" in lrs else {"vision"}
    stats, ref = _train_stage(context, gpu, media, "stage 2", s1, {"caption", "qa", "dialogue"}, lrs,
                              b.stage2_steps, b.stage2_batch, frozen, digit_scenes, digit_scene_dialogues,
                              b.stage2_repeat)
    df = model_row("stage2", ref.uri, ref.sha256, ref.size, s1, dims_of(s1), b.profile, [s1["record_id"]],
                   _stage_figures(stats))
    yield from published(df, {
        "steps": b.stage2_steps, "batch_size": b.stage2_batch, **{f"lr/{k}": v for k, v in lrs.items()},
        "trainable_params": stats["trainable_params"], "final_loss": stats["final_loss"],
        "seconds": stats["seconds"], "train_conversations": stats["train_conversations"],
        "trained_on": "digit_scene_dialogues (train split)", "repeat": dg.MetadataValue.json(b.stage2_repeat),
        "checkpoint_uri": ref.uri,
        "checkpoint_sha256": ref.sha256, **budget_meta(b),
        "loss_curve": png_markdown(loss_figure({"stage 2": stats["loss_curve"]}, "stage 2 loss (instructions)"),
                                   "stage 2 loss (instructions)"),
        **launch_record(stats),
    })


EVAL_METRICS = ("caption_accuracy", "caption_claim_f1", "qa_accuracy", "count_accuracy", "exist_accuracy", "what_at_accuracy",
                "read_accuracy", "bbox_iou", "bbox_acc50", "dialogue_turn_accuracy", "dialogue_all_correct",
                "text_only_qa_accuracy", "text_only_caption_accuracy", "image_only_caption_accuracy")


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description="Held-out evaluation of the assembled model, stage 1 and stage 2: caption accuracy, QA "
                "accuracy (count, existence, region, reading), bbox IoU, multi-turn dialogue accuracy, and the "
                "other modalities: the questions with the scene as text and no image, the image with no "
                "question (metadata `<stage>/text_only_*`, `<stage>/image_only_*`). Every figure has a 95% "
                "interval from resampling whole test scenes (`intervals`). One row "
                "per (stage, conversation, turn) with the prediction and its score; parent = the test "
                "conversation, `models` = the evaluated checkpoint.",
)
def mllm_eval(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource, media: MediaStore,
              digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame, mllm_base_model: pl.DataFrame,
              mllm_stage1: pl.DataFrame, mllm_stage2: pl.DataFrame):
    b = budget_for(config.profile)
    test_df = digit_scenes.filter(pl.col("split") == "test").head(b.eval_scenes)
    rows_of = {stage: frame.row(0, named=True) for stage, frame in (
        ("base", mllm_base_model), ("stage1", mllm_stage1), ("stage2", mllm_stage2))}
    payload = {"job": "evaluate", "models": {s: model_files(r, media.local_path) for s, r in rows_of.items()}}
    with device_job(context, gpu, run_job, payload, {"scenes": test_df, "dialogues": digit_scene_dialogues}) as (
            result, out):
        rows = json.loads((out / ROWS).read_text())
    summary = result["scores"]
    df = pl.concat([evaluation_frame("mllm_eval", rows[stage], ("stage", stage), ["stage", "conversation_id", "turn"],
                                     "conversation_id", row) for stage, row in rows_of.items()], how="diagonal_relaxed")
    table = pl.DataFrame([{"metric": m, **{s: formatted(summary[s].get(m, float("nan")), result["intervals"][s].get(m))
                                           for s in summary}} for m in EVAL_METRICS])
    caps = df.filter((pl.col("stage") == "stage2") & (pl.col("kind") == "caption")).head(8)
    pngs = dict(zip(test_df["record_id"], test_df["image_png"], strict=True))
    yield from published(df, {
        "dagster/row_count": df.height, "eval_scenes": test_df.height,
        **{f"{s}/{m}": float(v) for s in summary for m, v in summary[s].items()},
        "intervals": dg.MetadataValue.json(result["intervals"]),
        "evaluated_models": dg.MetadataValue.json({s: r["record_id"] for s, r in rows_of.items()}), **budget_meta(b),
        "metrics": dg.MetadataValue.md(markdown_table(table, 20)),
        "sample_captions": png_markdown(scene_grid_figure([pngs[s] for s in caps["scene_id"]],
                                                          [f"pred: {p}" for p in caps["prediction"]],
                                                          "stage 2 captions (held-out)"), "stage 2 captions"),
        "errors_stage2": preview(df.filter((pl.col("stage") == "stage2") & (pl.col("score") < 1)),
                                 ["qtype", "question", "truth", "prediction", "score"]),
        **launch_record(result),
    })
