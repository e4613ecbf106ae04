"""Model-backed steps as `Task`s, run by one resource on any backend (DESIGN principle 4).

A Task says what to ask (`messages`), what shape the answer must have (`response_model` and its
validators, fed by `validation_context`) and how to answer without a model (`offline`, a real,
grounded computation). `LLMResource.run` gives every item exactly one `TaskResult`: a validated
answer or an error string, never an exception that loses the rest of the batch. Answers are cached
by content (backend, model, task name+version, prompt, response schema), so a rerun or a resumed
crash repeats no call; transport failures (429, 5xx, timeouts) retry with jittered exponential
backoff, invalid answers are re-asked through instructor with the validation error.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import dagster as dg
import polars as pl
from pydantic import BaseModel, Field, ValidationError

from resources.llm_cache import ResponseCache

Backend = Literal["offline", "openai", "gemini"]


def canonical_json(obj: Any) -> str:
    def default(o):
        if isinstance(o, BaseModel):
            return o.model_dump(mode="json")
        if hasattr(o, "isoformat"):
            return o.isoformat()
        if isinstance(o, set | frozenset):
            return sorted(o)
        return str(o)

    return json.dumps(obj, sort_keys=True, ensure_ascii=False, default=default, separators=(",", ":"))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Task(ABC):
    """One kind of model call. Subclasses set the class attributes and the two methods."""

    name: ClassVar[str]
    version: ClassVar[str]
    response_model: ClassVar[type[BaseModel]]
    offline_model: ClassVar[str] = "rules"
    temperature: ClassVar[float | None] = None
    max_tokens: ClassVar[int | None] = None
    prompt_modules: ClassVar[tuple[str, ...]] = ()  # modules besides the task's own that build its prompt

    @abstractmethod
    def messages(self, item: Any) -> list[dict[str, Any]]:
        """The chat prompt for `item` (OpenAI message format; content parts allowed)."""

    @abstractmethod
    def offline(self, item: Any) -> BaseModel:
        """A deterministic answer computed from the item itself; no model call."""

    def offline_batch(self, items: Sequence[Any]) -> list[BaseModel | Exception]:
        """Override to batch (embeddings); an exception in the list fails that item only."""
        out: list[BaseModel | Exception] = []
        for item in items:
            try:
                out.append(self.offline(item))
            except Exception as e:  # recorded as that item's error, the batch goes on
                out.append(e)
        return out

    def validation_context(self, item: Any) -> dict[str, Any] | None:
        """What the response model's validators need to judge an answer for this item."""
        return None

    def repair(self, messages: list[dict[str, Any]], error: Exception) -> list[dict[str, Any]] | None:
        """Messages for one more try after an invalid or truncated answer, or None to give up."""
        return None

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def fingerprint(cls) -> str:
        """What every answer depends on besides the item: name, version, response schema and the
        source of the modules that write the prompt and the offline answer. It goes into the code
        version of each asset that runs the task, so editing a prompt or bumping a version marks
        exactly those assets stale; a false alarm costs no model call (answers are cached by prompt)."""
        parts = [cls.name, cls.version, canonical_json(cls.response_model.model_json_schema())]
        for module in (cls.__module__, *cls.prompt_modules):
            parts.append(inspect.getsource(sys.modules[module]))
        return sha256_text("\x1f".join(parts))[:10]


def task_code_version(base: str, *tasks: type[Task]) -> str:
    """An asset's code version: its own logic (`base`) plus the fingerprint of each Task it runs."""
    return "-".join([base, *(t.fingerprint() for t in tasks)])


@dataclass
class TaskResult:
    value: BaseModel | None
    error: str | None
    backend: str
    model: str
    task_name: str
    task_version: str
    prompt_sha: str
    cached: bool = False
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def provenance(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model,
            "task_name": self.task_name,
            "task_version": self.task_version,
            "prompt_sha": self.prompt_sha,
            "cached": self.cached,
            "attempts": self.attempts,
            "error": self.error,
        }


