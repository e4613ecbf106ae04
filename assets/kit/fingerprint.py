"""What a piece of logic depends on, as one hash of source text.

Code versions and Task cache keys must change when anything that decides an output changes, and
a hand-bumped version number is forgotten the day someone edits an offline method. So both are
built from the source of the module that holds the logic and of every project module (under
`assets/` or `resources/`) it imports, transitively, read from the import statements themselves,
so the lazy imports inside functions (torch-side training code) count too. Modules that only
present or move data (UI metadata, resource plumbing) declare `FINGERPRINT_EXEMPT = "<why>"` and
are left out, so editing a chart does not mark every asset stale.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

PROJECT_PACKAGES = ("assets", "resources")


ROOT = Path(__file__).resolve().parents[2]  # the repo root holds the project packages


@cache
def _project_file(name: str) -> Path | None:
    """The file of a project module, found without importing it (an import could pull in torch)."""
    if name.split(".", 1)[0] not in PROJECT_PACKAGES:
        return None
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_file(name: str, root: bool) -> Path | None:
    """Project modules by path; a root (the module holding a Task or an asset) may live anywhere,
    a test module or a plugin, and is read from where it was imported."""
    found = _project_file(name)
    if found is None and root:
        file = getattr(sys.modules.get(name), "__file__", None)
        found = Path(file) if file and file.endswith(".py") else None
    return found


@lru_cache(maxsize=4096)
def _scan(path: str, digest: str, source: bytes) -> tuple[str, bool, tuple[str, ...]]:
    """(sha256 of the file, exempt?, project modules it imports); parsed once per content."""
    tree = ast.parse(source)
    exempt = any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "FINGERPRINT_EXEMPT"
                                                      for t in node.targets) for node in tree.body)
    package = _package_of(path)
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            imported.add(base)
            imported.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import module`
    return digest, exempt, tuple(sorted(imported))


def _package_of(path: str) -> str:
    p = Path(path).resolve()
    parts = [p.parent.name] if p.name == "__init__.py" else [p.parent.name, p.stem]
    d = p.parent
    while (d.parent / "__init__.py").exists():
        d = d.parent
        parts.insert(0, d.name)
    return ".".join(parts[:-1]) if p.name != "__init__.py" else ".".join(parts)


def _info(name: str, root: bool = False) -> tuple[str, bool, tuple[str, ...]] | None:
    path = _module_file(name, root)
    if path is None:
        return None
    source = path.read_bytes()  # read every time: an edit within one mtime tick still counts
    return _scan(str(path), hashlib.sha256(source).hexdigest(), source)


def module_closure(roots: Iterable[str]) -> dict[str, str]:
    """{module: sha256} of the project modules `roots` import, transitively, roots included;
    exempt modules are neither hashed nor followed."""
    out: dict[str, str] = {}
    roots = list(roots)
    todo, seen = list(roots), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        info = _info(name, root=name in roots)
        if info is None or info[1]:
            continue
        out[name] = info[0]
        todo.extend(m for m in info[2] if m not in seen)
    return dict(sorted(out.items()))


def source_fingerprint(roots: Iterable[str], *extra: str, length: int = 10) -> str:
    """One hash over the closure of `roots` (module names and their source) and `extra` strings."""
    parts = [f"{n}={h}" for n, h in module_closure(roots).items()]
    return hashlib.sha256("\x1f".join([*parts, *extra]).encode()).hexdigest()[:length]
