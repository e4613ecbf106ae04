"""Which torch device and dtype a setting means, resolved on the machine that does the work.

`GPUResource` and the training jobs share it: under Pipes on Kubernetes the orchestrating step
runs on a CPU node, so `auto` must be resolved in the training process, not where the payload is
written.
"""

from __future__ import annotations


def resolve_device(setting: str = "auto"):
    import torch

    if setting != "auto":
        return torch.device(setting)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_dtype(setting: str, device):
    """The compute dtype: the setting, or with `auto` bf16 on a CUDA card that has it, else fp32."""
    import torch

    if setting != "auto":
        return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[setting]
    if torch.device(device).type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def autocast_dtype(setting: str, device):
    """The autocast dtype for a training step (None: plain fp32), only on CUDA."""
    import torch

    dtype = resolve_dtype(setting, device)
    return dtype if dtype != torch.float32 and torch.device(device).type == "cuda" else None
