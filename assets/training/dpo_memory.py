"""The memory plan of a DPO run: RECIPES section 7's formula (`resources.gpu.plan_memory`) fed with
the activations of one preference pair, as one plan row per configuration (planned or refused).

Pure logic apart from the planner it calls, which lives beside `GPUResource` in resources/gpu.py
and is imported when called (that module imports Dagster; this one must not).
"""

from __future__ import annotations


def activation_gb_per_pair(seq_len: int, hidden: int, layers: int, bytes_per_value: int) -> float:
    """Stored activations of one preference pair (chosen + rejected sequences) for the backward pass:
    34 bytes per token, layer and hidden unit in 16-bit precision (Korthikanti et al. 2022, with
    flash attention storing no attention matrix); twice that in fp32."""
    from resources.gpu_memory import GB

    return 2 * seq_len * hidden * layers * 34 * (bytes_per_value / 2) / GB


def plan_row(name: str, n_params: int, lora_params: int, vram_gb: float | None, effective_batch: int,
             per_pair_gb: float, device: str) -> dict:
    from resources.gpu_memory import MemoryPlanError, plan_memory

    row = {"plan": name, "device": device, "params": n_params, "lora_params": lora_params, "vram_gb": vram_gb,
           "effective_batch": effective_batch, "activation_gb_per_pair": per_pair_gb}
    if vram_gb is None:
        return {**row, "status": "refused", "message": "no device memory figure"}
    try:
        plan = plan_memory(n_params, vram_gb, effective_batch, per_pair_gb, lora_params)
    except MemoryPlanError as e:
        return {**row, "status": "refused", "message": str(e)}
    return {**row, "status": "planned", "message": None, **plan.as_dict()}
