"""The parts of a tiny LLaVA, each pretrained on its own, then assembled (RECIPES section 6).

- a BPE tokenizer trained offline on the dialogue text (`tokenizers`, wrapped in
  `PreTrainedTokenizerFast`), digits split one per token so reading and boxes are digit by digit;
- a CLIP vision encoder pretrained on digit recognition: every patch of a scene predicts which
  digit covers it (or background), so its patch features say what is where;
- a Llama decoder pretrained as a language model on the caption and instruction text alone;
- `LlavaForConditionalGeneration` built from `LlavaConfig(vision_config, text_config,
  image_token_id)` with the pretrained weights copied in and a fresh two-layer projector, and a
  `LlavaProcessor` whose image processor is `CLIPImageProcessorPil` (Pillow only, no torchvision).

Checkpoints are one safetensors file each, the config JSON in its header, so the media store
keeps a model as a single content-addressed object. `load_pretrained_llava` is the production path:
any LLaVA-style checkpoint in a local folder (no hub download).

Pure logic: torch, transformers and tokenizers are imported inside the functions.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence

import numpy as np

from assets.training import digit_scenes as ds
from assets.training.mllm_config import ModelDims
from assets.training.prompt_format import BOS, EOS, IMAGE, PAD, SPECIAL_TOKENS, UNK, conversation_text

BACKGROUND = 10  # patch label for "no digit"


# --------------------------------------------------------------------------- tokenizer


def train_tokenizer(texts: Sequence[str], vocab_size: int):
    """BPE on `texts`. Spaces become '▁' and pre-tokens are a word with its leading '▁' or one
    digit with its '▁' (so segments tokenized apart concatenate to the whole, and numbers are
    written digit by digit); the special tokens are atomic."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=False),
        pre_tokenizers.Split(Regex("▁?[0-9]|▁?[^▁0-9]+"), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="never")
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(SPECIAL_TOKENS),
                                  show_progress=False)
    tok.train_from_iterator(list(texts), trainer=trainer)
    return wrap_tokenizer(tok.to_str())


def wrap_tokenizer(tokenizer_json: str):
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(tokenizer_json),
        pad_token=PAD, bos_token=BOS, eos_token=EOS, unk_token=UNK,
        extra_special_tokens={"image_token": IMAGE},
    )
    fast.padding_side = "right"
    return fast


def tokenizer_json(tokenizer) -> str:
    return tokenizer.backend_tokenizer.to_str()


# --------------------------------------------------------------------------- processor


def build_processor(tokenizer, dims: ModelDims):
    """LlavaProcessor: <image> expands to one token per patch (CLS dropped, strategy 'default');
    images are resized with a box filter (exact for the 2x-rendered scenes)."""
    from transformers import LlavaProcessor
    from transformers.image_utils import PILImageResampling
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    image_processor = CLIPImageProcessorPil(
        size={"height": dims.image_size, "width": dims.image_size},
        crop_size={"height": dims.image_size, "width": dims.image_size},
        do_center_crop=False, resample=PILImageResampling.BOX,
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
    )
    return LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer,
                          patch_size=dims.patch_size, vision_feature_select_strategy="default",
                          num_additional_image_tokens=1, image_token=IMAGE)


def pixel_values(processor, pngs: Sequence[bytes], batch: int = 512):
    """Processor-normalized pixels for PNG images, as one float tensor."""
    import torch

    out = []
    for i in range(0, len(pngs), batch):
        imgs = [png_to_image(b) for b in pngs[i:i + batch]]
        out.append(processor.image_processor(imgs, return_tensors="pt")["pixel_values"])
    return torch.cat(out) if out else torch.empty(0)


def png_to_image(data: bytes):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")


# --------------------------------------------------------------------------- vision encoder


