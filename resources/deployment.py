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
from dagster_duckdb import DuckDBResource

from resources.embeddings import EmbeddingResource
from resources.gpu import GPUResource
from resources.landing import LandingZone
from resources.llm import LLMResource
from resources.settings import ConfigError, Settings, load_settings
from resources.storage import MediaStore, ParquetIOManager
from resources.video import VideoTools
from resources.video_source import VideoSource

FINGERPRINT_EXEMPT = "which resources a deployment gets, not what they compute"

MODEL_ROLES = ("llm", "vlm", "judge")
BACKENDS = ("offline", "openai", "gemini")
GPU_LAUNCHES = ("in_process", "pipes")


def storage_options(uri: str) -> dict[str, Any]:
    """fsspec options for object storage; only a custom S3 endpoint (MinIO, moto) needs any."""
    endpoint = os.environ.get("MMFOUNDRY_S3_ENDPOINT_URL")
    if uri.startswith("s3://") and endpoint:
        return {"endpoint_url": endpoint}
    return {}


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
        "duckdb": DuckDBResource(database=s.warehouse_path),
        "gpu": gpu_resource(),
    }
    for role in MODEL_ROLES:
        resources[role] = model_resource(role, s)
    return resources
