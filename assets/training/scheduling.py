"""Where the training steps run: the `gpu` pool (one GPU step at a time per pool slot) and, on
Kubernetes, one GPU per step's pod. Scheduling only: which machine runs a step never decides what
it computes (the training code does), so this module is outside every code version."""

from __future__ import annotations

FINGERPRINT_EXEMPT = "which machine runs a step, not what it computes"

GPU_POOL = "gpu"
GPU_OP_TAGS = {"dagster-k8s/config": {"container_config": {"resources": {"limits": {"nvidia.com/gpu": 1}}}}}