def patch_targets(scene: ds.Scene, patch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per patch (row-major): the digit whose tile covers most of it (at least a quarter of the
    patch), else BACKGROUND; and where that tile's top-left corner sits in the patch, in whole
    pixels (x, y; 0..patch_size-1). Dense digit recognition and localisation targets.

    The position is a class, not a regressed offset: a box is written as integers, and a feature
    that says "offset 3" in its own direction is one the decoder can copy into a digit, where one
    that says it as a magnitude along a shared direction needs thresholds to be learnt first (with a
    regressed offset, stage 2 wrote each cell's modal box whatever the digit's offset)."""
    n = ds.CANVAS // patch_size
    labels = np.full((n, n), BACKGROUND, dtype=np.int64)
    offsets = np.zeros((n, n, 2), dtype=np.int64)
    best = np.zeros((n, n))
    for p in scene.digits:
        for i in range(n):
            oy = max(0, min(p.y + ds.TILE, (i + 1) * patch_size) - max(p.y, i * patch_size))
            for j in range(n):
                ox = max(0, min(p.x + ds.TILE, (j + 1) * patch_size) - max(p.x, j * patch_size))
                area = ox * oy
                if area > best[i, j] and area * 4 >= patch_size * patch_size:
                    best[i, j] = area
                    labels[i, j] = p.digit
                    offsets[i, j] = (min(max(p.x - j * patch_size, 0), patch_size - 1),
                                     min(max(p.y - i * patch_size, 0), patch_size - 1))
    return labels.reshape(-1), offsets.reshape(-1, 2)


def canvas_pixels(canvases: np.ndarray):
    """36x36 uint8 canvases -> the tensor the processor makes of their 2x PNGs (box-resized back
    to 36, rescaled to [0, 1], normalised with mean 0.5 / std 0.5, grey copied to RGB)."""
    import torch

    x = torch.from_numpy(canvases.astype(np.float32) / 255.0 * 2.0 - 1.0)
    return x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


class SceneSampler:
    """Fresh random scenes from the train digits for every encoder batch: the encoder sees each
    digit image at many offsets and in many company, and cannot memorise a fixed scene set."""

    def __init__(self, pool: dict[int, list[int]], images: np.ndarray, patch_size: int, seed: int):
        import random

        self.pool, self.images, self.patch_size = pool, images, patch_size
        self.rng = random.Random(f"encoder:{seed}")

    def sample(self, n: int):

        scenes = [ds.random_scene(self.rng, self.pool) for _ in range(n)]
        return scenes_to_tensors(scenes, self.images, self.patch_size)


def scenes_to_tensors(scenes: Sequence[ds.Scene], images: np.ndarray, patch_size: int):
    import torch

    pixels = canvas_pixels(np.stack([ds.render(s, images) for s in scenes]))
    targets = [patch_targets(s, patch_size) for s in scenes]
    labels = torch.from_numpy(np.stack([t[0] for t in targets]))
    offsets = torch.from_numpy(np.stack([t[1] for t in targets]))
    return pixels, labels, offsets


def vision_config(dims: ModelDims):
    from transformers import CLIPVisionConfig

    return CLIPVisionConfig(
        image_size=dims.image_size, patch_size=dims.patch_size, num_channels=3,
        hidden_size=dims.vision_hidden, intermediate_size=2 * dims.vision_hidden,
        num_hidden_layers=dims.vision_layers, num_attention_heads=dims.vision_heads,
        projection_dim=dims.vision_hidden,
    )


def pretrain_vision_encoder(sampler: SceneSampler, dims: ModelDims, steps: int, batch_size: int,
                            lr: float, seed: int, device="cpu", eval_set=None):
    """CLIPVisionModel + a linear patch head: 11-way digit/background classification and, on
    digit patches, the tile corner's x and y in the patch (patch_size-way classes each), on fresh
    scenes every step. AdamW with
    cosine decay. The head reads the features LLaVA will read (last layer, CLS dropped)."""
    import torch
    import torch.nn.functional as F
    from transformers import CLIPVisionModel

    torch.manual_seed(seed)
    enc = CLIPVisionModel(vision_config(dims)).to(device)
    head = torch.nn.Linear(dims.vision_hidden, BACKGROUND + 1 + 2 * dims.patch_size).to(device)
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    sched = cosine_schedule(opt, steps, warmup=max(1, steps // 20))
    # Background patches dominate; weight classes so digits are not ignored.
    _, probe, _ = sampler.sample(512)
    counts = torch.bincount(probe.reshape(-1), minlength=BACKGROUND + 1).float()
    weight = (counts.sum() / (counts.clamp(min=1) * len(counts))).clamp(max=10.0).to(device)
    start, losses = time.perf_counter(), []
    enc.train()
    for _ in range(steps):
        x, y, off = (t.to(device) for t in sampler.sample(batch_size))
        out = head(enc(pixel_values=x, output_hidden_states=True).hidden_states[-1][:, 1:])
        loss = F.cross_entropy(out[..., :BACKGROUND + 1].flatten(0, 1), y.flatten(), weight=weight)
        digit = y != BACKGROUND
        if digit.any():
            ox, oy = offset_logits(out[digit], dims.patch_size)
            loss = loss + F.cross_entropy(ox, off[digit][:, 0]) + F.cross_entropy(oy, off[digit][:, 1])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    metrics = {"steps": steps, "final_loss": float(np.mean(losses[-20:])) if losses else float("nan"),
               "seconds": time.perf_counter() - start}
    if eval_set is not None:
        metrics.update(patch_accuracy(enc, head, *eval_set, device=device))
    enc.eval()
    return enc, metrics


def offset_logits(out, patch_size: int):
    """The patch head's x and y offset logits (after the 11 digit/background logits)."""
    return (out[..., BACKGROUND + 1:BACKGROUND + 1 + patch_size],
            out[..., BACKGROUND + 1 + patch_size:BACKGROUND + 1 + 2 * patch_size])


def patch_accuracy(enc, head, pixels, labels, offsets, device="cpu") -> dict[str, float]:
    """Held-out patch accuracy (all patches and digit patches) and the mean error of the
    predicted offset in pixels on digit patches."""
    import torch

    enc.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(pixels), 256):
            feats = enc(pixel_values=pixels[i:i + 256].to(device), output_hidden_states=True).hidden_states[-1][:, 1:]
            preds.append(head(feats).cpu())
    out = torch.cat(preds)
    pred = out[..., :BACKGROUND + 1].argmax(-1)
    digit = labels != BACKGROUND
    ox, oy = offset_logits(out[digit], enc.config.patch_size)
    err = (torch.stack([ox.argmax(-1), oy.argmax(-1)], -1) - offsets[digit]).abs().float().mean()
    return {"patch_accuracy": float((pred == labels).float().mean()),
            "digit_patch_accuracy": float((pred[digit] == labels[digit]).float().mean()),
            "offset_error_px": float(err)}