@dataclass
class TaskRun:
    results: list[TaskResult]
    calls: int = 0
    cache_hits: int = 0
    failed: int = 0
    seconds: float = 0.0
    errors: dict[str, int] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """What a person wants to see in the UI about the model work of a step."""
        return {
            "model_calls": self.calls,
            "cache_hits": self.cache_hits,
            "model_failures": self.failed,
            "model_seconds": round(self.seconds, 2),
            **({"model_errors": dg.MetadataValue.json(self.errors)} if self.errors else {}),
        }

    def provenance_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            [r.provenance() for r in self.results],
            schema={
                "backend": pl.String, "model": pl.String, "task_name": pl.String,
                "task_version": pl.String, "prompt_sha": pl.String, "cached": pl.Boolean,
                "attempts": pl.Int32, "error": pl.String,
            },
        )


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


def _describe(e: BaseException) -> str:
    cause = e.__cause__
    root = cause if cause is not None else e
    text = str(root).strip().splitlines()[0] if str(root).strip() else ""
    return f"{type(root).__name__}: {text[:300]}"


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
        model = self._model_label(task)
        keys, prompts = [], []
        for item in items:
            prompt_sha, cache_key = self._keys(task, item, model)
            prompts.append(prompt_sha)
            keys.append(cache_key)

        results: list[TaskResult | None] = [None] * len(items)
        todo: list[int] = []
        for i, key in enumerate(keys):
            hit = cache.get(key) if cache else None
            if hit is not None:
                try:
                    value = task.response_model.model_validate_json(
                        hit, context=task.validation_context(items[i])
                    )
                    results[i] = self._result(task, model, prompts[i], value=value, cached=True)
                    continue
                except ValidationError:
                    pass  # a cached answer that no longer validates is asked again
            todo.append(i)

        run = TaskRun(results=[], cache_hits=len(items) - len(todo))
        lock = threading.Lock()

        def record(i: int, answer: tuple[BaseModel | None, str | None, int]) -> None:
            # each answer is cached the moment it exists: a run killed mid-step loses none
            value, error, calls = answer
            if value is not None and cache:
                cache.put(keys[i], task.key, self.backend, model, prompts[i], value.model_dump_json())
            with lock:
                run.calls += calls
                results[i] = self._result(task, model, prompts[i], value=value, error=error, attempts=calls)

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
                    list(pool.map(lambda i: record(i, self._ask(client, task, items[i], counter)), todo))
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

    def _model_label(self, task: Task) -> str:
        if self.backend == "offline":
            return f"offline:{task.offline_model}"
        return self.model

    def _keys(self, task: Task, item: Any, model: str) -> tuple[str, str]:
        messages = canonical_json(task.messages(item))
        prompt_sha = sha256_text(messages)
        schema = canonical_json(task.response_model.model_json_schema())
        parts = [self.backend, model, task.name, task.version, prompt_sha, sha256_text(schema)]
        if self.backend == "offline":
            # offline answers may use item fields the prompt leaves out (measured signals)
            parts.append(sha256_text(canonical_json(item)))
        return prompt_sha, sha256_text("\x1f".join(parts))

    def _result(self, task: Task, model: str, prompt_sha: str, *, value=None, error=None,
                cached=False, attempts=0) -> TaskResult:
        return TaskResult(
            value=value, error=error, backend=self.backend, model=model, task_name=task.name,
            task_version=task.version, prompt_sha=prompt_sha, cached=cached, attempts=attempts,
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
                out.append((None, _describe(e), 1))
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

    def _ask(self, client, task: Task, item: Any, counter) -> tuple[BaseModel | None, str | None, int]:
        counter.n = 0
        value, error = self._ask_until_done(client, task, item)
        return value, error, counter.n

    def _ask_until_done(self, client, task: Task, item: Any) -> tuple[BaseModel | None, str | None]:
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
                return None, _describe(e)

    def _backoff(self, attempt: int) -> float:
        import random

        ceiling = min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

