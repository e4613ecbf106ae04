"""Model-backed steps as `Task`s (DESIGN principle 4): the pure half, with no Dagster import.

A Task says what to ask (`messages`), what shape the answer must have (`response_model` and its
validators, fed by `validation_context`) and how to answer without a model (`offline`, a real,
grounded computation). `resources/llm.py` runs Tasks on a backend; this module holds what an
answer's identity is made of, so pure modules can define Tasks and tests can reason about cache
keys without Dagster.

An answer depends on more than its prompt. `identity(backend, model)` is the hash of everything
else it depends on: for a remote model the model name, the sampling settings and the response
schema; for the offline backend also the source of every project module the task's own module
reaches (its offline method and whatever it calls), the offline model actually used and the
task's `config()`. The cache key includes it, so editing an offline method without bumping
`version` can never return the old answer.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from assets.kit.fingerprint import source_fingerprint


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

    def config(self) -> dict[str, Any]:
        """Settings of this instance that change offline answers (thresholds, k, the encoder)."""
        return {}

    def offline_model_used(self) -> str:
        """The model the offline method really runs (an embedding model chosen by env, say)."""
        return self.offline_model

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def fingerprint(cls) -> str:
        """The task's code: name, version, response schema and the source closure of its module.
        It enters the code version of each asset that runs the task, so editing a prompt, a
        validator or an offline method marks exactly those assets stale."""
        return source_fingerprint([cls.__module__], cls.name, cls.version,
                                  canonical_json(cls.response_model.model_json_schema()))

    def model_label(self, backend: str, model: str) -> str:
        return f"offline:{self.offline_model_used()}" if backend == "offline" else model

    def identity(self, backend: str, model: str, settings: dict[str, Any] | None = None) -> str:
        """Everything besides the prompt and the item that an answer on `backend` depends on."""
        parts: dict[str, Any] = {
            "backend": backend, "model": self.model_label(backend, model), "task": self.key,
            "schema": sha256_text(canonical_json(self.response_model.model_json_schema())),
            "temperature": self.temperature, "max_tokens": self.max_tokens, **(settings or {}),
        }
        if backend == "offline":
            parts["code"] = self.fingerprint()
            parts["config"] = self.config()
        return sha256_text(canonical_json(parts))[:16]


@dataclass
class TaskResult:
    value: BaseModel | None
    error: str | None
    backend: str
    model: str
    task_name: str
    task_version: str
    prompt_sha: str
    fingerprint: str
    cached: bool = False
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def model_entry(self, role: str) -> dict[str, str]:
        """This answer's entry in a row's `models` list (the provenance contract)."""
        return {"role": role, "backend": self.backend, "model": self.model,
                "task_version": f"{self.task_name}@{self.task_version}", "prompt_sha": self.prompt_sha,
                "fingerprint": self.fingerprint}


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
            **({"model_errors": dict(self.errors)} if self.errors else {}),
        }

    def errors_list(self) -> list[str | None]:
        return [r.error for r in self.results]

    def model_entries(self, role: str) -> list[list[dict[str, str]]]:
        """Per item, the one-entry `models` list for the provenance contract."""
        return [[r.model_entry(role)] for r in self.results]