# --------------------------------------------------------------------------- text decoder


def decoder_corpus(conversations: Sequence[ds.Conversation], scenes: dict[str, ds.Scene]) -> list[str]:
    """The text the decoder learns language from: every conversation in the prompt format, with
    the scene written as text where the image will go: its nine cells row by row, a digit or '.'
    ('5 . . . . 3 . . .'), like a layout transcript beside the dialogue. The decoder so learns to
    describe, count, read and answer from a scene it reads as symbols; the projector's job in
    stage 1 is to make pixels read like those symbols. (A 2-layer decoder trained on the text
    without any transcript never learns to use its context, and a projector-only stage cannot
    teach it.) The transcript has no pixel offsets, so boxes stay a guess until stage 2."""
    return [conversation_text([(t.question, t.answer) for t in c.turns]).replace(
        IMAGE, " " + ds.grid_text(scenes[c.scene_id]), 1) for c in conversations]


def text_config(dims: ModelDims, tokenizer):
    common = {"vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id,
              "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
              "tie_word_embeddings": False}
    if dims.decoder == "gpt2":
        from transformers import GPT2Config

        return GPT2Config(n_embd=dims.text_hidden, n_inner=2 * dims.text_hidden, n_layer=dims.text_layers,
                          n_head=dims.text_heads, n_positions=dims.max_positions, resid_pdrop=0.0,
                          embd_pdrop=0.0, attn_pdrop=0.0, **common)
    from transformers import LlamaConfig

    return LlamaConfig(hidden_size=dims.text_hidden, intermediate_size=2 * dims.text_hidden,
                       num_hidden_layers=dims.text_layers, num_attention_heads=dims.text_heads,
                       num_key_value_heads=dims.text_heads, max_position_embeddings=dims.max_positions, **common)


def decoder_backbone(decoder):
    """The causal LM without its head (Llama's `.model`, GPT-2's `.transformer`)."""
    return decoder.transformer if hasattr(decoder, "transformer") else decoder.model


