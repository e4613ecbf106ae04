"""LLaVA-style two-stage MLLM training as assets (RECIPES section 6).

digit_scenes -> digit_scene_dialogues -> mllm_tokenizer -> mllm_vision_encoder, mllm_text_decoder
-> mllm_base_model -> mllm_stage1 -> mllm_stage2 -> mllm_eval

Thin wrappers: the world is `digit_scenes.py`, the parts `mllm_components.py`, the stages
`mllm_training.py`, the metrics `mllm_metrics.py`. Scene images are small PNGs (72x72, ~0.3 kB)
kept inline in the `image_png` column with their sha256; checkpoints are safetensors files in the
media store, referenced by `checkpoint_uri` + `checkpoint_sha256`. Budgets are optimizer steps
chosen by the training profile (config `profile`, else MMFOUNDRY_TRAINING_PROFILE).
"""

import hashlib
import json
import os
import tempfile
import time

import dagster as dg
import polars as pl
from pydantic import Field

from assets.kit.metadata import markdown_table, png_markdown, preview
from assets.training import digit_scenes as ds
from assets.training.mllm_config import MllmBudget, budget
from assets.training.profiles import training_profile
from resources.gpu import GPUResource
from resources.storage import MediaStore

GROUP = "training"
OWNERS = ["team:ml"]
GPU_OP_TAGS = {"dagster-k8s/config": {"container_config": {"resources": {"limits": {"nvidia.com/gpu": 1}}}}}


class MllmConfig(dg.Config):
    profile: str = Field(default="", description="fast | default | large; empty: MMFOUNDRY_TRAINING_PROFILE.")


class BaseModelConfig(MllmConfig):
    pretrained_path: str = Field(
        default_factory=lambda: os.environ.get("MMFOUNDRY_MLLM_CHECKPOINT", ""),
        description="A local folder with a LLaVA-style checkpoint (e.g. llava-1.5-7b-hf) used instead of "
                    "assembling the tiny model; never a hub id. Default: MMFOUNDRY_MLLM_CHECKPOINT.",
    )


def resolve_budget(config: MllmConfig) -> MllmBudget:
    return budget(training_profile(config.profile or None))


def training_asset(**kwargs):
    """A GPU training step: one GPU per pod on k8s, the `gpu` pool, torch kind."""
    return dg.asset(group_name=GROUP, owners=OWNERS, kinds=kwargs.pop("kinds", {"pytorch"}), pool="gpu",
                    op_tags=GPU_OP_TAGS, **kwargs)


# --------------------------------------------------------------------------- frames <-> objects


def scenes_from_frame(df: pl.DataFrame, split: str | None = None) -> list[ds.Scene]:
    rows = df if split is None else df.filter(pl.col("split") == split)
    out = []
    for r in rows.iter_rows(named=True):
        digits = tuple(ds.Placed(d, c, x, y, i) for d, c, x, y, i in
                       zip(r["digits"], r["cells"], r["xs"], r["ys"], r["source_indices"], strict=True))
        out.append(ds.Scene(r["record_id"], r["split"], digits))
    return out


def conversations_from_frame(df: pl.DataFrame, split: str | None = None) -> list[ds.Conversation]:
    rows = df if split is None else df.filter(pl.col("split") == split)
    return [ds.Conversation(r["record_id"], r["scene_id"], r["kind"],
                            [ds.Turn(t["qtype"], t["question"], t["answer"], t["target"], t["noise"])
                             for t in r["turns"]])
            for r in rows.iter_rows(named=True)]


def put_checkpoint(media: MediaStore, model, extra: dict) -> tuple[str, str, int]:
    from assets.training.mllm_components import save_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.safetensors")
        save_checkpoint(model, path, extra)
        ref = media.put_file(path, ".safetensors")
    return ref.uri, ref.sha256, ref.size


