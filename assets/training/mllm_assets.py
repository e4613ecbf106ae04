"""LLaVA-style two-stage MLLM training as assets (RECIPES section 6).

digit_scenes -> digit_scene_dialogues (scene_assets.py) -> mllm_tokenizer -> mllm_vision_encoder,
mllm_text_decoder -> mllm_base_model -> mllm_stage1 -> mllm_stage2 -> mllm_eval

Thin wrappers: the world is `digit_scenes.py`, the parts `mllm_components.py`, the stages
`mllm_training.py`, the metrics `mllm_metrics.py`, checkpoint rows `checkpoints.py`. Checkpoints
are safetensors files in the media store, referenced by `checkpoint_uri` + `checkpoint_sha256`; a
model's record is `<component>:<checkpoint sha256>` and names the artifacts it starts from as
parents. Budgets are optimizer steps chosen by the training profile (config `profile`, else
MMFOUNDRY_TRAINING_PROFILE): a run setting, recorded in every output's metadata (`profile`,
`budget`), not part of the code version.
"""

import hashlib
import json
import os
import time

import dagster as dg
import polars as pl
from pydantic import Field

from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec
from assets.kit.identity import record_id
from assets.kit.metadata import markdown_table, png_markdown, preview
from assets.kit.provenance import declare
from assets.training import digit_scenes as ds
from assets.training.checkpoints import (
    dims_of,
    evaluation_frame,
    load_model_row,
    model_row,
    pretrained_source,
    put_checkpoint,
    scene_pixels,
)
from assets.training.mllm_config import MllmBudget, budget_for
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


