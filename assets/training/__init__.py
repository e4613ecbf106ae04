"""Training group: sCM consistency distillation (RECIPES section 5), LLaVA-style two-stage MLLM
training (section 6) and DPO on preference pairs (section 7). GPU work goes through `GPUResource`."""
