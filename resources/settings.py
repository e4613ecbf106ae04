"""The environment contract shared by the demo, the tests and users.

Three variables choose everything: the deployment, the storage root and the landing zone. They are
read in one place so that a bad value fails with one clear line instead of deep inside a run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FINGERPRINT_EXEMPT = "deployment settings: where things live, not what they are"

DEPLOYMENTS = ("local", "prod")
# how often pool-wide fan-ins may refresh (sensors/automation.py): in prod hourly, locally at once
RELEASE_CRON_DEFAULTS = {"local": None, "prod": "0 * * * *"}
REMOTE_SCHEMES = ("s3://", "gs://", "gcs://")


class ConfigError(ValueError):
    """A setting a person must fix; its message is the whole story, on one line."""


def is_remote(uri: str) -> bool:
    return uri.startswith(REMOTE_SCHEMES)


def _absolute(uri: str) -> str:
    return uri if is_remote(uri) else str(Path(uri).expanduser().resolve())


def storage_options(uri: str, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """fsspec options for object storage. Credentials and region come from each client's own chain
    (AWS_* variables, profile or instance role; GOOGLE_APPLICATION_CREDENTIALS or the metadata server);
    only a non-default server needs ours: `MMFOUNDRY_S3_ENDPOINT_URL` (MinIO, moto),
    `MMFOUNDRY_GCS_ENDPOINT_URL` and `MMFOUNDRY_GCS_TOKEN` (an emulator: `anon`)."""
    env = os.environ if environ is None else environ
    if not is_remote(uri):
        return {}
    # no cached directory listings: another host (a worker, the sensor) adds objects under a prefix
    # this process has listed, and a stale listing makes a file just written look missing
    opts: dict[str, Any] = {"use_listings_cache": False}
    if uri.startswith("s3://"):
        if env.get("MMFOUNDRY_S3_ENDPOINT_URL"):
            opts["endpoint_url"] = env["MMFOUNDRY_S3_ENDPOINT_URL"]
    elif uri.startswith(("gs://", "gcs://")):
        if env.get("MMFOUNDRY_GCS_ENDPOINT_URL"):
            opts["endpoint_url"] = env["MMFOUNDRY_GCS_ENDPOINT_URL"]
        if env.get("MMFOUNDRY_GCS_TOKEN"):
            opts["token"] = env["MMFOUNDRY_GCS_TOKEN"]
    return opts


@dataclass(frozen=True)
class Settings:
    deployment: str
    data: str
    landing: str
    warehouse: str | None = None  # MMFOUNDRY_WAREHOUSE; required when `data` is remote
    cache: str | None = None  # MMFOUNDRY_CACHE
    release_cron: str | None = None  # MMFOUNDRY_RELEASE_CRON; None: pool-wide fan-ins refresh at once

    @property
    def warehouse_path(self) -> str:
        """DuckDB is a local file even when the data lives in object storage; for remote data it is a
        per-host catalogue of views over the Parquet there, so its place is always named explicitly."""
        if self.warehouse:
            return self.warehouse
        return str(Path(self.data) / "warehouse.duckdb")

    @property
    def cache_dir(self) -> str:
        """Response and embedding caches are SQLite files, which need a local disk: beside the
        warehouse when the data is remote."""
        if self.cache:
            return self.cache
        if is_remote(self.data):
            return str(Path(self.warehouse_path).parent / "cache")
        return str(Path(self.data) / "cache")

    @property
    def storage_options(self) -> dict[str, Any]:
        return storage_options(self.data)


def _checked_uri(name: str, value: str) -> str:
    if "://" in value and not is_remote(value):
        raise ConfigError(f"{name} must be a local path, s3://... or gs://...; got {value!r}")
    return _absolute(value)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    deployment = env.get("MMFOUNDRY_DEPLOYMENT", "local").strip() or "local"
    if deployment not in DEPLOYMENTS:
        raise ConfigError(
            f"MMFOUNDRY_DEPLOYMENT must be one of {', '.join(DEPLOYMENTS)}; got {deployment!r}"
        )
    data = _checked_uri("MMFOUNDRY_DATA", env.get("MMFOUNDRY_DATA", "").strip() or ".data")
    landing = _checked_uri("MMFOUNDRY_LANDING",
                           env.get("MMFOUNDRY_LANDING", "").strip() or (data.rstrip("/") + "/landing"))
    warehouse = env.get("MMFOUNDRY_WAREHOUSE", "").strip() or None
    if warehouse and is_remote(warehouse):
        raise ConfigError(f"MMFOUNDRY_WAREHOUSE must be a local file path (DuckDB writes a local file); "
                          f"got {warehouse!r}")
    if warehouse is None and is_remote(data):
        raise ConfigError(f"MMFOUNDRY_WAREHOUSE must be set when MMFOUNDRY_DATA is remote ({data}): a local "
                          "DuckDB file for this host's views, e.g. /var/lib/mmfoundry/warehouse.duckdb")
    cache = env.get("MMFOUNDRY_CACHE", "").strip() or None
    return Settings(deployment=deployment, data=data, landing=landing,
                    warehouse=_absolute(warehouse) if warehouse else None,
                    cache=_absolute(cache) if cache else None,
                    release_cron=_release_cron(env.get("MMFOUNDRY_RELEASE_CRON", "").strip(), deployment))


def _release_cron(value: str, deployment: str) -> str | None:
    """`eager` (refresh at once), a cron string, or empty for the deployment's default."""
    from dagster._utils.schedules import is_valid_cron_string

    if not value:
        return RELEASE_CRON_DEFAULTS[deployment]
    if value == "eager":
        return None
    if not is_valid_cron_string(value):
        raise ConfigError(f"MMFOUNDRY_RELEASE_CRON must be a cron string (e.g. '0 * * * *') or 'eager'; got {value!r}")
    return value
