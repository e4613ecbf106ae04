"""The memory arithmetic of RECIPES section 7: policy + reference + gradients + two AdamW states,
activations on top. Pure (no Dagster, no torch), so it is part of the code version of every asset
whose rows it decides."""

from __future__ import annotations

from dataclasses import asdict, dataclass

GB = 1e9
BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}


class MemoryPlanError(ValueError):
    """No configuration fits the budget; the message gives the smallest footprint found."""


@dataclass(frozen=True)
class MemoryEstimate:
    precision: str
    trainable_params: int
    policy_gb: float
    reference_gb: float
    gradients_gb: float
    optimizer_gb: float
    activations_gb: float

    @property
    def total_gb(self) -> float:
        return (self.policy_gb + self.reference_gb + self.gradients_gb + self.optimizer_gb
                + self.activations_gb)

    def as_dict(self) -> dict[str, float | int | str]:
        return {**asdict(self), "total_gb": round(self.total_gb, 3)}


def estimate_memory(
    n_params: int,
    precision: str = "fp32",
    trainable_params: int | None = None,
    with_reference: bool = True,
    activations_gb: float = 0.0,
) -> MemoryEstimate:
    """Weights of policy (and a frozen reference) in `precision`; gradients and two AdamW states
    for the trainable parameters in the same precision (RECIPES section 7's accounting)."""
    p = BYTES[precision]
    trainable = n_params if trainable_params is None else trainable_params
    return MemoryEstimate(
        precision=precision,
        trainable_params=trainable,
        policy_gb=n_params * p / GB,
        reference_gb=n_params * p / GB if with_reference else 0.0,
        gradients_gb=trainable * p / GB,
        optimizer_gb=2 * trainable * p / GB,
        activations_gb=activations_gb,
    )


@dataclass(frozen=True)
class TrainingPlan:
    precision: str
    lora: bool
    batch_size: int
    grad_accumulation: int
    gradient_checkpointing: bool
    estimate: MemoryEstimate

    def as_dict(self) -> dict:
        return {"precision": self.precision, "lora": self.lora, "batch_size": self.batch_size,
                "grad_accumulation": self.grad_accumulation,
                "gradient_checkpointing": self.gradient_checkpointing, **self.estimate.as_dict()}


def plan_memory(
    n_params: int,
    vram_gb: float,
    effective_batch: int,
    activation_gb_per_sample: float,
    lora_trainable_params: int,
    with_reference: bool = True,
    checkpointing_saving: float = 0.3,
    headroom: float = 0.9,
) -> TrainingPlan:
    """The cheapest-to-train configuration that fits `headroom * vram_gb`.

    Preference order: full fp32, full bf16, bf16 + LoRA; without checkpointing before with it
    (checkpointing keeps `checkpointing_saving` of the activations at ~30% more compute); then the
    largest batch that fits, the rest of `effective_batch` by gradient accumulation."""
    budget = headroom * vram_gb
    options = [("fp32", False), ("bf16", False), ("bf16", True)]
    smallest: MemoryEstimate | None = None
    for precision, lora in options:
        trainable = lora_trainable_params if lora else None
        for checkpointing in (False, True):
            per_sample = activation_gb_per_sample * (checkpointing_saving if checkpointing else 1.0)
            base = estimate_memory(n_params, precision, trainable, with_reference, 0.0)
            if smallest is None or base.total_gb + per_sample < smallest.total_gb:
                smallest = estimate_memory(n_params, precision, trainable, with_reference, per_sample)
            room = budget - base.total_gb
            if room < per_sample:
                continue
            batch = max(1, min(effective_batch, int(room // per_sample) if per_sample > 0 else effective_batch))
            while effective_batch % batch:
                batch -= 1
            est = estimate_memory(n_params, precision, trainable, with_reference, per_sample * batch)
            return TrainingPlan(precision, lora, batch, effective_batch // batch, checkpointing, est)
    assert smallest is not None
    raise MemoryPlanError(
        f"no configuration fits {vram_gb:g} GB (x{headroom:g} headroom): the smallest, bf16 + LoRA "
        f"with checkpointing at batch 1, needs {smallest.total_gb:.1f} GB"
    )


