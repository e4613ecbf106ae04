"""The training group's code versions are computed, never hand-written, and follow the code an asset
really runs: editing a module the asset body imports lazily (the torch-side training code) marks
exactly the assets of the modules that use it stale; editing a picture marks nothing stale.

Edits are made in a copy of `assets/` and `resources/` (the shared tree is never touched): the
fingerprint's root is pointed at the copy and each asset module's code version recomputed the way
`kit_asset` computes it when the module is loaded."""

from __future__ import annotations

import ast
import inspect
import shutil
from pathlib import Path

import dagster as dg
import pytest

from assets.kit import fingerprint
from assets.kit.asset_kit import code_version
from assets.training import definitions

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("assets.training.scene_assets", "assets.training.mllm_assets", "assets.training.dpo_assets",
           "assets.training.scm_assets", "assets.training.scm_scaling_assets")
SCENES = {"digit_scenes", "digit_scene_dialogues"}
MLLM = {"mllm_tokenizer", "mllm_vision_encoder", "mllm_text_decoder", "mllm_base_model", "mllm_stage1",
        "mllm_stage2", "mllm_eval"}
DPO = {"preference_labeler", "preference_pairs", "memory_plan", "dpo_model", "hallucination_eval", "dpo_ablation"}
SCM = {"scm_teacher", "scm_student", "scm_report", "scm_scaling", "scm_scaling_claims"}

# label: (file under assets/training, text before, text after, the assets that must go stale)
EDITS = {
    # imported only inside the stage and DPO asset bodies (`from ... import train_llava`)
    "stage trainer (lazy)": ("mllm_training.py", "log_every: int = 25", "log_every: int = 50", MLLM | DPO),
    # imported only inside dpo_model / memory_plan
    "DPO trainer (lazy)": ("dpo.py", "logging_steps: int = 10", "logging_steps: int = 20", DPO),
    # imported only inside scm_report, and only by path segments (scm/ has no __init__.py)
    "sCM report (lazy)": ("scm/report.py", "b, cfg.timing_repeats, sync)", "b, cfg.timing_repeats + 1, sync)", SCM),
    "model parts (lazy, via checkpoints.py)": (
        "mllm_components.py", "BACKGROUND = 10", "BACKGROUND = 11", MLLM | DPO),
    "the captioner's bias": ("digit_scenes.py", "CO_OCCURRENCE = {7: 1, 3: 8}", "CO_OCCURRENCE = {7: 1, 3: 9}",
                             SCENES | MLLM | DPO),
    "a picture (exempt)": ("training_charts.py", 'figsize=(6, 2.6))\n    for name', 'figsize=(7, 2.6))\n    for name',
                           set()),
}


def _assets_by_module() -> dict[str, list[dg.AssetsDefinition]]:
    out: dict[str, list[dg.AssetsDefinition]] = {}
    for a in definitions.ASSETS:
        out.setdefault(inspect.getmodule(a.op.compute_fn.decorated_fn).__name__, []).append(a)
    return out


def _versions() -> dict[str, str]:
    return {a.key.path[-1]: code_version(module) for module, assets in _assets_by_module().items() for a in assets}


def test_every_asset_version_is_the_kits_computation():
    by_module = _assets_by_module()
    assert set(by_module) == set(MODULES)
    for module, assets in by_module.items():
        for a in assets:
            assert a.code_versions_by_key[a.key] == code_version(module), a.key
    text = "\n".join((ROOT / "assets" / "training" / f"{m.rsplit('.', 1)[-1]}.py").read_text() for m in MODULES)
    assert "code_version=" not in text


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A copy of the project packages, with the fingerprint rooted in it."""
    for pkg in ("assets", "resources"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    monkeypatch.setattr(fingerprint, "ROOT", tmp_path)
    fingerprint._project_file.cache_clear()
    yield tmp_path / "assets" / "training"
    fingerprint._project_file.cache_clear()


@pytest.mark.parametrize("label", list(EDITS))
def test_an_edit_marks_exactly_the_assets_that_run_it_stale(tree, label):
    file, before, after, stale = EDITS[label]
    path = tree / file
    source = path.read_text()
    assert source.count(before) == 1, f"{file} no longer holds {before!r}: update the test"
    baseline = _versions()
    assert set(baseline) == SCENES | MLLM | DPO | SCM
    path.write_text(source.replace(before, after))
    moved = {name for name, v in _versions().items() if v != baseline[name]}
    assert moved == stale


def test_the_lazy_import_is_what_carries_the_edit(tree):
    """mllm_training is imported by no module at load time: it reaches the stage assets' version only
    through the `from assets.training.mllm_training import ...` inside the device job's functions
    (mllm_jobs, which the assets hand to GPUResource.run_job)."""
    closure = fingerprint.module_closure(["assets.training.mllm_assets"])
    assert "assets.training.mllm_training" in closure
    for module in ("mllm_assets", "mllm_jobs"):
        tree_ = ast.parse((tree / f"{module}.py").read_text())
        top = {n.module for n in tree_.body if isinstance(n, ast.ImportFrom)}
        assert "assets.training.mllm_training" not in top, module
    tree_ = ast.parse((tree / "mllm_jobs.py").read_text())
    inner = {n.module for f in tree_.body if isinstance(f, ast.FunctionDef)
             for n in ast.walk(f) if isinstance(n, ast.ImportFrom)}
    assert "assets.training.mllm_training" in inner
    assert "assets.training.mllm_training" not in fingerprint.module_closure(["assets.training.scene_assets"])


def test_definitions_list_every_asset_and_check_of_the_group():
    import importlib

    assets, checks = set(), set()
    for module in (*MODULES, "assets.training.goal_checks"):
        for value in vars(importlib.import_module(module)).values():
            if isinstance(value, dg.AssetChecksDefinition):
                checks.add(value)
            elif isinstance(value, dg.AssetsDefinition):
                assets.add(value)
    assert assets == set(definitions.ASSETS) and len(definitions.ASSETS) == len(assets) == 20
    assert checks == set(definitions.CHECKS) and len(checks) == 6
    for a in definitions.ASSETS:
        spec = a.specs_by_key[a.key]
        assert spec.group_name == "training" and spec.owners == ["team:ml"] and spec.kinds, a.key
        assert [c.name for c in a.check_specs] == ["provenance"], a.key