def pretrain_text_decoder(tokenizer, texts: Sequence[str], dims: ModelDims, steps: int,
                          batch_size: int, lr: float, seed: int, device="cpu", eval_texts=None):
    """A causal LM (Llama or GPT-2) trained on the text alone (every token predicted)."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    lm = AutoModelForCausalLM.from_config(text_config(dims, tokenizer)).to(device)
    enc = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    opt = torch.optim.AdamW(lm.parameters(), lr=lr, weight_decay=0.01)
    sched = cosine_schedule(opt, steps, warmup=max(1, steps // 20))
    buckets = LengthBuckets([len(e) for e in enc], seed=seed)
    start, losses = time.perf_counter(), []
    lm.train()
    for _ in range(steps):
        idx = buckets.sample(batch_size)
        ids, mask = pad_batch([enc[i] for i in idx], tokenizer.pad_token_id)
        labels = ids.masked_fill(mask == 0, -100)
        loss = lm(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device)).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    metrics = {"steps": steps, "final_loss": float(np.mean(losses[-20:])) if losses else float("nan"),
               "seconds": time.perf_counter() - start}
    if eval_texts:
        metrics["eval_perplexity"] = perplexity(lm, tokenizer, eval_texts, device)
    lm.eval()
    return lm, metrics


def perplexity(lm, tokenizer, texts: Sequence[str], device="cpu") -> float:
    import torch

    total, n = 0.0, 0
    lm.eval()
    with torch.no_grad():
        for i in range(0, len(texts), 64):
            ids, mask = pad_batch([tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts[i:i + 64]],
                                  tokenizer.pad_token_id)
            labels = ids.masked_fill(mask == 0, -100)
            k = int((labels[:, 1:] != -100).sum())
            total += lm(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device)).loss.item() * k
            n += k
    return math.exp(total / max(n, 1))


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int, side: str = "right"):
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        if side == "right":
            ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
            mask[i, :len(s)] = 1
        else:
            ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
            mask[i, width - len(s):] = 1
    return ids, mask


class LengthBuckets:
    """Batches of similar length: rows are cut into `n` length quantiles; a step picks a bucket
    with probability proportional to its size and samples a batch inside it. Every row is still
    drawn with equal probability, but a batch of short answers is not padded to a dialogue."""

    def __init__(self, lengths: Sequence[int], n: int = 4, seed: int = 0):
        import torch

        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        n = max(1, min(n, len(order)))
        self.buckets = [order[k * len(order) // n:(k + 1) * len(order) // n] for k in range(n)]
        self.buckets = [b for b in self.buckets if b]
        sizes = torch.tensor([len(b) for b in self.buckets], dtype=torch.float)
        self.weights = sizes / sizes.sum()
        self.gen = torch.Generator().manual_seed(seed)

    def sample(self, batch_size: int) -> list[int]:
        import torch

        b = self.buckets[int(torch.multinomial(self.weights, 1, generator=self.gen))]
        picks = torch.randint(len(b), (batch_size,), generator=self.gen).tolist()
        return [b[i] for i in picks]


def cosine_schedule(opt, steps: int, warmup: int = 0, floor: float = 0.05):
    import torch

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(opt, f)


# --------------------------------------------------------------------------- assembly


def assemble_llava(encoder, decoder, tokenizer, dims: ModelDims, seed: int = 0):
    """A LlavaForConditionalGeneration whose vision tower and language model are the pretrained
    parts (weights copied) and whose projector is new. Image features: last encoder layer, CLS
    dropped; the placeholder token is '<image>'."""
    import torch
    from transformers import LlavaConfig, LlavaForConditionalGeneration

    cfg = LlavaConfig(
        vision_config=encoder.config, text_config=decoder.config,
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE), image_seq_length=dims.image_tokens,
        vision_feature_layer=-1, vision_feature_select_strategy="default", projector_hidden_act="gelu",
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(cfg)
    model.model.vision_tower.load_state_dict(encoder.state_dict())
    model.model.language_model.load_state_dict(decoder_backbone(decoder).state_dict())
    model.lm_head.load_state_dict(decoder.lm_head.state_dict())
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = tokenizer.bos_token_id
    model.eval()
    return model


def part_of(name: str) -> str:
    """Which LLaVA part a parameter belongs to (transformers 5 names; also Idefics-style
    'connector' and 'vision_model', and the head)."""
    if "multi_modal_projector" in name or ".connector." in name or name.startswith("connector."):
        return "projector"
    if "vision_tower" in name or "vision_model" in name:
        return "vision"
    return "language"


def parameter_counts(model) -> dict[str, int]:
    counts = {"vision": 0, "projector": 0, "language": 0}
    for name, p in model.named_parameters():
        counts[part_of(name)] += p.numel()
    counts["total"] = sum(counts.values())
    return counts


# --------------------------------------------------------------------------- checkpoints


def save_checkpoint(model, path: str, extra: dict | None = None) -> None:
    """Weights and config in one safetensors file (config in the header)."""
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    meta = {"config": json.dumps(model.config.to_dict()), "class": type(model).__name__,
            "extra": json.dumps(extra or {})}
    save_file(state, path, metadata=meta)


def load_checkpoint(path: str, device="cpu"):
    """Rebuild the model class named in the header from its config and load the weights (any
    transformers class: the tiny parts, LlavaForConditionalGeneration, a fine-tuned production model)."""
    import transformers
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
    model_cls = getattr(transformers, meta["class"])
    cfg = model_cls.config_class.from_dict(json.loads(meta["config"]))
    model = model_cls(cfg)
    missing, unexpected = model.load_state_dict(load_file(path), strict=False)
    if unexpected or [m for m in missing if not m.endswith("lm_head.weight")]:
        raise ValueError(f"checkpoint {path} does not match {meta['class']}: missing {missing}, unexpected {unexpected}")
    model.to(device).eval()
    return model


def checkpoint_extra(path: str) -> dict:
    from safetensors import safe_open

    with safe_open(path, framework="pt") as f:
        return json.loads(f.metadata().get("extra", "{}"))


def load_pretrained_llava(path: str, device="cpu", dtype=None):
    """Production path: a LLaVA-style checkpoint (e.g. llava-1.5-7b-hf) from a local folder."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    model = AutoModelForImageTextToText.from_pretrained(path, local_files_only=True, dtype=dtype)
    processor = AutoProcessor.from_pretrained(path, local_files_only=True)
    return model.to(device).eval(), processor
