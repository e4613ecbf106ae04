"""The resource that runs `Task`s (assets/kit/task.py) on any backend (DESIGN principle 4).

`LLMResource.run` gives every item exactly one `TaskResult`: a validated answer or an error string,
never an exception that loses the rest of the batch. Answers are cached by content: the prompt,
the item (offline) and the task's `identity` (model, schema, sampling settings and, offline, the
source of the offline method and its config), so a rerun or a resumed crash repeats no call and an
edited method never returns a stale answer; transport failures (429, 5xx, timeouts) retry with
jittered exponential backoff, invalid answers are re-asked through instructor with the validation
error.

An endpoint's error can quote the request (a gateway that rejects a key may echo it), and an error
becomes a stored row (`raw_qa.error`, a rejection's `detail`) and a log line. So every error is
redacted of the secrets this process knows (the resource's `api_key` and the values of the
environment variables that hold keys, tokens and passwords) before it is cut to length, so not
even the start of a key survives.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import dagster as dg
from pydantic import BaseModel, Field, ValidationError

from assets.kit.errors import MAX_OTHER_CHARS, describe_error
from assets.kit.task import Task, TaskResult, TaskRun, canonical_json, sha256_text
from resources.llm_cache import ResponseCache

FINGERPRINT_EXEMPT = "transport, retries and caching: they never change an answer"
OFFLINE_ERROR = "\x00offline-error:"  # a cached offline failure (never valid JSON, so never an answer)

Backend = Literal["offline", "openai", "gemini"]
REDACTED = "[redacted]"
# environment variables whose values are secrets: the model keys (MMFOUNDRY_<ROLE>_API_KEY), storage
# tokens (MMFOUNDRY_GCS_TOKEN) and the SDKs' own (OPENAI_API_KEY, AWS_SECRET_ACCESS_KEY, ...)
SECRET_ENV = re.compile(r"(_KEY$|SECRET|TOKEN|PASSWORD|CREDENTIAL)", re.IGNORECASE)
MIN_SECRET_CHARS = 8  # shorter values ("anon", "1") are settings, and replacing them would garble text


class TransientError(Exception):
    """A failure worth retrying after a pause: rate limit, server error, timeout, dropped link."""


def _status_of(e: BaseException) -> int | None:
    for attr in ("status_code", "code", "status"):
        v = getattr(e, attr, None)
        if isinstance(v, int):
            return v
    resp = getattr(e, "response", None)
    v = getattr(resp, "status_code", None)
    return v if isinstance(v, int) else None


def is_transient(e: BaseException) -> bool:
    import openai

    cause = e.__cause__ if e.__cause__ is not None and not isinstance(e, openai.APIError) else e
    for err in (e, cause):
        if isinstance(
            err,
            openai.RateLimitError | openai.APITimeoutError | openai.APIConnectionError
            | TimeoutError | ConnectionError,
        ):
            return True
        status = _status_of(err)
        if status is not None and (status == 429 or status == 408 or status >= 500):
            return True
    return False


def secrets(api_key: str | None = None, environ: dict[str, str] | None = None) -> list[str]:
    """The values no error may carry: `api_key` and every secret-named environment variable's,
    longest first (a key that contains another is replaced whole)."""
    env = os.environ if environ is None else environ
    found = {v.strip() for k, v in env.items() if SECRET_ENV.search(k)} | {(api_key or "").strip()}
    return sorted((v for v in found if len(v) >= MIN_SECRET_CHARS), key=len, reverse=True)


def redact(text: str, hidden: Sequence[str]) -> str:
    for value in hidden:
        text = text.replace(value, REDACTED)
    return text


def describe_redacted(e: BaseException, hidden: Sequence[str] = ()) -> str:
    """The row's error (assets/kit/errors.py): a validation error's count and first message in full,
    another error's first line, redacted before it is cut to length."""
    root = e.__cause__ if e.__cause__ is not None else e
    if isinstance(root, ValidationError):
        return redact(describe_error(root), hidden)
    lines = redact(str(root).strip(), hidden).splitlines()
    return f"{type(root).__name__}: {lines[0][:MAX_OTHER_CHARS] if lines else ''}"


