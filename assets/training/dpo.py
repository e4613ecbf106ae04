"""DPO with a LoRA adapter through TRL's `DPOTrainer` (RECIPES section 7), and the DPO arithmetic
used to score held-out pairs.

Training: `DPOTrainer(model, args=DPOConfig(max_length=None, ...), train_dataset=<image, prompt,
chosen, rejected>, processing_class=LlavaProcessor, peft_config=LoraConfig(...))`. With a PEFT
adapter TRL needs no reference copy: the reference log-probs come from the same model with the
adapter disabled (the frozen stage-2 weights). The adapter is then merged, so the result is a
plain LlavaForConditionalGeneration again. TRL's own logs give rewards/chosen, rewards/rejected,
rewards/accuracies and rewards/margins per logging step.

Held-out: `completion_logps` sums the log-probabilities of a completion given image and prompt;
`dpo_terms` turns policy and reference sums into the same four metrics and the sigmoid loss, so
pairs the trainer never saw are scored with TRL's definitions.

Pure logic: torch, peft, trl and datasets are imported inside the functions.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence

from assets.training.mllm_components import pad_batch, png_to_image
from assets.training.prompt_format import answer_text, expand_image, prompt_text

# Llama-style (q/k/v/o, gate/up/down) and GPT-2-style (c_attn, c_proj, c_fc) decoder layers.
LORA_TARGETS = (r".*(language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj"
                r"|c_attn|c_proj|c_fc)|multi_modal_projector\.linear_[12])")


def lora_config(rank: int, alpha: int, dropout: float = 0.0, target_modules: str = LORA_TARGETS):
    """LoRA on every linear layer of the decoder and the projector (the vision tower stays frozen).
    peft switches GPT-2's Conv1D layers (weights stored transposed) to fan_in_fan_out itself."""
    from peft import LoraConfig

    return LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=target_modules,
                      bias="none")


def trl_dataset(rows: Sequence[dict]):
    """RLAIF-V rows -> the columns TRL's vision DPO collator reads (`image`, `prompt`, `chosen`,
    `rejected`); the prompt carries the `<image>` placeholder the processor expands."""
    from datasets import Dataset

    return Dataset.from_dict({
        "image": [png_to_image(r["image"]) for r in rows],
        "prompt": [prompt_text(r["question"], True) for r in rows],
        "chosen": [answer_text(r["chosen"]) for r in rows],
        "rejected": [answer_text(r["rejected"]) for r in rows],
    })


def loss_name(sft_weight: float) -> str:
    """The loss `train_dpo` trains with, as the README and the asset's metadata name it."""
    return f"sigmoid DPO + {sft_weight:g} x SFT on the chosen answer (RPO)" if sft_weight > 0 else "sigmoid DPO"


def train_dpo(model, processor, rows: Sequence[dict], *, steps: int, batch_size: int, grad_accumulation: int,
              lr: float, beta: float, lora, seed: int, workdir: str, bf16: bool = False,
              gradient_checkpointing: bool = False, use_cpu: bool = True, logging_steps: int = 10,
              sft_weight: float = 0.0):
    """Run TRL's DPOTrainer; returns the merged model, TRL's log history and a summary.
    `sft_weight` > 0 adds TRL's "sft" loss (NLL of the chosen answer) to the sigmoid DPO loss
    (RPO), which keeps the chosen answers likely while the margin grows."""
    from transformers import PrinterCallback
    from trl import DPOConfig, DPOTrainer

    args = DPOConfig(
        output_dir=workdir, max_length=None, per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=grad_accumulation, max_steps=steps, learning_rate=lr, beta=beta,
        lr_scheduler_type="cosine", warmup_steps=max(1, steps // 10), logging_steps=logging_steps,
        save_strategy="no", report_to=[], seed=seed, data_seed=seed, bf16=bf16, use_cpu=use_cpu,
        gradient_checkpointing=gradient_checkpointing, disable_tqdm=True, dataloader_num_workers=0,
        loss_type=["sigmoid", "sft"] if sft_weight > 0 else ["sigmoid"],
        loss_weights=[1.0, sft_weight] if sft_weight > 0 else None,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*fan_in_fan_out.*")
        trainer = DPOTrainer(model=model, args=args, train_dataset=trl_dataset(rows), processing_class=processor,
                             peft_config=lora)
    trainer.remove_callback(PrinterCallback)
    trainable, total = trainer.model.get_nb_trainable_parameters()
    trainer.train()
    seconds = time.perf_counter() - start
    logs = [dict(e) for e in trainer.state.log_history]
    merged = trainer.model.merge_and_unload()
    summary = {"steps": steps, "seconds": seconds, "trainable_params": int(trainable), "total_params": int(total),
               "trainer": f"trl.DPOTrainer {__import__('trl').__version__}",
               "peft": __import__("peft").__version__}
    step_logs = [e for e in logs if "rewards/accuracies" in e and "loss" in e]  # per logging step
    if step_logs:
        last = step_logs[-1]
        summary.update({k: float(last[k]) for k in ("loss", "rewards/chosen", "rewards/rejected",
                                                     "rewards/accuracies", "rewards/margins") if k in last})
        summary["logged_at_step"] = int(last.get("step", steps))
    final = next((e for e in reversed(logs) if "train_loss" in e), None)
    if final:
        summary["train_loss_mean"] = float(final["train_loss"])
    return merged, logs, summary


# --------------------------------------------------------------------------- held-out arithmetic


def completion_logps(model, tokenizer, pixels, prompts: Sequence[str], completions: Sequence[str],
                     n_image_tokens: int, batch_size: int = 64, device="cpu"):
    """Sum over completion tokens of log p(token | image, prompt, previous tokens)."""
    import torch

    out = []
    model.to(device).eval()
    for i in range(0, len(prompts), batch_size):
        seqs, starts = [], []
        for p, c in zip(prompts[i:i + batch_size], completions[i:i + batch_size], strict=True):
            pid = tokenizer(expand_image(p, n_image_tokens), add_special_tokens=False)["input_ids"]
            cid = tokenizer(c, add_special_tokens=False)["input_ids"]
            seqs.append(pid + cid)
            starts.append(len(pid))
        ids, mask = pad_batch(seqs, tokenizer.pad_token_id)
        with torch.no_grad():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                           pixel_values=pixels[i:i + batch_size].to(device)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:].to(device).unsqueeze(-1)).squeeze(-1)
        pos = torch.arange(ids.shape[1] - 1).unsqueeze(0)
        start = torch.tensor(starts).unsqueeze(1)
        keep = (pos >= start - 1) & (mask[:, 1:] == 1)
        out.append((logp.cpu() * keep).sum(1))
    return torch.cat(out)


def dpo_terms(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta: float) -> dict[str, float]:
    """TRL's sigmoid DPO loss and reward metrics: reward = beta * (log pi - log pi_ref)."""
    import torch.nn.functional as F

    chosen = beta * (policy_chosen - ref_chosen)
    rejected = beta * (policy_rejected - ref_rejected)
    margin = chosen - rejected
    return {
        "loss": float(-F.logsigmoid(margin).mean()),
        "rewards/chosen": float(chosen.mean()),
        "rewards/rejected": float(rejected.mean()),
        "rewards/accuracies": float((margin > 0).float().mean()),
        "rewards/margins": float(margin.mean()),
    }
