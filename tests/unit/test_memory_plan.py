import pytest

from resources.gpu import GPUResource
from resources.gpu_memory import MemoryPlanError, estimate_memory, plan_memory

B8 = 8_000_000_000
LORA = 55_300_000


def test_published_fp32_figure_8b_is_160_gb():
    est = estimate_memory(B8, "fp32")
    assert (est.policy_gb, est.reference_gb, est.gradients_gb, est.optimizer_gb) == (32, 32, 32, 64)
    assert est.total_gb == 160


def test_published_bf16_lora_figure_is_32_3_gb():
    est = estimate_memory(B8, "bf16", trainable_params=LORA)
    assert (est.policy_gb, est.reference_gb) == (16, 16)
    assert round(est.gradients_gb, 1) == 0.1 and round(est.optimizer_gb, 1) == 0.2
    assert round(est.total_gb, 1) == 32.3


def test_planner_prefers_full_precision_when_it_fits():
    plan = plan_memory(1_000_000, vram_gb=80, effective_batch=64, activation_gb_per_sample=0.5,
                       lora_trainable_params=10_000)
    assert (plan.precision, plan.lora, plan.gradient_checkpointing) == ("fp32", False, False)
    assert plan.batch_size * plan.grad_accumulation == 64


def test_planner_picks_bf16_lora_with_accumulation_for_8b_on_80_gb():
    plan = plan_memory(B8, vram_gb=80, effective_batch=64, activation_gb_per_sample=8.0,
                       lora_trainable_params=LORA)
    assert (plan.precision, plan.lora) == ("bf16", True)
    assert plan.batch_size * plan.grad_accumulation == 64 and plan.grad_accumulation > 1
    assert plan.estimate.total_gb <= 72


def test_planner_uses_checkpointing_before_refusing():
    plan = plan_memory(B8, vram_gb=40, effective_batch=64, activation_gb_per_sample=8.0,
                       lora_trainable_params=LORA)
    assert plan.gradient_checkpointing and plan.batch_size == 1


def test_planner_refuses_with_the_numbers():
    with pytest.raises(MemoryPlanError, match=r"no configuration fits 24 GB .* needs 3\d\.\d GB"):
        plan_memory(B8, vram_gb=24, effective_batch=64, activation_gb_per_sample=8.0,
                    lora_trainable_params=LORA)


def test_cpu_resource_defaults():
    gpu = GPUResource(device="cpu", threads=1, seed=3)
    gpu.setup()
    import torch

    assert gpu.torch_device().type == "cpu" and gpu.torch_dtype() == torch.float32
    assert torch.get_num_threads() == 1