def _frozen_digest(model, parts: set[str]) -> str:
    """sha256 over the bytes of every parameter in `parts` (proof that frozen weights did not move)."""
    from assets.training.mllm_components import part_of

    h = hashlib.sha256()
    for name, p in sorted(model.state_dict().items()):
        if part_of(name) in parts:
            h.update(name.encode())
            h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _autocast(gpu: GPUResource):
    import torch

    dtype = gpu.torch_dtype()
    return dtype if dtype != torch.float32 and gpu.torch_device().type == "cuda" else None


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
    from assets.training import mllm_components as mc

    b = budget_for(config.profile)
    gpu.setup()
    device = gpu.torch_device()
    pool = ds.load_digit_pool(gpu.seed)
    images = ds.digit_images()
    sampler = mc.SceneSampler(pool["train"], images, b.dims.patch_size, gpu.seed)
    held_out = mc.scenes_to_tensors(scenes_from_frame(digit_scenes, "test"), images, b.dims.patch_size)
    enc, metrics = mc.pretrain_vision_encoder(sampler, b.dims, b.encoder_steps, b.encoder_batch, b.encoder_lr,
                                              gpu.seed, device, eval_set=held_out)
    uri, sha, size = put_checkpoint(media, enc, {"metrics": metrics})
    df = model_row("vision_encoder", uri, sha, size, None, b.dims, b.profile, [], metrics)
    yield from published(df, {
        "parameters": sum(p.numel() for p in enc.parameters()), **{k: float(v) for k, v in metrics.items()},
        "trained_on": "random scenes of the train digits; evaluated on digit_scenes (test split)",
        "checkpoint_uri": uri, "checkpoint_sha256": sha, **budget_meta(b), **gpu.describe(),
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
    from assets.training import mllm_components as mc

    b = budget_for(config.profile)
    gpu.setup()
    tok_row = mllm_tokenizer.row(0, named=True)
    tok = mc.wrap_tokenizer(media.local_path(tok_row["tokenizer_uri"]).read_text())
    scenes = {s.scene_id: s for s in scenes_from_frame(digit_scenes)}
    texts = mc.decoder_corpus(conversations_from_frame(digit_scene_dialogues, "train"), scenes)
    held_out = mc.decoder_corpus(conversations_from_frame(digit_scene_dialogues, "test"), scenes)[:500]
    lm, metrics = mc.pretrain_text_decoder(tok, texts, b.dims, b.decoder_steps, b.decoder_batch, b.decoder_lr,
                                           gpu.seed, gpu.torch_device(), eval_texts=held_out)
    uri, sha, size = put_checkpoint(media, lm, {"metrics": metrics})
    df = model_row("text_decoder", uri, sha, size, tok_row, b.dims, b.profile, [tok_row["record_id"]], metrics)
    yield from published(df, {
        "architecture": type(lm).__name__, "parameters": sum(p.numel() for p in lm.parameters()),
        **{k: float(v) for k, v in metrics.items()}, "trained_on": "digit_scene_dialogues (train split)",
        "checkpoint_uri": uri, "checkpoint_sha256": sha, **budget_meta(b), **gpu.describe(),
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
    from assets.training import mllm_components as mc

    b = budget_for(config.profile)
    gpu.setup()
    if config.pretrained_path:
        model, processor = mc.load_pretrained_llava(config.pretrained_path)
        counts = mc.parameter_counts(model)
        source = pretrained_source(config.pretrained_path)
        df = model_row("base_model", None, None, None, {"pretrained_path": config.pretrained_path}, None,
                       b.profile, [source], counts, rid=record_id("base_model", source))
        yield from published(df, {"pretrained_path": config.pretrained_path, **counts, **budget_meta(b)})
        return
    tok_row = mllm_tokenizer.row(0, named=True)
    tok = mc.wrap_tokenizer(media.local_path(tok_row["tokenizer_uri"]).read_text())
    enc_row, dec_row = mllm_vision_encoder.row(0, named=True), mllm_text_decoder.row(0, named=True)
    enc = mc.load_checkpoint(str(media.local_path(enc_row["checkpoint_uri"])))
    dec = mc.load_checkpoint(str(media.local_path(dec_row["checkpoint_uri"])))
    model = mc.assemble_llava(enc, dec, tok, b.dims, seed=gpu.seed)
    counts = mc.parameter_counts(model)
    uri, sha, size = put_checkpoint(media, model, {"dims": b.dims.as_dict()})
    df = model_row("base_model", uri, sha, size, tok_row, b.dims, b.profile,
                   [enc_row["record_id"], dec_row["record_id"], tok_row["record_id"]], counts)
    yield from published(df, {
        **{f"parameters/{k}": v for k, v in counts.items()}, "image_tokens": b.dims.image_tokens,
        "decoder": type(dec).__name__, "checkpoint_uri": uri, "checkpoint_sha256": sha, **budget_meta(b),
        "config": dg.MetadataValue.json(json.loads(model.config.to_json_string())),
    })


# --------------------------------------------------------------------------- stages


def _stage_data(digit_scenes: pl.DataFrame, dialogues: pl.DataFrame, tokenizer, n_image_tokens: int,
                kinds: set[str]):
    from assets.training.mllm_training import encode_set

    train = digit_scenes.filter(pl.col("split") == "train")
    index = {sid: i for i, sid in enumerate(train["record_id"].to_list())}
    convs = [c for c in conversations_from_frame(dialogues, "train") if c.kind in kinds]
    data = encode_set(tokenizer, [[(t.question, t.answer) for t in c.turns] for c in convs],
                      [index[c.scene_id] for c in convs], n_image_tokens)
    return train, data


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description="Stage 1 (pre-training / alignment): the projector alone is trained on image-caption "
                "pairs; vision encoder and decoder frozen (their bytes are hashed before and after). "
                "Parent: the base model.",
)
def mllm_stage1(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource, media: MediaStore,
                digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame, mllm_base_model: pl.DataFrame):
    from assets.training.mllm_training import train_llava

    b = budget_for(config.profile)
    gpu.setup()
    device = gpu.torch_device()
    base = mllm_base_model.row(0, named=True)
    model, tok, processor, n_img = load_model_row(media, base, device)
    train, data = _stage_data(digit_scenes, digit_scene_dialogues, tok, n_img, {"caption"})
    pixels = scene_pixels(processor, train)
    before = _frozen_digest(model, {"vision", "language"})
    stats = train_llava(model, data, pixels, {"projector": b.stage1_lr}, b.stage1_steps, b.stage1_batch,
                        gpu.seed, tok.pad_token_id, device, _autocast(gpu))
    after = _frozen_digest(model, {"vision", "language"})
    if before != after:
        raise dg.Failure("stage 1 changed frozen vision/language weights")
    uri, sha, size = put_checkpoint(media, model, {"dims": json.loads(base["dims"]) if base["dims"] else None})
    df = model_row("stage1", uri, sha, size, base, dims_of(base), b.profile, [base["record_id"]],
                   {k: v for k, v in stats.items() if k != "lrs"})
    yield from published(df, {
        "steps": b.stage1_steps, "batch_size": b.stage1_batch, "lr/projector": b.stage1_lr,
        "trainable_params": stats["trainable_params"], "final_loss": stats["final_loss"],
        "seconds": stats["seconds"], "train_conversations": len(data),
        "trained_on": "digit_scene_dialogues (train split, captions)", "frozen_sha256_before": before,
        "frozen_sha256_after": after, "frozen_unchanged": before == after, "checkpoint_uri": uri,
        "checkpoint_sha256": sha, **budget_meta(b),
        "loss_curve": png_markdown(loss_figure({"stage 1": stats["loss_curve"]}, "stage 1 loss (captions)"),
                                   "stage 1 loss (captions)"),
        **gpu.describe(),
    })


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description="Stage 2 (instruction tuning): projector and decoder trained on every conversation "
                "(captions, counting, existence, grounding, region, reading, multi-turn), labels only on "
                "the answers; the vision encoder joins at a lower lr when the profile sets one. Parent: the "
                "stage-1 model.",
)
def mllm_stage2(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource, media: MediaStore,
                digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame, mllm_stage1: pl.DataFrame):
    from assets.training.mllm_training import train_llava

    b = budget_for(config.profile)
    gpu.setup()
    device = gpu.torch_device()
    s1 = mllm_stage1.row(0, named=True)
    model, tok, processor, n_img = load_model_row(media, s1, device)
    train, data = _stage_data(digit_scenes, digit_scene_dialogues, tok, n_img, {"caption", "qa", "dialogue"})
    pixels = scene_pixels(processor, train)
    lrs = {"projector": b.stage2_lr, "language": b.stage2_lr}
    if b.stage2_vision_lr > 0:
        lrs["vision"] = b.stage2_vision_lr
    stats = train_llava(model, data, pixels, lrs, b.stage2_steps, b.stage2_batch, gpu.seed, tok.pad_token_id,
                        device, _autocast(gpu))
    uri, sha, size = put_checkpoint(media, model, {"dims": json.loads(s1["dims"]) if s1["dims"] else None})
    df = model_row("stage2", uri, sha, size, s1, dims_of(s1), b.profile, [s1["record_id"]],
                   {k: v for k, v in stats.items() if k != "lrs"})
    yield from published(df, {
        "steps": b.stage2_steps, "batch_size": b.stage2_batch, **{f"lr/{k}": v for k, v in lrs.items()},
        "trainable_params": stats["trainable_params"], "final_loss": stats["final_loss"],
        "seconds": stats["seconds"], "train_conversations": len(data),
        "trained_on": "digit_scene_dialogues (train split)", "checkpoint_uri": uri, "checkpoint_sha256": sha,
        **budget_meta(b),
        "loss_curve": png_markdown(loss_figure({"stage 2": stats["loss_curve"]}, "stage 2 loss (instructions)"),
                                   "stage 2 loss (instructions)"),
        **gpu.describe(),
    })


EVAL_METRICS = ("caption_accuracy", "qa_accuracy", "count_accuracy", "exist_accuracy", "what_at_accuracy",
                "read_accuracy", "bbox_iou", "bbox_acc50", "dialogue_turn_accuracy", "dialogue_all_correct")


@kit_asset(
    group="training", kinds={"pytorch"}, pool=GPU_POOL, op_tags=GPU_OP_TAGS, check_specs=(provenance_spec,),
    description="Held-out evaluation of the assembled model, stage 1 and stage 2: caption accuracy, QA "
                "accuracy (count, existence, region, reading), bbox IoU, multi-turn dialogue accuracy. One row "
                "per (stage, conversation, turn) with the prediction and its score; parent = the test "
                "conversation, `models` = the evaluated checkpoint.",
)
def mllm_eval(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource, media: MediaStore,
              digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame, mllm_base_model: pl.DataFrame,
              mllm_stage1: pl.DataFrame, mllm_stage2: pl.DataFrame):
    from assets.training.mllm_metrics import evaluate

    b = budget_for(config.profile)
    gpu.setup()
    device = gpu.torch_device()
    test_df = digit_scenes.filter(pl.col("split") == "test").head(b.eval_scenes)
    scenes = scenes_from_frame(test_df)
    keep = set(test_df["record_id"].to_list())
    convs = [c for c in conversations_from_frame(digit_scene_dialogues, "test") if c.scene_id in keep]
    frames, summary, evaluated = [], {}, {}
    for stage, frame in (("base", mllm_base_model), ("stage1", mllm_stage1), ("stage2", mllm_stage2)):
        start = time.perf_counter()
        row = frame.row(0, named=True)
        model, tok, processor, n_img = load_model_row(media, row, device)
        pixels = scene_pixels(processor, test_df)
        summary[stage], rows = evaluate(model, tok, pixels, scenes, convs, n_img, device)
        summary[stage]["eval_seconds"] = time.perf_counter() - start
        frames.append(evaluation_frame("mllm_eval", rows, ("stage", stage), ["stage", "conversation_id", "turn"],
                                       "conversation_id", row))
        evaluated[stage] = row["record_id"]
    df = pl.concat(frames, how="diagonal_relaxed")
    table = pl.DataFrame([{"metric": m, **{s: round(summary[s].get(m, float("nan")), 3) for s in summary}}
                          for m in EVAL_METRICS])
    caps = df.filter((pl.col("stage") == "stage2") & (pl.col("kind") == "caption")).head(8)
    pngs = dict(zip(test_df["record_id"], test_df["image_png"], strict=True))
    yield from published(df, {
        "dagster/row_count": df.height, "eval_scenes": len(scenes),
        **{f"{s}/{m}": float(v) for s in summary for m, v in summary[s].items()},
        "evaluated_models": dg.MetadataValue.json(evaluated), **budget_meta(b),
        "metrics": dg.MetadataValue.md(markdown_table(table, 20)),
        "sample_captions": png_markdown(scene_grid_figure([pngs[s] for s in caps["scene_id"]],
                                                          [f"pred: {p}" for p in caps["prediction"]],
                                                          "stage 2 captions (held-out)"), "stage 2 captions"),
        "errors_stage2": preview(df.filter((pl.col("stage") == "stage2") & (pl.col("score") < 1)),
                                 ["qtype", "question", "truth", "prediction", "score"]),
    })
