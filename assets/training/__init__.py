"""Training group: sCM consistency distillation (RECIPES section 5), LLaVA-style two-stage MLLM
training (section 6) and DPO on preference pairs (section 7). GPU work goes through `GPUResource`.

`definitions.py` lists the group's assets and checks. The thin assets are `scm_assets.py`,
`scene_assets.py` (the digit-scenes world), `mllm_assets.py` and `dpo_assets.py`; every other module
is pure logic and imports no Dagster. Each asset's code version is the source closure of its module
(assets/kit/fingerprint.py, lazy imports included), so the assets are split by what they run:
editing the DPO trainer marks the DPO assets stale, not the scenes.

The sCM logic (model, TrigFlow losses, samplers, Frechet distance, training loops, report, Pipes
entry point) lives in `scm/`, a folder deliberately WITHOUT an `__init__.py`: these modules import
torch at module level, and a regular package would be imported whole by package loaders, adding
seconds to loading the code location. `tests/unit/test_scm_import_cost.py` guards this.
"""

FINGERPRINT_EXEMPT = "package marker"
