"""LLMResource against a real local HTTP server speaking the chat-completions protocol."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationInfo, field_validator

from assets.kit.errors import MAX_OTHER_CHARS
from assets.kit.task import Task
from resources.llm import REDACTED, LLMResource, describe_redacted, redact, secrets
from resources.llm_cache import ResponseCache
from tests.fakes.fault_server import FakeChatServer


class Sum(BaseModel):
    total: int

    @field_validator("total")
    @classmethod
    def must_match(cls, v: int, info: ValidationInfo) -> int:
        expected = (info.context or {}).get("expected")
        if expected is not None and v != expected:
            raise ValueError(f"total must be {expected}")
        return v


class AddTask(Task):
    name = "add"
    version = "1"
    response_model = Sum
    offline_model = "arithmetic"

    def messages(self, item):
        return [{"role": "user", "content": f"add {item['a']} and {item['b']}"}]

    def offline(self, item):
        if item["a"] < 0:
            raise ValueError("negative numbers are not supported offline")
        return Sum(total=item["a"] + item["b"])

    def validation_context(self, item):
        return {"expected": item["a"] + item["b"]}


def respond_sum(messages):
    ask = next(m["content"] for m in messages if str(m.get("content", "")).startswith("add "))
    words = ask.split()
    nums = [int(w) for w in words if w.lstrip("-").isdigit()][-2:]
    return json.dumps({"total": sum(nums)})


ITEMS = [{"a": 1, "b": 2}, {"a": 10, "b": 5}, {"a": 7, "b": 0}]


def remote(server, tmp_path, **kw) -> LLMResource:
    opts = dict(backend="openai", model="fake", base_url=server.base_url, api_key="test-key",
                cache_path=str(tmp_path / "llm.sqlite"), max_concurrency=1, backoff_initial_s=0.01,
                backoff_max_s=0.05, timeout_s=5.0)
    opts.update(kw)
    return LLMResource(**opts)


def test_offline_backend_answers_validates_caches_and_records_errors(tmp_path):
    llm = LLMResource(cache_path=str(tmp_path / "c.sqlite"))
    run = llm.run(AddTask(), [*ITEMS, {"a": -1, "b": 1}])
    assert [r.value.total for r in run.results[:3]] == [3, 15, 7]
    bad = run.results[3]
    assert not bad.ok and bad.value is None and "negative" in bad.error
    assert {r.backend for r in run.results} == {"offline"}
    assert run.results[0].model == "offline:arithmetic"
    assert run.calls == 4 and run.cache_hits == 0 and run.failed == 1
    again = llm.run(AddTask(), [*ITEMS, {"a": -1, "b": 1}])
    # offline, a failure is as deterministic as an answer: neither is computed again
    assert again.cache_hits == 4 and again.calls == 0 and again.failed == 1
    assert all(r.cached for r in again.results) and "negative" in again.results[3].error


def test_429_then_success_retries_with_backoff(tmp_path):
    with FakeChatServer(respond_sum, script=["429", "429"]) as server:
        run = remote(server, tmp_path).run(AddTask(), ITEMS[:1])
    assert run.results[0].ok and run.results[0].value.total == 3
    assert server.actions == ["429", "429", "ok"]
    assert run.calls == 3 and run.results[0].attempts == 3


def test_server_error_then_success(tmp_path):
    with FakeChatServer(respond_sum, script=["500"]) as server:
        run = remote(server, tmp_path).run(AddTask(), ITEMS[:1])
    assert run.results[0].value.total == 3 and server.calls == 2


def test_malformed_json_is_reasked_and_succeeds(tmp_path):
    with FakeChatServer(respond_sum, script=["malformed"]) as server:
        run = remote(server, tmp_path).run(AddTask(), ITEMS[:1])
    assert run.results[0].ok and run.results[0].value.total == 3
    assert server.actions == ["malformed", "ok"]


def test_invalid_answer_is_reasked_with_the_validation_error(tmp_path):
    answers = iter(['{"total": 99}', '{"total": 3}'])
    with FakeChatServer(lambda m: next(answers)) as server:
        run = remote(server, tmp_path).run(AddTask(), ITEMS[:1])
    assert run.results[0].value.total == 3
    # instructor's re-ask carries the validator's message back to the model
    assert "total must be 3" in json.dumps(server.requests[1]["messages"])


def test_timeout_is_retried_then_recorded_as_the_items_error(tmp_path):
    with FakeChatServer(respond_sum, default="timeout", hang_s=1.0) as server:
        run = remote(server, tmp_path, timeout_s=0.3, max_attempts=2).run(AddTask(), ITEMS[:2])
    assert [r.ok for r in run.results] == [False, False]
    assert all("Timeout" in r.error for r in run.results)
    assert server.calls == 4 and run.failed == 2 and run.errors == {"APITimeoutError": 2}


def test_persistent_failure_is_one_items_error_and_the_batch_goes_on(tmp_path):
    with FakeChatServer(respond_sum, script=["500"] * 3) as server:
        run = remote(server, tmp_path, max_attempts=3).run(AddTask(), ITEMS[:2])
    assert not run.results[0].ok and "InternalServerError" in run.results[0].error
    assert run.results[1].ok and run.results[1].value.total == 15


def test_rerun_makes_zero_http_calls_thanks_to_the_cache(tmp_path):
    with FakeChatServer(respond_sum) as server:
        llm = remote(server, tmp_path, max_concurrency=3)
        first = llm.run(AddTask(), ITEMS)
        calls_after_first = server.calls
        second = llm.run(AddTask(), ITEMS)
    assert calls_after_first == 3 and first.calls == 3
    assert server.calls == 3, "the rerun must not reach the server"
    assert second.calls == 0 and second.cache_hits == 3
    assert [r.value.total for r in second.results] == [3, 15, 7]
    assert ResponseCache(str(tmp_path / "llm.sqlite")).count("add@1") == 3


def test_cache_key_changes_with_task_version(tmp_path):
    class AddTaskV2(AddTask):
        version = "2"

    llm = LLMResource(cache_path=str(tmp_path / "c.sqlite"))
    llm.run(AddTask(), ITEMS)
    assert llm.run(AddTaskV2(), ITEMS).cache_hits == 0
    assert llm.run(AddTask(), ITEMS).cache_hits == 3


def test_truncated_output_gets_the_tasks_repair(tmp_path):
    class ConciseAdd(AddTask):
        def repair(self, messages, error):
            return [*messages, {"role": "user", "content": "Be concise."}]

    with FakeChatServer(respond_sum, script=["truncated"]) as server:
        run = remote(server, tmp_path).run(ConciseAdd(), ITEMS[:1])
    assert run.results[0].ok
    assert server.actions == ["truncated", "ok"]
    assert "Be concise." not in json.dumps(server.requests[0]["messages"])
    assert server.requests[1]["messages"][-1]["content"].endswith("Be concise.")


def test_model_entries_have_one_entry_per_item(tmp_path):
    run = LLMResource().run(AddTask(), ITEMS)
    entries = run.model_entries("sum")
    assert [len(e) for e in entries] == [1, 1, 1]
    assert {e[0]["task_version"] for e in entries} == {"add@1"}
    assert {e[0]["model"] for e in entries} == {"offline:arithmetic"}
    assert len({e[0]["prompt_sha"] for e in entries}) == 3 and len({e[0]["fingerprint"] for e in entries}) == 1


@pytest.mark.parametrize("backend", ["offline"])
def test_metadata_counts(backend, tmp_path):
    meta = LLMResource(backend=backend).run(AddTask(), ITEMS).metadata()
    assert meta["model_calls"] == 3 and meta["model_failures"] == 0


def test_fault_server_counts_only_prompts_asked_again_after_an_answer(tmp_path):
    with FakeChatServer(respond_sum, script=["500", "malformed"]) as server:
        llm = remote(server, tmp_path, cache_path=None)
        llm.run(AddTask(), ITEMS[:1])  # 500 (retried), malformed (re-asked), then answered
        assert (server.calls, server.faults, server.repeated_after((0, frozenset()))) == (3, 2, 0)
        snapshot = server.snapshot()
        llm.run(AddTask(), ITEMS[:2])  # no cache: item 0 is asked again, item 1 is new
    assert server.repeated_after(snapshot) == 1 and server.calls == 5


def test_secrets_are_the_api_key_and_secret_named_environment_values():
    env = {"MMFOUNDRY_VLM_API_KEY": "vlm-key-123456", "MMFOUNDRY_GCS_TOKEN": "anon", "AWS_SECRET_ACCESS_KEY":
           "aws-secret-abcdef", "MMFOUNDRY_DATA": "/data/long/enough/path", "OPENAI_API_KEY": " sk-openai-xyz "}
    assert secrets("sk-resource-key", env) == ["aws-secret-abcdef", "sk-resource-key", "vlm-key-123456",
                                               "sk-openai-xyz"]  # longest first; "anon" is too short


def test_a_key_quoted_past_the_cut_is_removed_whole_before_the_message_is_cut():
    key = "sk-live-0123456789abcdef"
    error = ValueError("x" * (MAX_OTHER_CHARS - 5) + f" key {key} rejected")
    described = describe_redacted(error, [key])
    assert "sk-live" not in described and "sk-l" not in described[-30:]
    assert redact(f"Bearer {key}; again {key}", [key]) == f"Bearer {REDACTED}; again {REDACTED}"


def test_an_endpoint_quoting_the_key_leaves_the_items_error_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("MMFOUNDRY_JUDGE_API_KEY", "judge-key-7777")
    with FakeChatServer(respond_sum, script=["quote_key"]) as server:
        run = remote(server, tmp_path, api_key="sk-quoted-key-42").run(AddTask(), ITEMS[:2])
    assert server.authorization[0] == "Bearer sk-quoted-key-42"
    assert not run.results[0].ok and f"Incorrect API key provided: {REDACTED}" in run.results[0].error
    assert "sk-quoted" not in run.results[0].error and run.results[1].ok
