"""What a docmatix asset's code version and a Task's cached answer depend on, proven by editing a
copy of the code: a prompt, an offline method or a threshold marks exactly the assets that use it
stale, and an edited offline method never gets the old answer back from the response cache.

The edits are made in a copy of `assets/` and `resources/` (the fingerprint reads module source
from the tree the code is imported from) and measured in a subprocess that imports that copy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assets.docmatix.qa_prompts import parse_qa

REPO = Path(__file__).resolve().parents[2]

VERSIONS = """
import importlib, json, sys
from pathlib import Path

root, edits = Path(sys.argv[1]), json.loads(sys.argv[2])

def versions():
    for name in [m for m in sys.modules if m.startswith("assets.docmatix")]:
        del sys.modules[name]
    d = importlib.import_module("assets.docmatix.definitions")
    return {a.key.path[-1]: a.code_versions_by_key[a.key] for a in d.ASSETS}

out = {"base": versions()}
for name, path, old, new in edits:
    p = root / path
    src = p.read_text()
    assert src.count(old) == 1, (name, old)
    p.write_text(src.replace(old, new))
    out[name] = versions()
    p.write_text(src)
out["restored"] = versions()
print(json.dumps(out))
"""

RUN_QA = """
import importlib, json, sys
from assets.docmatix.pdfa import page_from_lines
from resources.llm import LLMResource

module, cls, cache = sys.argv[1:4]
task = getattr(importlib.import_module(module), cls)()

def line(text, y, h=0.012):
    return [(w, [0.1 + 0.06 * i, y, 0.05, h]) for i, w in enumerate(text.split())]

page = page_from_lines([line("Acme Sales Report", 0.05, 0.03), line("Invoice number: INV-1", 0.1),
                        line("Due date: 9 March 2024", 0.12), line("Full name: Ada Lovelace", 0.14)])
items = [{"key": f"000000{i}", "variant": i, "layout": [page]} for i in range(3)]
run = LLMResource(cache_path=cache).run(task, items)
print(json.dumps({"answers": [r.value.text for r in run.results], "cache_hits": run.cache_hits,
                  "identity": sorted({r.fingerprint for r in run.results})}))
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the code a docmatix run imports (the kit, the hygiene logic, the group, the resources)."""
    root = tmp_path_factory.mktemp("code")
    ignore = shutil.ignore_patterns("__pycache__")
    (root / "assets").mkdir()
    shutil.copy(REPO / "assets" / "__init__.py", root / "assets" / "__init__.py")
    for part in ("assets/kit", "assets/hygiene", "assets/docmatix", "resources"):
        shutil.copytree(REPO / part, root / part, ignore=ignore)
    (root / "scripts").mkdir()
    (root / "scripts" / "versions.py").write_text(VERSIONS)
    (root / "scripts" / "run_qa.py").write_text(RUN_QA)
    return root


def _python(root: Path, script: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, str(root / "scripts" / script), *args], cwd=root, capture_output=True,
                         text=True, timeout=300, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin",
                                                      "OMP_NUM_THREADS": "1", "HOME": str(root)})
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


EDITS = {
    # name: (file, old text, new text, the assets whose code version must change)
    "prompt": ("assets/docmatix/qa_prompts.py", "Write about {n} question and answer pairs",
               "Write roughly {n} question and answer pairs", {"raw_qa"}),
    "offline_method": ("assets/docmatix/qa_offline.py", '("en", "summary", False): "What is this document about?"',
                       '("en", "summary", False): "What does this document describe?"', {"raw_qa"}),
    # the held-out split checks its pairs again with the filter's answerability rules; the release
    # (its own asset module) does not
    "qa_threshold": ("assets/docmatix/qa_filters.py", "grounded_at: float = Field(0.8,",
                     "grounded_at: float = Field(0.75,",
                     {"filtered_qa", "docmatix_dataset_card", "docvqa_test_split"}),
    "document_threshold": ("assets/docmatix/reading.py", "max_pages: int = Field(4,", "max_pages: int = Field(12,",
                           {"documents", "docmatix_dataset_card"}),
    "judge_rubric": ("assets/docmatix/lave.py", "3 indicating a correct answer", "3 indicating a fully correct answer",
                     {"docvqa_judgments"}),
    # the card states the render settings and the screens' rules, so it follows them
    "render_setting": ("assets/docmatix/rendering.py", "DPI = 150", "DPI = 96",
                       {"page_images", "docmatix_dataset_card"}),
}


def test_an_edit_changes_the_code_version_of_exactly_the_assets_that_use_it(tree):
    # the fingerprint caches a file's hash by (mtime, size): an edit and its undo within one
    # timestamp tick must differ in size to be seen (a person's edits are seconds apart)
    assert all(len(old) != len(new) for _, old, new, _ in EDITS.values())
    edits = [[name, path, old, new] for name, (path, old, new, _) in EDITS.items()]
    versions = _python(tree, "versions.py", str(tree), json.dumps(edits))
    base = versions["base"]
    assert len(base) == 14 and versions["restored"] == base
    # the copy is the repo's code: the versions it computes are the ones the code location shows
    from assets.docmatix.definitions import ASSETS

    assert {a.key.path[-1]: a.code_versions_by_key[a.key] for a in ASSETS} == base
    for name, (*_, expected) in EDITS.items():
        changed = {asset for asset, v in versions[name].items() if v != base[asset]}
        assert changed == expected, name


EDITED_SUBCLASS = '''
from assets.docmatix.qa_prompts import format_qa, parse_qa
from assets.docmatix.qa_task import GeneratedQA, QAGenerationTask


class EditedQA(QAGenerationTask):
    """Same name and version as the original: only the offline method's source differs."""

    def offline(self, item):
        pairs = parse_qa(super().offline(item).text)
        return GeneratedQA(text=format_qa([(q, a.upper()) for _, q, a in pairs]))