class LLMResource(dg.ConfigurableResource):
    """Runs Tasks on the configured backend; the default `offline` backend needs no network."""

    backend: Backend = "offline"
    model: str = Field(default="", description="Model name on the server (ignored offline).")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint (TGI, vLLM).")
    api_key: str | None = Field(default=None, description="Pass as dg.EnvVar; never logged.")
    mode: Literal["json", "md_json", "tools", "json_schema"] = "json"
    max_concurrency: int = 8
    max_attempts: int = Field(default=5, description="Tries per item for transient failures.")
    validation_retries: int = Field(default=2, description="Re-asks after an invalid answer.")
    timeout_s: float = 120.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    cache_path: str | None = Field(default=None, description="SQLite response cache; None disables.")
    offline_chunk: int = Field(default=64, description="Offline items computed (and cached) per batch.")

    # -- public -----------------------------------------------------------------------------------

    def run(self, task: Task, items: Sequence[Any], log=None) -> TaskRun:
        start = time.perf_counter()
        cache = ResponseCache(self.cache_path) if self.cache_path else None
        model = task.model_label(self.backend, self.model)
        identity = task.identity(self.backend, self.model, {"mode": self.mode} if self.backend != "offline" else None)
        keys, prompts = [], []
        for item in items:
            prompt_sha, cache_key = self._keys(task, item, identity)
            prompts.append(prompt_sha)
            keys.append(cache_key)

        results: list[TaskResult | None] = [None] * len(items)
        todo: list[int] = []
        for i, key in enumerate(keys):
            hit = cache.get(key) if cache else None
            if hit is not None and hit.startswith(OFFLINE_ERROR):
                results[i] = self._result(task, model, identity, prompts[i], error=hit[len(OFFLINE_ERROR):],
                                          cached=True)
                continue
            if hit is not None:
                try:
                    value = task.response_model.model_validate_json(
                        hit, context=task.validation_context(items[i])
                    )
                    results[i] = self._result(task, model, identity, prompts[i], value=value, cached=True)
                    continue
                except ValidationError:
                    pass  # a cached answer that no longer validates is asked again
            todo.append(i)

        run = TaskRun(results=[], cache_hits=len(items) - len(todo))
        lock = threading.Lock()
        hidden = secrets(self.api_key)

        def record(i: int, answer: tuple[BaseModel | None, str | None, int]) -> None:
            # each answer is cached the moment it exists: a run killed mid-step loses none
            value, error, calls = answer
            error = None if error is None else redact(error, hidden)
            if value is not None and cache:
                cache.put(keys[i], task.key, self.backend, model, prompts[i], value.model_dump_json())
            elif error is not None and cache and self.backend == "offline":
                # an offline failure is as deterministic as an answer: its key already holds the
                # method's source, so an edit asks again and an unchanged rerun does not
                cache.put(keys[i], task.key, self.backend, model, prompts[i], OFFLINE_ERROR + error)
            with lock:
                run.calls += calls
                results[i] = self._result(task, model, identity, prompts[i], value=value, error=error, attempts=calls)

        try:
            if todo and self.backend == "offline":
                for start_at in range(0, len(todo), self.offline_chunk):
                    chunk = todo[start_at : start_at + self.offline_chunk]
                    for i, answer in zip(chunk, self._run_offline(task, [items[i] for i in chunk]),
                                         strict=True):
                        record(i, answer)
            elif todo:
                client = self._client()
                counter = threading.local()
                # every HTTP request, validation re-asks included, counts as a model call
                client.on("completion:kwargs",
                          lambda *a, **k: setattr(counter, "n", getattr(counter, "n", 0) + 1))
                with ThreadPoolExecutor(max_workers=max(1, self.max_concurrency)) as pool:
                    list(pool.map(lambda i: record(i, self._ask(client, task, items[i], counter, hidden)), todo))
        finally:
            if cache:
                cache.close()

        run.results = [r for r in results if r is not None]
        run.failed = sum(1 for r in run.results if not r.ok)
        for r in run.results:
            if r.error:
                kind = r.error.split(":", 1)[0]
                run.errors[kind] = run.errors.get(kind, 0) + 1
        run.seconds = time.perf_counter() - start
        if log is not None and run.failed:
            log.warning(f"{task.key}: {run.failed}/{len(items)} items failed: {run.errors}")
        return run

    # -- keys and labels --------------------------------------------------------------------------

    def _keys(self, task: Task, item: Any, identity: str) -> tuple[str, str]:
        prompt_sha = sha256_text(canonical_json(task.messages(item)))
        parts = [identity, prompt_sha]
        if self.backend == "offline":
            # offline answers may use item fields the prompt leaves out (measured signals)
            parts.append(sha256_text(canonical_json(item)))
        return prompt_sha, sha256_text("\x1f".join(parts))

    def _result(self, task: Task, model: str, identity: str, prompt_sha: str, *, value=None, error=None,
                cached=False, attempts=0) -> TaskResult:
        return TaskResult(
            value=value, error=error, backend=self.backend, model=model, task_name=task.name,
            task_version=task.version, prompt_sha=prompt_sha, fingerprint=identity, cached=cached,
            attempts=attempts,
        )

    # -- offline ----------------------------------------------------------------------------------

    def _run_offline(self, task: Task, items: list[Any]) -> list[tuple[BaseModel | None, str | None, int]]:
        out = []
        for item, value in zip(items, task.offline_batch(items), strict=True):
            if isinstance(value, Exception):
                out.append((None, f"{type(value).__name__}: {value}", 1))
                continue
            try:  # offline answers pass the same validators as a model's
                checked = task.response_model.model_validate(
                    value.model_dump(), context=task.validation_context(item)
                )
                out.append((checked, None, 1))
            except ValidationError as e:
                out.append((None, describe_redacted(e), 1))
        return out

    # -- remote -----------------------------------------------------------------------------------

    def _client(self):
        import instructor

        if self.backend == "openai":
            from openai import OpenAI

            mode = {
                "json": instructor.Mode.JSON, "md_json": instructor.Mode.MD_JSON,
                "tools": instructor.Mode.TOOLS, "json_schema": instructor.Mode.JSON_SCHEMA,
            }[self.mode]
            raw = OpenAI(base_url=self.base_url, api_key=self.api_key or "unused",
                         timeout=self.timeout_s, max_retries=0)
            return instructor.from_openai(raw, mode=mode)
        if self.backend == "gemini":
            from google import genai

            return instructor.from_genai(
                genai.Client(api_key=self.api_key), mode=instructor.Mode.GENAI_STRUCTURED_OUTPUTS
            )
        raise ValueError(f"unknown LLM backend {self.backend!r}")

    def _ask(self, client, task: Task, item: Any, counter, hidden: Sequence[str]
             ) -> tuple[BaseModel | None, str | None, int]:
        counter.n = 0
        value, error = self._ask_until_done(client, task, item, hidden)
        return value, error, counter.n

    def _ask_until_done(self, client, task: Task, item: Any, hidden: Sequence[str]
                        ) -> tuple[BaseModel | None, str | None]:
        from instructor.core.exceptions import IncompleteOutputException

        messages = task.messages(item)
        context = task.validation_context(item)
        attempts, repaired = 0, False
        while True:
            attempts += 1
            try:
                value = client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    response_model=task.response_model,
                    max_retries=self.validation_retries,
                    context=context,
                    **({"temperature": task.temperature} if task.temperature is not None else {}),
                    **({"max_tokens": task.max_tokens} if task.max_tokens is not None else {}),
                )
                return value, None
            except Exception as e:
                if is_transient(e) and attempts < self.max_attempts:
                    time.sleep(self._backoff(attempts))
                    continue
                truncated = isinstance(e, IncompleteOutputException) or isinstance(
                    e.__cause__, IncompleteOutputException)
                invalid = truncated or isinstance(e.__cause__, ValidationError | json.JSONDecodeError)
                if invalid and not repaired:
                    fixed = task.repair(messages, e)
                    if fixed is not None:
                        messages, repaired = fixed, True
                        continue
                return None, describe_redacted(e, hidden)

    def _backoff(self, attempt: int) -> float:
        import random

        ceiling = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