def load_model_row(media: MediaStore, row: dict, device="cpu"):
    """(model, tokenizer, processor, image tokens) of a frame row written by a model asset."""
    from assets.training import mllm_components as mc

    if row.get("pretrained_path"):  # production: processor from the local checkpoint folder
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(row["pretrained_path"], local_files_only=True)
        if row.get("checkpoint_uri"):
            model = mc.load_checkpoint(str(media.local_path(row["checkpoint_uri"])), device)
        else:
            model, _ = mc.load_pretrained_llava(row["pretrained_path"], device)
        return model, processor.tokenizer, processor, count_image_tokens(processor)
    model = mc.load_checkpoint(str(media.local_path(row["checkpoint_uri"])), device)
    tokenizer = mc.wrap_tokenizer(media.local_path(row["tokenizer_uri"]).read_text())
    dims = mc.ModelDims(**json.loads(row["dims"]))
    return model, tokenizer, mc.build_processor(tokenizer, dims), dims.image_tokens


def count_image_tokens(processor) -> int:
    from PIL import Image

    image_token = getattr(processor, "image_token", "<image>")
    out = processor(images=[Image.new("RGB", (64, 64))], text=[image_token], return_tensors="pt")
    token_id = processor.tokenizer.convert_tokens_to_ids(image_token)
    return int((out["input_ids"] == token_id).sum())


def scene_pixels(processor, df: pl.DataFrame, split: str | None = None):
    from assets.training.mllm_components import pixel_values

    rows = df if split is None else df.filter(pl.col("split") == split)
    return pixel_values(processor, rows["image_png"].to_list())


def model_row(kind: str, uri: str, sha: str, size: int, parent_row: dict | None, dims, b: MllmBudget,
              parents: list[str], **extra) -> pl.DataFrame:
    """One-row frame of a model asset; tokenizer and production checkpoint folder carry over from
    the parent row (the tokenizer asset or the model it was trained from)."""
    parent_row = parent_row or {}
    return pl.DataFrame([{
        "record_id": f"{kind}:{sha[:16]}", "component": kind, "checkpoint_uri": uri, "checkpoint_sha256": sha,
        "checkpoint_bytes": size, "tokenizer_uri": parent_row.get("tokenizer_uri"),
        "dims": json.dumps(dims.as_dict()) if dims is not None else None, "profile": b.profile,
        "parent_ids": parents, "pretrained_path": parent_row.get("pretrained_path"),
        "metrics": json.dumps(extra, default=float),
    }], schema_overrides={"tokenizer_uri": pl.String, "dims": pl.String, "pretrained_path": pl.String})


