"""Editing a cinepile prompt, offline method or threshold changes the computed code version of
exactly the assets that depend on it.

The edits are made in a copy of `assets/` and `resources/` (the shared tree is never touched), and
a subprocess rooted in the copy reloads the group's asset modules after each edit and reports which
assets' code versions moved."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALL = {"question_bank", "question_templates", "cinepile_scenes", "scene_questions", "refinement_rounds",
       "refined_questions", "cinepile_dataset", "cinepile_predictions", "cinepile_leaderboard",
       "cinepile_dataset_card", "question_duplicates"}

# label: (file under assets/cinepile, text before, text after, the assets that must go stale)
EDITS = {
    "template namer's offline method": (
        "templates.py", "prototype = questions[medoid(vectors)]", "prototype = questions[medoid(vectors[::-1])]",
        {"question_templates"}),
    "template picker's offline method": (
        "generation.py", "picks, rnd = [], 0", "picks, rnd = [], 1", {"scene_questions"}),
    "question writer's prompt": (
        "generation.py", "Write question number", "Write question no.", {"scene_questions"}),
    "blind answerer's prompt": (
        "answering.py", "You answer multiple-choice questions about a movie scene you cannot see or hear.",
        "You answer multiple-choice questions about a film scene you cannot see or hear.",
        {"refinement_rounds", "cinepile_predictions"}),
    "rewriter's offline method": (
        "rewriting.py", "near = sorted(candidates, key=lambda c: (closeness(c), c))[:8]",
        "near = sorted(candidates, key=lambda c: (closeness(c), c))[:9]", {"refinement_rounds"}),
    "leaderboard model's prompt": (
        "vlm.py", "directly, as 'Answer: X'.", "directly, written as 'Answer: X'.", {"cinepile_predictions"}),
    "bank threshold": ("bank.py", "min_words: int = Field(default=3", "min_words: int = Field(default=4",
                       {"question_bank"}),
    "degeneracy threshold": ("refinement.py", "degenerate_at: int = Field(default=3",
                             "degenerate_at: int = Field(default=4", {"refinement_rounds"}),
    "learned attacks' threshold": ("attacks.py", "flag_at: float = Field(default=0.30", "flag_at: float = Field(default=0.35",
                                   {"refinement_rounds", "refined_questions"}),
    "answer prior threshold": ("priors.py", "max_key_ratio: float = Field(default=1.5",
                               "max_key_ratio: float = Field(default=1.4", {"scene_questions", "refined_questions"}),
    "true-option checker": ("facts.py", 'if kind == "said_next":', 'if kind in ("said_next",):',
                            {"scene_questions", "refinement_rounds"}),
    "blind margin": ("answering.py", "default=1.5, gt=0", "default=0.75, gt=0",
                     {"refinement_rounds", "cinepile_predictions"}),
    "release table": ("tables.py", '"hard_split": "False" if q["context_correct"] else "True"',
                      '"hard_split": "True" if q["context_correct"] is False else "False"',
                      {"cinepile_dataset", "cinepile_leaderboard", "cinepile_dataset_card", "refined_questions",
                       "refinement_rounds", "cinepile_predictions"}),
}

SCRIPT = r"""
import importlib, json, pkgutil, sys
from pathlib import Path

import dagster as dg

import assets.cinepile as group
from assets.cinepile.definitions import ASSETS

root, edits = Path(sys.argv[1]), json.loads(sys.argv[2])
modules = [f"assets.cinepile.{m.name}" for m in pkgutil.iter_modules(group.__path__) if m.name.endswith("_assets")]


def versions():
    out = {}
    for name in modules:
        mod = importlib.reload(importlib.import_module(name))
        for value in vars(mod).values():
            if isinstance(value, dg.AssetsDefinition):
                out[value.key.to_user_string()] = value.code_versions_by_key[value.key]
    return out


base = versions()
assert set(base) == {a.key.to_user_string() for a in ASSETS}, sorted(base)
result = {"base": base}
for label, (rel, old, new) in edits.items():
    path = root / "assets" / "cinepile" / rel
    text = path.read_text()
    assert text.count(old) == 1, (label, old)
    path.write_text(text.replace(old, new))
    now = versions()
    path.write_text(text)
    result[label] = sorted(k for k in base if now[k] != base[k])
assert versions() == base  # the originals are back: nothing else moved
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def moved(tmp_path_factory) -> dict:
    copy = tmp_path_factory.mktemp("tree")
    for package in ("assets", "resources"):
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
    edits = {label: e[:3] for label, e in EDITS.items()}
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(copy), json.dumps(edits)], cwd=copy,
                          env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_asset_of_the_group_has_a_computed_code_version(moved):
    assert set(moved["base"]) == ALL
    assert all(len(v) == 12 for v in moved["base"].values())


@pytest.mark.parametrize("label", list(EDITS))
def test_an_edit_marks_exactly_the_assets_that_depend_on_it_stale(moved, label):
    assert set(moved[label]) == EDITS[label][3]


def test_the_thresholds_are_run_config_where_a_user_would_tune_them():
    from assets.cinepile.definitions import ASSETS

    fields = {a.key.to_user_string(): set(getattr(a.op.config_schema.as_field().config_type, "fields", {}))
              for a in ASSETS if a.op.config_schema is not None}
    assert {"min_words", "path"} <= fields["question_bank"]
    assert {"degenerate_at", "max_rounds", "blind_margin"} <= fields["refinement_rounds"]
    assert "blind_margin" in fields["cinepile_predictions"]
    descriptions = {a.key.to_user_string(): a.descriptions_by_key[a.key] for a in ASSETS}
    assert "too_short: keep if words >= 3" in descriptions["question_bank"]  # written by the kit from the rules
    assert "at least 3/5 correct (config `degenerate_at`)" in descriptions["refinement_rounds"]
