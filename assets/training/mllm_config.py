"""Budgets of the MLLM + DPO chain per training profile (assets/training/profiles.py).

`fast`: tests and `make demo`; the whole chain in about two minutes on two CPU cores, figures
  only show that every stage runs and moves its metric.
`default`: the CPU budget the reported figures are measured at (minutes).
`large`: a GPU node: the same tiny world with longer schedules and bigger batches (tiny models are
  launch-bound on a GPU), bf16 autocast; production checkpoints come from `pretrained_path`.

Every budget is in optimizer STEPS, never in wall-clock time, so a run is reproducible anywhere.
Pure data: no Dagster, no torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from assets.training import digit_scenes as ds
from assets.training.profiles import training_profile


@dataclass(frozen=True)
class ModelDims:
    """The tiny LLaVA's sizes (mllm_components builds it from these)."""

    image_size: int = ds.CANVAS
    patch_size: int = 12
    vision_hidden: int = 64
    vision_layers: int = 2
    vision_heads: int = 4
    decoder: str = "llama"  # llama (rotary positions) | gpt2 (learned absolute positions)
    text_hidden: int = 128
    text_layers: int = 2
    text_heads: int = 4
    vocab_size: int = 320
    max_positions: int = 256

    @property
    def image_tokens(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class MllmBudget:
    profile: str
    # world
    train_scenes: int
    test_scenes: int
    dialogues_per_scene: int = 1
    caption_noise: float = 0.6  # rate of captioner-bias captions (digit_scenes.CO_OCCURRENCE)
    render_scale: int = 2
    # model
    dims: ModelDims = field(default_factory=lambda: ModelDims(vision_hidden=96, decoder="gpt2"))
    # components
    encoder_steps: int = 2000
    encoder_batch: int = 64
    encoder_lr: float = 2e-3
    decoder_steps: int = 3000
    decoder_batch: int = 32
    decoder_lr: float = 2e-3
    # stage 1: projector only, captions
    stage1_steps: int = 400
    stage1_batch: int = 32
    stage1_lr: float = 3e-3
    # stage 2: projector + decoder (+ encoder at a lower lr when > 0), instructions
    stage2_steps: int = 3000
    stage2_batch: int = 32
    stage2_lr: float = 1e-3
    stage2_vision_lr: float = 0.0
    # the stage-2 mixture: single-turn questions of these types are seen this many times per epoch
    # (every other conversation once)
    stage2_repeat: dict[str, int] = field(default_factory=dict)
    # evaluation (held-out scenes)
    eval_scenes: int = 300
    # preference pairs (on-policy, RLAIF-V style)
    pair_scenes: int = 600  # scenes of the `pref` split (digits stage 2 never saw)
    pair_test_scenes: int = 100
    samples_per_scene: int = 4
    sample_temperature: float = 1.0
    thumbnail_side: int = 36
    labeler_scenes: int = 3000  # the claim labeler's own training scenes (train digits)
    labeler_eval_scenes: int = 1000  # its error measured on scenes of the test digits
    # DPO
    dpo_steps: int = 150
    dpo_batch: int = 16
    dpo_grad_accumulation: int = 1
    dpo_lr: float = 2e-4
    dpo_beta: float = 0.1
    dpo_sft_weight: float = 1.0  # RPO: NLL of the chosen answer beside the DPO loss
    lora_rank: int = 16
    lora_alpha: int = 32
    # hallucination evaluation
    amber_scenes: int = 1000

    def as_dict(self) -> dict:
        d = asdict(self)
        d["dims"] = self.dims.as_dict()
        return d


FAST = MllmBudget(
    profile="fast", train_scenes=600, test_scenes=60,
    encoder_steps=300, decoder_steps=300, stage1_steps=200, stage2_steps=400,
    eval_scenes=40, pair_scenes=64, pair_test_scenes=16, samples_per_scene=4, labeler_scenes=600,
    labeler_eval_scenes=200,
    dpo_steps=30, dpo_batch=8, amber_scenes=40,
)

# stage 2 trains the vision encoder too, at a tenth of the decoder's lr, and longer: held-out QA
# 0.894 (frozen encoder, 3000 steps) -> 0.908 (encoder at 1e-4) -> 0.916 (and 5000 steps). Box
# questions six times over: at 4000 steps the share of boxes with IoU >= 0.5 went 0.26 (once) ->
# 0.36 (three times) -> 0.81 (six times). At 16000 steps, region and reading questions (QA's weak
# types) twice over too: QA 0.917-0.924 -> 0.951, boxes 0.977-0.985 -> 0.850 (README, Training results)
DEFAULT = MllmBudget(profile="default", train_scenes=6000, test_scenes=1100, stage2_vision_lr=1e-4,
                     stage2_steps=16000, stage2_repeat={"where": 6, "what_at": 2, "read": 2})

LARGE = replace(
    DEFAULT, profile="large", train_scenes=20000, test_scenes=2200,
    dims=ModelDims(vision_hidden=128, vision_layers=4, decoder="gpt2", text_hidden=256, text_layers=4, text_heads=8),
    encoder_steps=6000, encoder_batch=256, decoder_steps=10000, decoder_batch=128,
    stage1_steps=2000, stage1_batch=128, stage2_steps=8000, stage2_batch=128, stage2_vision_lr=1e-4,
    eval_scenes=1000, pair_scenes=4000, pair_test_scenes=200, samples_per_scene=8,
    dpo_steps=600, dpo_batch=32, amber_scenes=2000,
)

BUDGETS = {b.profile: b for b in (FAST, DEFAULT, LARGE)}


def budget(profile: str) -> MllmBudget:
    return BUDGETS[profile]


def budget_for(profile: str | None) -> MllmBudget:
    """The budget of a run: its config's `profile`, else MMFOUNDRY_TRAINING_PROFILE (default fast).
    A run setting, not code: it enters each output's metadata (`profile`, `budget`), never the
    code version."""
    return budget(training_profile(profile or None))