def loss_chart(curves: dict[str, list], title: str) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6))
    for name, curve in curves.items():
        if curve:
            ax.plot([c[0] for c in curve], [c[1] for c in curve], label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return png_markdown(fig, title)


def scene_grid(pngs: list[bytes], titles: list[str], title: str, cols: int = 4) -> dg.MetadataValue:
    import io
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    rows = max(1, (len(pngs) + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 3.3 * rows))
    for ax in getattr(axes, "flat", [axes]):
        ax.axis("off")
    for ax, png, t in zip(getattr(axes, "flat", [axes]), pngs, titles, strict=False):
        ax.imshow(Image.open(io.BytesIO(png)), cmap="gray", interpolation="nearest")
        ax.set_title("\n".join(textwrap.wrap(t, 34)), fontsize=7)
    fig.suptitle(title)
    return png_markdown(fig, title)


# --------------------------------------------------------------------------- the world


@dg.asset(
    group_name=GROUP, owners=OWNERS, kinds={"polars", "scikit-learn"}, code_version="1",
    description=(
        "Digit scenes: 1 to 3 of scikit-learn's 8x8 handwritten digits placed in a 3x3 grid on a 36x36 "
        "canvas (random offset inside each cell), with captions, bounding boxes and reading order. Splits "
        "train (SFT), pref (preference data) and test use disjoint parts of the sklearn digits. Balanced digit counts and classes, duplicate "
        "layouts removed. Images are inline 2x PNGs (`image_png`, sha256 beside it)."
    ),
)
def digit_scenes(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource) -> pl.DataFrame:
    b = resolve_budget(config)
    pool = ds.load_digit_pool(gpu.seed)
    images = ds.digit_images()
    rows, dropped = [], {}
    for split, n in (("train", b.train_scenes), ("pref", b.pair_scenes), ("test", b.test_scenes)):
        scenes, dropped[split] = ds.generate_scenes(n, split, pool[split], gpu.seed)
        for s in scenes:
            png = ds.png_bytes(ds.render(s, images, b.render_scale))
            rows.append({
                "record_id": s.scene_id, "split": split, "n_digits": len(s.digits),
                "digits": [p.digit for p in s.digits], "cells": [p.cell for p in s.digits],
                "positions": [p.position for p in s.digits], "xs": [p.x for p in s.digits],
                "ys": [p.y for p in s.digits], "bboxes": [list(p.bbox) for p in s.digits],
                "source_indices": [p.source_index for p in s.digits],
                "parent_ids": [f"sklearn_digits:{p.source_index}" for p in s.digits],
                "caption": ds.caption(s), "reading": ds.read_answer(s), "grid": ds.grid_text(s),
                "image_png": png, "image_sha256": hashlib.sha256(png).hexdigest(),
                "seed": gpu.seed, "profile": b.profile,
            })
    df = pl.DataFrame(rows)
    train = df.filter(pl.col("split") == "train")
    classes = train.select(pl.col("digits").explode()).to_series().value_counts().sort("digits")
    sample = train.head(8)
    context.add_output_metadata({
        "dagster/row_count": df.height,
        "scenes_by_split": dg.MetadataValue.json({s: int(n) for s, n in df.group_by("split").len().iter_rows()}),
        "digits_per_scene": dg.MetadataValue.json(
            {str(k): int(v) for k, v in train.group_by("n_digits").len().sort("n_digits").iter_rows()}),
        "digit_class_counts": dg.MetadataValue.json({str(k): int(v) for k, v in classes.iter_rows()}),
        "duplicate_layouts_dropped": sum(dropped.values()),
        "profile": b.profile,
        "preview": preview(df, ["record_id", "split", "caption", "reading", "grid", "bboxes"]),
        "sample_grid": scene_grid(sample["image_png"].to_list(), sample["caption"].to_list(), "digit scenes"),
    })
    return df


@dg.asset(
    group_name=GROUP, owners=OWNERS, kinds={"polars"}, code_version="1",
    description=(
        "Conversations about each digit scene: a caption, counting, existence (half yes, half no), "
        "grounding (where is the 7 -> [x0, y0, x1, y1] in pixels of the 36x36 model input), region (what is at the center -> a digit "
        "or nothing, half empty cells), OCR (read the digits left to right), and a multi-turn dialogue of "
        "2-3 of those. Question wording drawn from paraphrases. Captions are as collected: at the profile's "
        "`caption_noise` rate a captioner bias adds a co-occurring digit that is not there (1 with 7, 8 with 3); "
        "`caption_faithful` and each turn's `noise` mark them. One row per conversation, parent scene_id."
    ),
)
def digit_scene_dialogues(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource,
                          digit_scenes: pl.DataFrame) -> pl.DataFrame:
    b = resolve_budget(config)
    rows = []
    for scene in scenes_from_frame(digit_scenes):
        for c in ds.conversations(scene, gpu.seed, dialogues=b.dialogues_per_scene, caption_noise=b.caption_noise):
            rows.append({
                "record_id": c.record_id, "scene_id": c.scene_id, "split": scene.split, "kind": c.kind,
                "n_turns": len(c.turns), "qtypes": [t.qtype for t in c.turns],
                "turns": [{"qtype": t.qtype, "question": t.question, "answer": t.answer, "target": t.target,
                           "noise": t.noise} for t in c.turns],
                "caption_faithful": not any(t.noise for t in c.turns),
                "text": " | ".join(f"Q: {t.question} A: {t.answer}" for t in c.turns),
                "parent_ids": [c.scene_id],
            })
    df = pl.DataFrame(rows)
    single = df.filter(pl.col("kind") != "dialogue").with_columns(pl.col("qtypes").list.first().alias("qtype"))
    exist = df.filter(pl.col("kind") == "qa").explode("turns").unnest("turns").filter(pl.col("qtype") == "exist")
    captions = df.filter(pl.col("kind") == "caption")
    context.add_output_metadata({
        "caption_noise_rate": b.caption_noise,
        "captions_with_invented_digit": int((~captions["caption_faithful"]).sum()),
        "captions_total": captions.height,
        "dagster/row_count": df.height,
        "by_kind": dg.MetadataValue.json({k: int(n) for k, n in df.group_by("kind").len().iter_rows()}),
        "single_turn_by_type": dg.MetadataValue.json(
            {k: int(n) for k, n in single.group_by("qtype").len().sort("qtype").iter_rows()}),
        "existence_answers": dg.MetadataValue.json(
            {k: int(n) for k, n in exist.group_by("answer").len().iter_rows()}),
        "preview": preview(df.filter(pl.col("kind") == "dialogue"), ["record_id", "kind", "text"]),
    })
    return df


# --------------------------------------------------------------------------- components


@dg.asset(
    group_name=GROUP, owners=OWNERS, kinds={"tokenizers"}, code_version="1",
    description="A BPE tokenizer trained offline on the train dialogues (`tokenizers`, wrapped in "
                "PreTrainedTokenizerFast); digits are single tokens; <image>, <s>, </s>, <pad> are special.",
)
def mllm_tokenizer(context: dg.AssetExecutionContext, config: MllmConfig, media: MediaStore,
                   digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame) -> pl.DataFrame:
    from assets.training import mllm_components as mc

    b = resolve_budget(config)
    scenes = {s.scene_id: s for s in scenes_from_frame(digit_scenes, "train")}
    texts = mc.decoder_corpus(conversations_from_frame(digit_scene_dialogues, "train"), scenes)
    tok = mc.train_tokenizer(texts, b.dims.vocab_size)
    ref = media.put_bytes(mc.tokenizer_json(tok).encode(), ".json")
    example = texts[0]
    context.add_output_metadata({
        "vocab_size": len(tok), "trained_on_texts": len(texts), "tokenizer_uri": ref.uri,
        "example": dg.MetadataValue.md(f"`{example}`\n\n" + " ".join(f"`{t}`" for t in tok.tokenize(example))),
    })
    return pl.DataFrame([{"record_id": f"tokenizer:{ref.sha256[:16]}", "tokenizer_uri": ref.uri,
                          "tokenizer_sha256": ref.sha256, "vocab_size": len(tok), "profile": b.profile,
                          "parent_ids": ["digit_scene_dialogues:train"]}])


@training_asset(
    code_version="1",
    description="A CLIP vision encoder pretrained on its own for digit recognition: every 12x12 patch of "
                "fresh random train-digit scenes predicts the digit covering it (or background) and the "
                "tile's offset. Held-out patch accuracy on test scenes in the metadata.",
)
def mllm_vision_encoder(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource,
                        media: MediaStore, digit_scenes: pl.DataFrame) -> pl.DataFrame:
    from assets.training import mllm_components as mc

    b = resolve_budget(config)
    gpu.setup()
    device = gpu.torch_device()
    pool = ds.load_digit_pool(gpu.seed)
    images = ds.digit_images()
    sampler = mc.SceneSampler(pool["train"], images, b.dims.patch_size, gpu.seed)
    held_out = mc.scenes_to_tensors(scenes_from_frame(digit_scenes, "test"), images, b.dims.patch_size)
    enc, metrics = mc.pretrain_vision_encoder(sampler, b.dims, b.encoder_steps, b.encoder_batch, b.encoder_lr,
                                              gpu.seed, device, eval_set=held_out)
    uri, sha, size = put_checkpoint(media, enc, {"metrics": metrics})
    context.add_output_metadata({
        "parameters": sum(p.numel() for p in enc.parameters()), **{k: float(v) for k, v in metrics.items()},
        "checkpoint_uri": uri, **gpu.describe(),
    })
    return model_row("vision_encoder", uri, sha, size, None, b.dims, b, ["digit_scenes:test"], **metrics)


@training_asset(
    code_version="1",
    description="A decoder-only language model pretrained on its own on the train dialogues' text, with "
                "each scene written as a 9-symbol layout transcript where the image will go (no pixels). "
                "Held-out perplexity on test dialogues in the metadata.",
)
def mllm_text_decoder(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource,
                      media: MediaStore, digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame,
                      mllm_tokenizer: pl.DataFrame) -> pl.DataFrame:
    from assets.training import mllm_components as mc

    b = resolve_budget(config)
    gpu.setup()
    tok_row = mllm_tokenizer.row(0, named=True)
    tok = mc.wrap_tokenizer(media.local_path(tok_row["tokenizer_uri"]).read_text())
    scenes = {s.scene_id: s for s in scenes_from_frame(digit_scenes)}
    texts = mc.decoder_corpus(conversations_from_frame(digit_scene_dialogues, "train"), scenes)
    held_out = mc.decoder_corpus(conversations_from_frame(digit_scene_dialogues, "test"), scenes)[:500]
    lm, metrics = mc.pretrain_text_decoder(tok, texts, b.dims, b.decoder_steps, b.decoder_batch, b.decoder_lr,
                                           gpu.seed, gpu.torch_device(), eval_texts=held_out)
    uri, sha, size = put_checkpoint(media, lm, {"metrics": metrics})
    context.add_output_metadata({
        "architecture": type(lm).__name__, "parameters": sum(p.numel() for p in lm.parameters()),
        **{k: float(v) for k, v in metrics.items()}, "checkpoint_uri": uri, **gpu.describe(),
    })
    return model_row("text_decoder", uri, sha, size, tok_row, b.dims, b, [tok_row["record_id"]], **metrics)


@training_asset(
    code_version="1",
    description="The tiny LlavaForConditionalGeneration assembled from LlavaConfig(vision_config, "
                "text_config, image_token_id): pretrained encoder and decoder weights copied in, a fresh "
                "2-layer GELU projector. With `pretrained_path` a local LLaVA-style checkpoint is used instead.",
)
def mllm_base_model(context: dg.AssetExecutionContext, config: BaseModelConfig, gpu: GPUResource,
                    media: MediaStore, mllm_tokenizer: pl.DataFrame, mllm_vision_encoder: pl.DataFrame,
                    mllm_text_decoder: pl.DataFrame) -> pl.DataFrame:
    from assets.training import mllm_components as mc

    b = resolve_budget(config)
    gpu.setup()
    if config.pretrained_path:
        model, processor = mc.load_pretrained_llava(config.pretrained_path)
        counts = mc.parameter_counts(model)
        context.add_output_metadata({"pretrained_path": config.pretrained_path, **counts})
        return pl.DataFrame([{
            "record_id": f"base_model:{hashlib.sha256(config.pretrained_path.encode()).hexdigest()[:16]}",
            "component": "base_model", "checkpoint_uri": None, "checkpoint_sha256": None, "checkpoint_bytes": None,
            "tokenizer_uri": None, "dims": None, "profile": b.profile, "parent_ids": [config.pretrained_path],
            "pretrained_path": config.pretrained_path, "metrics": json.dumps(counts),
        }])
    tok_row = mllm_tokenizer.row(0, named=True)
    tok = mc.wrap_tokenizer(media.local_path(tok_row["tokenizer_uri"]).read_text())
    enc_row, dec_row = mllm_vision_encoder.row(0, named=True), mllm_text_decoder.row(0, named=True)
    enc = mc.load_checkpoint(str(media.local_path(enc_row["checkpoint_uri"])))
    dec = mc.load_checkpoint(str(media.local_path(dec_row["checkpoint_uri"])))
    model = mc.assemble_llava(enc, dec, tok, b.dims, seed=gpu.seed)
    counts = mc.parameter_counts(model)
    uri, sha, size = put_checkpoint(media, model, {"dims": b.dims.as_dict()})
    context.add_output_metadata({
        **{f"parameters/{k}": v for k, v in counts.items()}, "image_tokens": b.dims.image_tokens,
        "decoder": type(dec).__name__, "checkpoint_uri": uri,
        "config": dg.MetadataValue.json(json.loads(model.config.to_json_string())),
    })
    return model_row("base_model", uri, sha, size, tok_row, b.dims, b,
                     [enc_row["record_id"], dec_row["record_id"], tok_row["record_id"]], **counts)


# --------------------------------------------------------------------------- stages


def _stage_data(b: MllmBudget, digit_scenes: pl.DataFrame, dialogues: pl.DataFrame, tokenizer, n_image_tokens: int,
                kinds: set[str]):
    from assets.training.mllm_training import encode_set

    train = digit_scenes.filter(pl.col("split") == "train")
    index = {sid: i for i, sid in enumerate(train["record_id"].to_list())}
    convs = [c for c in conversations_from_frame(dialogues, "train") if c.kind in kinds]
    data = encode_set(tokenizer, [[(t.question, t.answer) for t in c.turns] for c in convs],
                      [index[c.scene_id] for c in convs], n_image_tokens)
    return train, data


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


@training_asset(
    code_version="1",
    description="Stage 1 (pre-training / alignment): the projector alone is trained on image-caption "
                "pairs; vision encoder and decoder frozen (their bytes are hashed before and after).",
)
def mllm_stage1(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource, media: MediaStore,
                digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame,
                mllm_base_model: pl.DataFrame) -> pl.DataFrame:
    from assets.training.mllm_training import train_llava

    b = resolve_budget(config)
    gpu.setup()
    device = gpu.torch_device()
    base = mllm_base_model.row(0, named=True)
    model, tok, processor, n_img = load_model_row(media, base, device)
    train, data = _stage_data(b, digit_scenes, digit_scene_dialogues, tok, n_img, {"caption"})
    pixels = scene_pixels(processor, train)
    before = _frozen_digest(model, {"vision", "language"})
    stats = train_llava(model, data, pixels, {"projector": b.stage1_lr}, b.stage1_steps, b.stage1_batch,
                        gpu.seed, tok.pad_token_id, device, _autocast(gpu))
    after = _frozen_digest(model, {"vision", "language"})
    if before != after:
        raise dg.Failure("stage 1 changed frozen vision/language weights")
    uri, sha, size = put_checkpoint(media, model, {"dims": json.loads(base["dims"]) if base["dims"] else None})
    context.add_output_metadata({
        "steps": b.stage1_steps, "batch_size": b.stage1_batch, "lr/projector": b.stage1_lr,
        "trainable_params": stats["trainable_params"], "final_loss": stats["final_loss"],
        "seconds": stats["seconds"], "train_conversations": len(data), "frozen_sha256_before": before,
        "frozen_sha256_after": after, "frozen_unchanged": before == after, "checkpoint_uri": uri,
        "loss_curve": loss_chart({"stage 1": stats["loss_curve"]}, "stage 1 loss (captions)"), **gpu.describe(),
    })
    return model_row("stage1", uri, sha, size, base, dims_of(base), b, [base["record_id"]],
                     **{k: v for k, v in stats.items() if k != "lrs"})


def dims_of(row: dict):
    from assets.training.mllm_components import ModelDims

    return ModelDims(**json.loads(row["dims"])) if row.get("dims") else None


@training_asset(
    code_version="1",
    description="Stage 2 (instruction tuning): projector and decoder trained on every conversation "
                "(captions, counting, existence, grounding, region, reading, multi-turn), labels only on "
                "the answers; the vision encoder joins at a lower lr when the profile sets one.",
)
def mllm_stage2(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource, media: MediaStore,
                digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame,
                mllm_stage1: pl.DataFrame) -> pl.DataFrame:
    from assets.training.mllm_training import train_llava

    b = resolve_budget(config)
    gpu.setup()
    device = gpu.torch_device()
    s1 = mllm_stage1.row(0, named=True)
    model, tok, processor, n_img = load_model_row(media, s1, device)
    train, data = _stage_data(b, digit_scenes, digit_scene_dialogues, tok, n_img, {"caption", "qa", "dialogue"})
    pixels = scene_pixels(processor, train)
    lrs = {"projector": b.stage2_lr, "language": b.stage2_lr}
    if b.stage2_vision_lr > 0:
        lrs["vision"] = b.stage2_vision_lr
    stats = train_llava(model, data, pixels, lrs, b.stage2_steps, b.stage2_batch, gpu.seed, tok.pad_token_id,
                        device, _autocast(gpu))
    uri, sha, size = put_checkpoint(media, model, {"dims": json.loads(s1["dims"]) if s1["dims"] else None})
    context.add_output_metadata({
        "steps": b.stage2_steps, "batch_size": b.stage2_batch, **{f"lr/{k}": v for k, v in lrs.items()},
        "trainable_params": stats["trainable_params"], "final_loss": stats["final_loss"],
        "seconds": stats["seconds"], "train_conversations": len(data), "checkpoint_uri": uri,
        "loss_curve": loss_chart({"stage 2": stats["loss_curve"]}, "stage 2 loss (instructions)"), **gpu.describe(),
    })
    return model_row("stage2", uri, sha, size, s1, dims_of(s1), b, [s1["record_id"]],
                     **{k: v for k, v in stats.items() if k != "lrs"})


EVAL_METRICS = ("caption_accuracy", "qa_accuracy", "count_accuracy", "exist_accuracy", "what_at_accuracy",
                "read_accuracy", "bbox_iou", "bbox_acc50", "dialogue_turn_accuracy", "dialogue_all_correct")


@training_asset(
    code_version="1",
    description="Held-out evaluation of the assembled model, stage 1 and stage 2: caption accuracy, QA "
                "accuracy (count, existence, region, reading), bbox IoU, multi-turn dialogue accuracy. One row "
                "per (stage, question) with the prediction and its score.",
)
def mllm_eval(context: dg.AssetExecutionContext, config: MllmConfig, gpu: GPUResource, media: MediaStore,
              digit_scenes: pl.DataFrame, digit_scene_dialogues: pl.DataFrame, mllm_base_model: pl.DataFrame,
              mllm_stage1: pl.DataFrame, mllm_stage2: pl.DataFrame) -> pl.DataFrame:
    from assets.training.mllm_metrics import evaluate

    b = resolve_budget(config)
    gpu.setup()
    device = gpu.torch_device()
    test_df = digit_scenes.filter(pl.col("split") == "test").head(b.eval_scenes)
    scenes = scenes_from_frame(test_df)
    keep = set(test_df["record_id"].to_list())
    convs = [c for c in conversations_from_frame(digit_scene_dialogues, "test") if c.scene_id in keep]
    frames, summary = [], {}
    for stage, frame in (("base", mllm_base_model), ("stage1", mllm_stage1), ("stage2", mllm_stage2)):
        start = time.perf_counter()
        model, tok, processor, n_img = load_model_row(media, frame.row(0, named=True), device)
        pixels = scene_pixels(processor, test_df)
        summary[stage], rows = evaluate(model, tok, pixels, scenes, convs, n_img, device)
        summary[stage]["eval_seconds"] = time.perf_counter() - start
        frames.append(pl.DataFrame(rows).with_columns(pl.lit(stage).alias("stage"),
                                                      pl.lit(frame["record_id"][0]).alias("model_id")))
    df = pl.concat(frames, how="diagonal_relaxed").with_columns(
        (pl.col("stage") + ":" + pl.col("record_id")).alias("record_id"),
        pl.concat_list([pl.col("model_id"), pl.col("scene_id")]).alias("parent_ids"))
    table = pl.DataFrame([{"metric": m, **{s: round(summary[s].get(m, float("nan")), 3) for s in summary}}
                          for m in EVAL_METRICS])
    caps = df.filter((pl.col("stage") == "stage2") & (pl.col("kind") == "caption")).head(8)
    pngs = dict(zip(test_df["record_id"], test_df["image_png"], strict=True))
    context.add_output_metadata({
        "dagster/row_count": df.height, "eval_scenes": len(scenes),
        **{f"{s}/{m}": float(v) for s in summary for m, v in summary[s].items()},
        "metrics": dg.MetadataValue.md(markdown_table(table, 20)),
        "sample_captions": scene_grid([pngs[s] for s in caps["scene_id"]],
                                      [f"pred: {p}" for p in caps["prediction"]], "stage 2 captions (held-out)"),
        "errors_stage2": preview(df.filter((pl.col("stage") == "stage2") & (pl.col("score") < 1)),
                                 ["qtype", "question", "truth", "prediction", "score"]),
    })
    return df
