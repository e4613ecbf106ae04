"""Training group: sCM consistency distillation (RECIPES section 5), LLaVA-style two-stage MLLM
training (section 6) and DPO on preference pairs (section 7). GPU work goes through `GPUResource`.

`scm_assets.py` holds the thin sCM assets. The pure logic (model, TrigFlow losses, samplers,
Frechet distance, training loops, report, Pipes entry point) lives in `scm/`, a folder deliberately
WITHOUT an `__init__.py`: Dagster's package loader imports every module of a regular package, and
these import torch at module level, which would add seconds to loading the code location.
`tests/unit/test_scm_import_cost.py` guards this.
"""
