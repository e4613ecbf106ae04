"""Pure logic imports no Dagster (DESIGN principle 1): every module under assets/ that declares no
asset, check or job is importable, with everything it imports, in a process without Dagster."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports_dagster(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(n == "dagster" or n.startswith("dagster.") or n.startswith("dagster_") for n in names):
            return True
    return False


def pure_modules() -> list[str]:
    out = []
    for path in sorted((ROOT / "assets").rglob("*.py")):
        if path.name == "definitions.py":  # a group's list of its assets
            continue
        if not _imports_dagster(ast.parse(path.read_text())):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out.append(".".join(parts))
    return out


def test_there_are_pure_modules_in_every_group():
    groups = {m.split(".")[1] for m in pure_modules() if m.count(".") >= 2}
    assert {"kit", "finevideo", "cinepile", "docmatix", "training", "quality"} <= groups


def test_importing_every_pure_module_does_not_import_dagster():
    modules = pure_modules()
    code = ("import importlib, sys\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "    bad = sorted(k for k in sys.modules if k == 'dagster' or k.startswith('dagster.'))\n"
            "    if bad:\n"
            "        print(m); sys.exit(1)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{done.stdout.strip()} imports dagster (transitively)\n{done.stderr[-2000:]}"
