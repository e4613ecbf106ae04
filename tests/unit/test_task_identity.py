"""What an answer depends on is in its cache key: an edited offline method, an edited prompt, a
changed setting or another embedding model never brings back an answer cached before the edit."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from resources.llm import LLMResource

MODULE = '''
from pydantic import BaseModel

from assets.kit.task import Task


class Answer(BaseModel):
    text: str


class EchoTask(Task):
    name = "echo"
    version = "1"
    response_model = Answer

    def __init__(self, suffix: str = "", encoder: str = "enc-a"):
        self.suffix, self.encoder = suffix, encoder

    def config(self):
        return {{"suffix": self.suffix}}

    def offline_model_used(self):
        return self.encoder

    def messages(self, item):
        return [{{"role": "user", "content": "{prompt} " + item}}]

    def offline(self, item):
        return Answer(text={method} + self.suffix)
'''


@pytest.fixture
def task_module(tmp_path, monkeypatch):
    """A Task in a module file the test can edit and reload, as a developer edits one."""
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "edited_task.py"

    def write(method: str = "item.upper()", prompt: str = "Repeat:"):
        path.write_text(textwrap.dedent(MODULE.format(method=method, prompt=prompt)))
        if "edited_task" in sys.modules:
            return importlib.reload(sys.modules["edited_task"])
        return importlib.import_module("edited_task")

    yield write
    sys.modules.pop("edited_task", None)


def answers(llm, task, items=("a", "b")):
    run = llm.run(task, list(items))
    return [r.value.text for r in run.results], run.cache_hits, run


def test_an_edited_offline_method_is_never_a_stale_cache_hit(tmp_path, task_module):
    llm = LLMResource(cache_path=str(tmp_path / "cache.sqlite"))
    mod = task_module("item.upper()")
    first, hits, _ = answers(llm, mod.EchoTask())
    assert (first, hits) == (["A", "B"], 0)
    assert answers(llm, mod.EchoTask())[:2] == (["A", "B"], 2)  # unchanged: all cached

    mod = task_module("item * 2")  # the method changes, `version` is not bumped
    second, hits, _ = answers(llm, mod.EchoTask())
    assert (second, hits) == (["aa", "bb"], 0)


def test_an_edited_prompt_or_setting_or_model_misses_the_cache(tmp_path, task_module):
    llm = LLMResource(cache_path=str(tmp_path / "cache.sqlite"))
    mod = task_module()
    answers(llm, mod.EchoTask())
    fingerprint = mod.EchoTask.fingerprint()
    assert answers(llm, mod.EchoTask(suffix="!"))[:2] == (["A!", "B!"], 0)  # config() changed
    _, hits, run = answers(llm, mod.EchoTask(encoder="enc-b"))  # another embedding model
    assert hits == 0 and run.results[0].model == "offline:enc-b"
    mod = task_module(prompt="Say again:")
    assert mod.EchoTask.fingerprint() != fingerprint
    assert answers(llm, mod.EchoTask())[1] == 0


def test_remote_identity_ignores_offline_source_but_not_the_model(task_module):
    mod = task_module()
    remote, offline = mod.EchoTask().identity("openai", "model-a"), mod.EchoTask().identity("offline", "")
    mod = task_module("item * 3")
    edited = mod.EchoTask()
    assert edited.identity("openai", "model-a") == remote  # a served model never ran that code
    assert edited.identity("openai", "model-b") != remote
    assert edited.identity("offline", "") != offline


def test_an_offline_failure_is_cached_until_the_method_changes(tmp_path, task_module):
    llm = LLMResource(cache_path=str(tmp_path / "cache.sqlite"))
    mod = task_module("item.upper() if item != 'b' else 1 / 0")
    run = llm.run(mod.EchoTask(), ["a", "b"])
    assert [r.error for r in run.results][1].startswith("ZeroDivisionError") and run.calls == 2
    again = llm.run(mod.EchoTask(), ["a", "b"])  # nothing is computed twice, the failure included
    assert (again.calls, again.cache_hits, again.failed) == (0, 2, 1)
    assert again.results[1].error == run.results[1].error
    mod = task_module("item.upper()")  # the fix reaches the item at once
    fixed = llm.run(mod.EchoTask(), ["a", "b"])
    assert [r.value.text for r in fixed.results] == ["A", "B"] and fixed.cache_hits == 0
