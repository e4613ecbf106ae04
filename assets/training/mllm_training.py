"""Two-stage LLaVA training on conversations, and generation (RECIPES section 6).

Prompt format (LLaVA-1.5's roles and separators):
`<s>USER:<image> {question} ASSISTANT: {answer}</s>USER: {question} ASSISTANT: {answer}</s>...`
`<image>` expands to one placeholder token per image patch, exactly as `LlavaProcessor` expands it.
Labels are -100 on the image tokens, the instructions (every user turn and role marker) and the
padding; only the assistant answers and their `</s>` are learned.

Stage 1 trains the projector alone on captions; stage 2 the projector and the decoder on every
kind of instruction (optionally the vision encoder at a lower learning rate).

Pure logic: torch is imported inside the functions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assets.training.mllm_components import (
    LengthBuckets,
    cosine_schedule,
    pad_batch,
    part_of,
)
from assets.training.prompt_format import (
    answer_text,
    expand_image,
    prompt_text,
)

IGNORE = -100


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def encode_conversation(tokenizer, turns: Sequence[tuple[str, str]], n_image_tokens: int,
                        ) -> tuple[list[int], list[int]]:
    """Token ids and labels of a whole conversation; segments are tokenized one by one (the
    tokenizer splits at spaces, so the pieces concatenate to the tokenization of the whole)."""
    ids: list[int] = []
    labels: list[int] = []
    for i, (q, a) in enumerate(turns):
        p = _ids(tokenizer, expand_image(prompt_text(q, i == 0), n_image_tokens))
        r = _ids(tokenizer, answer_text(a))
        ids += p + r
        labels += [IGNORE] * len(p) + r
    return ids, labels


def encode_prompt(tokenizer, history: Sequence[tuple[str, str]], question: str, n_image_tokens: int) -> list[int]:
    """The ids a model continues to answer `question` after `history` (earlier turns)."""
    ids: list[int] = []
    for i, (q, a) in enumerate(history):
        ids += _ids(tokenizer, expand_image(prompt_text(q, i == 0), n_image_tokens)) + _ids(tokenizer, answer_text(a))
    ids += _ids(tokenizer, expand_image(prompt_text(question, not history), n_image_tokens))
    return ids


@dataclass
class EncodedSet:
    ids: list[list[int]]
    labels: list[list[int]]
    image_index: list[int]  # row of the pixel tensor for each conversation

    def __len__(self) -> int:
        return len(self.ids)


def encode_set(tokenizer, conversations: Sequence[Sequence[tuple[str, str]]], image_index: Sequence[int],
               n_image_tokens: int) -> EncodedSet:
    ids, labels = [], []
    for turns in conversations:
        i, lab = encode_conversation(tokenizer, turns, n_image_tokens)
        ids.append(i)
        labels.append(lab)
    return EncodedSet(ids, labels, list(image_index))


def collate(data: EncodedSet, rows: Sequence[int], pad_id: int):
    import torch

    ids, mask = pad_batch([data.ids[r] for r in rows], pad_id)
    labels = torch.full_like(ids, IGNORE)
    for k, r in enumerate(rows):
        labels[k, :len(data.labels[r])] = torch.tensor(data.labels[r], dtype=torch.long)
    return ids, mask, labels


# --------------------------------------------------------------------------- training


def set_trainable(model, lrs: dict[str, float]) -> list[dict]:
    """Freeze every part not in `lrs`; one AdamW group per trainable part with its lr."""
    groups: dict[str, list] = {}
    for name, p in model.named_parameters():
        part = part_of(name)
        p.requires_grad_(part in lrs)
        if part in lrs:
            groups.setdefault(part, []).append(p)
    return [{"params": ps, "lr": lrs[part], "name": part} for part, ps in groups.items()]


def train_llava(model, data: EncodedSet, pixels, lrs: dict[str, float], steps: int, batch_size: int,
                seed: int, pad_id: int, device="cpu", autocast_dtype=None, weight_decay: float = 0.0,
                log_every: int = 25) -> dict:
    """AdamW on the parts named in `lrs` (projector, language, vision), cosine decay after a
    short warmup, gradient clipping at 1, length-bucketed batches. Returns the loss curve and
    timings."""
    import contextlib

    import torch

    groups = set_trainable(model, lrs)
    trainable = [p for g in groups for p in g["params"]]
    opt = torch.optim.AdamW(groups, weight_decay=weight_decay)
    sched = cosine_schedule(opt, steps, warmup=max(1, steps // 20))
    buckets = LengthBuckets([len(i) for i in data.ids], seed=seed)
    model.to(device).train()
    curve, recent = [], []
    start = time.perf_counter()
    for step in range(steps):
        rows = buckets.sample(batch_size)
        ids, mask, labels = collate(data, rows, pad_id)
        px = pixels[[data.image_index[r] for r in rows]]
        ctx = (torch.autocast(device_type=torch.device(device).type, dtype=autocast_dtype)
               if autocast_dtype is not None else contextlib.nullcontext())
        with ctx:
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device), pixel_values=px.to(device),
                        labels=labels.to(device))
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        sched.step()
        recent.append(out.loss.item())
        if (step + 1) % log_every == 0 or step + 1 == steps:
            curve.append((step + 1, float(np.mean(recent))))
            recent = []
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return {"steps": steps, "batch_size": batch_size, "lrs": lrs, "loss_curve": curve,
            "final_loss": curve[-1][1] if curve else float("nan"), "seconds": time.perf_counter() - start,
            "trainable_params": sum(p.numel() for p in trainable)}


# --------------------------------------------------------------------------- generation


def generate(model, tokenizer, prompts: Sequence[list[int]], pixels=None, max_new_tokens: int = 40,
             batch_size: int = 64, temperature: float = 0.0, seed: int = 0, device="cpu") -> list[str]:
    """Greedy (temperature 0) or sampled continuations, one image per prompt (or none for a
    text-only decoder), decoded without special tokens. Prompts are batched by exact length, so
    no batch is padded and positions are the same as in training for any position encoding."""
    import torch

    outs: list[str | None] = [None] * len(prompts)
    if temperature > 0:
        torch.manual_seed(seed)
    model.to(device).eval()
    by_len: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        by_len.setdefault(len(p), []).append(i)
    for _, rows in sorted(by_len.items()):
        for k in range(0, len(rows), batch_size):
            chunk = rows[k:k + batch_size]
            ids = torch.tensor([prompts[i] for i in chunk], dtype=torch.long, device=device)
            kwargs = {"do_sample": temperature > 0}
            if temperature > 0:
                kwargs.update(temperature=temperature, top_k=0, top_p=1.0)
            if pixels is not None:
                kwargs["pixel_values"] = pixels[chunk].to(device)
            with torch.no_grad():
                gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                     max_new_tokens=max_new_tokens, eos_token_id=tokenizer.eos_token_id,
                                     pad_token_id=tokenizer.pad_token_id, **kwargs)
            for i, row in zip(chunk, gen[:, ids.shape[1]:].tolist(), strict=True):
                if tokenizer.eos_token_id in row:
                    row = row[:row.index(tokenizer.eos_token_id)]
                outs[i] = tokenizer.decode(row, skip_special_tokens=True).strip()
    return outs  # type: ignore[return-value]


def answer_questions(model, tokenizer, pixels, questions: Sequence[str], n_image_tokens: int,
                     histories: Sequence[Sequence[tuple[str, str]]] | None = None, **kw) -> list[str]:
    """One answer per (image, question), after an optional dialogue history."""
    hist = histories or [()] * len(questions)
    prompts = [encode_prompt(tokenizer, h, q, n_image_tokens) for h, q in zip(hist, questions, strict=True)]
    return generate(model, tokenizer, prompts, pixels, **kw)
