"""The environment contract shared by the demo, the tests and users.

Three variables choose everything: the deployment, the storage root and the landing zone. They are
read in one place so that a bad value fails with one clear line instead of deep inside a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

FINGERPRINT_EXEMPT = "deployment settings: where things live, not what they are"

DEPLOYMENTS = ("local", "prod")
REMOTE_SCHEMES = ("s3://", "gs://", "gcs://")


class ConfigError(ValueError):
    """A setting a person must fix; its message is the whole story, on one line."""


def is_remote(uri: str) -> bool:
    return uri.startswith(REMOTE_SCHEMES)


def _absolute(uri: str) -> str:
    return uri if is_remote(uri) else str(Path(uri).expanduser().resolve())


@dataclass(frozen=True)
class Settings:
    deployment: str
    data: str
    landing: str

    @property
    def warehouse_path(self) -> str:
        """DuckDB is a local file even when the data lives in object storage."""
        override = os.environ.get("MMFOUNDRY_WAREHOUSE")
        if override:
            return _absolute(override)
        if is_remote(self.data):
            return _absolute(".data/warehouse.duckdb")
        return str(Path(self.data) / "warehouse.duckdb")

    @property
    def cache_dir(self) -> str:
        """Response and embedding caches are SQLite files, which need a local disk."""
        override = os.environ.get("MMFOUNDRY_CACHE")
        if override:
            return _absolute(override)
        if is_remote(self.data):
            return _absolute(".data/cache")
        return str(Path(self.data) / "cache")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    deployment = env.get("MMFOUNDRY_DEPLOYMENT", "local").strip() or "local"
    if deployment not in DEPLOYMENTS:
        raise ConfigError(
            f"MMFOUNDRY_DEPLOYMENT must be one of {', '.join(DEPLOYMENTS)}; got {deployment!r}"
        )
    data = env.get("MMFOUNDRY_DATA", "").strip() or ".data"
    if "://" in data and not is_remote(data):
        raise ConfigError(f"MMFOUNDRY_DATA must be a local path, s3://... or gs://...; got {data!r}")
    data = _absolute(data)
    landing = env.get("MMFOUNDRY_LANDING", "").strip() or (data.rstrip("/") + "/landing")
    if "://" in landing and not is_remote(landing):
        raise ConfigError(
            f"MMFOUNDRY_LANDING must be a local path, s3://... or gs://...; got {landing!r}"
        )
    return Settings(deployment=deployment, data=data, landing=_absolute(landing))