'''


def test_an_edited_offline_method_never_gets_the_old_answer_from_the_cache(tree, tmp_path):
    cache = str(tmp_path / "llm.sqlite")
    qa = ("assets.docmatix.qa_task", "QAGenerationTask")
    first = _python(tree, "run_qa.py", *qa, cache)
    again = _python(tree, "run_qa.py", *qa, cache)
    assert first["cache_hits"] == 0 and again["cache_hits"] == 3  # the cache answers an unchanged task
    assert again["answers"] == first["answers"]

    # a subclass with the same name and version, in a new module: its own source is in the key
    (tree / "assets" / "docmatix" / "edited_qa.py").write_text(textwrap.dedent(EDITED_SUBCLASS))
    edited = _python(tree, "run_qa.py", "assets.docmatix.edited_qa", "EditedQA", cache)
    assert edited["cache_hits"] == 0 and edited["identity"] != first["identity"]
    assert edited["answers"] != first["answers"]
    assert [[(q, a.upper()) for _, q, a in parse_qa(t)] for t in first["answers"]] == \
        [[(q, a) for _, q, a in parse_qa(t)] for t in edited["answers"]]  # the edit is what answered

    # the offline method edited in place, without bumping `version`: no stale hit either
    path, old, new, _ = EDITS["offline_method"]
    target = tree / path
    source = target.read_text()
    target.write_text(source.replace(old, new))
    try:
        in_place = _python(tree, "run_qa.py", *qa, cache)
    finally:
        target.write_text(source)
    assert in_place["cache_hits"] == 0 and in_place["identity"] != first["identity"]
    assert in_place["answers"] != first["answers"]
    assert any("What does this document describe?" in a for a in in_place["answers"])
    restored = _python(tree, "run_qa.py", *qa, cache)
    assert restored["cache_hits"] == 3 and restored["answers"] == first["answers"]


ANSWERS_AS = '''
from assets.docmatix.qa_prompts import format_qa, parse_qa
from assets.docmatix.qa_task import GeneratedQA, QAGenerationTask


class EditedQA(QAGenerationTask):
    def offline(self, item):
        pairs = parse_qa(super().offline(item).text)
        return GeneratedQA(text=format_qa([(q, {how}) for _, q, a in pairs]))
'''


def test_a_task_edited_in_a_module_outside_the_project_gets_no_stale_answer(tmp_path, monkeypatch):
    """The same in-process, for a Task subclass living in a temp module (a notebook, a plugin):
    its source is read from where it was imported, so editing it changes its answers' identity."""
    import importlib

    from assets.docmatix.pdfa import page_from_lines
    from resources.llm import LLMResource

    module = tmp_path / "temp_edited_qa.py"
    module.write_text(ANSWERS_AS.format(how="a.upper()"))
    monkeypatch.syspath_prepend(str(tmp_path))
    edited = importlib.import_module("temp_edited_qa")
    page = page_from_lines([[("Invoice", [0.1, 0.1, 0.1, 0.01]), ("number:", [0.21, 0.1, 0.1, 0.01]),
                             ("INV-1", [0.32, 0.1, 0.1, 0.01])]])
    items = [{"key": f"k{i}", "variant": i, "layout": [page]} for i in range(2)]
    llm = LLMResource(cache_path=str(tmp_path / "llm.sqlite"))
    try:
        first = llm.run(edited.EditedQA(), items)
        assert first.cache_hits == 0 and llm.run(edited.EditedQA(), items).cache_hits == 2
        module.write_text(ANSWERS_AS.format(how="a.lower() + ' (edited)'"))  # same name, version, module
        edited = importlib.reload(edited)
        second = llm.run(edited.EditedQA(), items)
    finally:
        sys.modules.pop("temp_edited_qa", None)
    assert second.cache_hits == 0
    assert [r.value.text for r in second.results] != [r.value.text for r in first.results]
    assert all("(edited)" in r.value.text for r in second.results)
    assert {r.fingerprint for r in second.results}.isdisjoint({r.fingerprint for r in first.results})
