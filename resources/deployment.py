"""Resources for the chosen deployment (`MMFOUNDRY_DEPLOYMENT`), built in one place.

`local`: Parquet and media under `.data/`, the embedded offline model backend, CPU.
`prod`: the same graph on s3:// or gs:// with real model endpoints. Endpoints and keys are
`dg.EnvVar`s, resolved when a run starts, so secrets never enter definitions, logs or metadata.
Model roles are separate resources because the recipes use different models per step: `llm` (text:
labels, questions, Q/A), `vlm` (video/image input: annotations, leaderboards), `judge` (LAVE).
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from resources.embeddings import EmbeddingResource
from resources.gpu import GPUResource
from resources.landing import LandingZone
from resources.llm import LLMResource
from resources.settings import ConfigError, Settings, load_settings, storage_options
from resources.storage import MediaStore, ParquetIOManager
from resources.video import VideoTools
from resources.video_source import VideoSource
from resources.warehouse import Warehouse

FINGERPRINT_EXEMPT = "which resources a deployment gets, not what they compute"

MODEL_ROLES = ("llm", "vlm", "judge")
BACKENDS = ("offline", "openai", "gemini")
GPU_LAUNCHES = ("in_process", "pipes")
EXECUTORS = ("multiprocess", "in_process", "celery", "k8s")


def model_resource(role: str, settings: Settings, environ: dict[str, str] | None = None) -> LLMResource:
    """`MMFOUNDRY_<ROLE>_BACKEND` picks the backend (prod default openai, local default offline);
    `_MODEL`, `_BASE_URL`, `_API_KEY` configure it."""
    env = os.environ if environ is None else environ
    prefix = f"MMFOUNDRY_{role.upper()}_"
    default = "openai" if settings.deployment == "prod" else "offline"
    backend = env.get(prefix + "BACKEND", default).strip() or default
    if backend not in BACKENDS:
        raise ConfigError(f"{prefix}BACKEND must be one of {', '.join(BACKENDS)}; got {backend!r}")
    cache = os.path.join(settings.cache_dir, "llm.sqlite")
    if backend == "offline":
        return LLMResource(backend="offline", cache_path=cache)
    # the values stay EnvVars (resolved when a run starts, never stored in the definitions), but a
    # missing one stops the code location with one line instead of failing every run's config
    required = [prefix + v for v in ("MODEL", "API_KEY", *(["BASE_URL"] if backend == "openai" else []))]
    missing = [v for v in required if not env.get(v, "").strip()]
    if missing:
        raise ConfigError(f"{', '.join(missing)} must be set for the {backend} backend of {role} "
                          f"(or set {prefix}BACKEND=offline)")
    common: dict[str, Any] = {
        "backend": backend,
        "model": dg.EnvVar(prefix + "MODEL"),
        "api_key": dg.EnvVar(prefix + "API_KEY"),
        "cache_path": cache,
        "max_concurrency": int(env.get(prefix + "CONCURRENCY", "8")),
    }
    if backend == "openai":
        common["base_url"] = dg.EnvVar(prefix + "BASE_URL")
    return LLMResource(**common)


def gpu_resource(environ: dict[str, str] | None = None) -> GPUResource:
    """`MMFOUNDRY_GPU_DEVICE`, `MMFOUNDRY_TORCH_THREADS` and `MMFOUNDRY_GPU_LAUNCH` (in_process | pipes)."""
    env = os.environ if environ is None else environ
    launch = env.get("MMFOUNDRY_GPU_LAUNCH", "in_process").strip() or "in_process"
    if launch not in GPU_LAUNCHES:
        raise ConfigError(f"MMFOUNDRY_GPU_LAUNCH must be one of {', '.join(GPU_LAUNCHES)}; got {launch!r}")
    return GPUResource(
        device=env.get("MMFOUNDRY_GPU_DEVICE", "auto"),
        threads=int(env.get("MMFOUNDRY_TORCH_THREADS", "0")),
        launch=launch,
    )


def build_executor(environ: dict[str, str] | None = None) -> dg.ExecutorDefinition | None:
    """`MMFOUNDRY_EXECUTOR` spreads a run's steps: `multiprocess` (default: processes on the run's
    host), `in_process`, `celery` (workers on other hosts take steps from `MMFOUNDRY_CELERY_BROKER`,
    results through `MMFOUNDRY_CELERY_BACKEND`; needs the `celery` extra), `k8s` (one pod per step)."""
    env = os.environ if environ is None else environ
    name = env.get("MMFOUNDRY_EXECUTOR", "multiprocess").strip() or "multiprocess"
    if name not in EXECUTORS:
        raise ConfigError(f"MMFOUNDRY_EXECUTOR must be one of {', '.join(EXECUTORS)}; got {name!r}")
    if name == "multiprocess":
        return None
    if name == "in_process":
        return dg.in_process_executor
    if name == "k8s":
        from dagster_k8s import k8s_job_executor

        return k8s_job_executor
    try:
        from dagster_celery import celery_executor
    except ImportError:
        raise ConfigError("MMFOUNDRY_EXECUTOR=celery needs dagster-celery: pip install -e '.[celery]'") from None
    broker = env.get("MMFOUNDRY_CELERY_BROKER", "").strip()
    if not broker:
        raise ConfigError("MMFOUNDRY_CELERY_BROKER must be set for MMFOUNDRY_EXECUTOR=celery, e.g. "
                          "pyamqp://guest@rabbitmq:5672// or redis://redis:6379/0")
    backend = env.get("MMFOUNDRY_CELERY_BACKEND", "").strip() or "rpc://"
    return celery_executor.configured({"broker": broker, "backend": backend})


def build_resources(settings: Settings | None = None) -> dict[str, Any]:
    s = settings or load_settings()
    opts = storage_options(s.data)
    landing = LandingZone(
        root=s.landing,
        storage_options=storage_options(s.landing),
        cache_dir=os.path.join(s.cache_dir, "landing"),
    )
    resources: dict[str, Any] = {
        "io_manager": ParquetIOManager(
            base_path=s.data, warehouse_path=s.warehouse_path, storage_options=opts
        ),
        "media": MediaStore(
            root=s.data.rstrip("/") + "/media",
            cache_dir=os.path.join(s.cache_dir, "media"),
            storage_options=opts,
        ),
        "landing": landing,
        "video_source": VideoSource(
            landing=landing,
            cache_dir=os.path.join(s.cache_dir, "videos"),
            use_ytdlp=os.environ.get("MMFOUNDRY_YTDLP", "0") == "1",
        ),
        "embeddings": EmbeddingResource(model_path=os.environ.get("MMFOUNDRY_EMBEDDING_MODEL") or None),
        "video": VideoTools(),
        "duckdb": Warehouse(database=s.warehouse_path, data_root=s.data, storage_options=opts),
        "gpu": gpu_resource(),
    }
    for role in MODEL_ROLES:
        resources[role] = model_resource(role, s)
    return resources
