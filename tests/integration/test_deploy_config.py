"""The production instance files are valid dagster.yaml (schema, env var sources, importable
launchers), checked without a cluster."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {"DAGSTER_PG_HOST": "db", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USER": "dagster",
       "DAGSTER_PG_PASSWORD": "pw", "DAGSTER_PG_DB": "dagster", "DAGSTER_K8S_NAMESPACE": "data",
       "MMFOUNDRY_LOG_BUCKET": "logs"}


@pytest.mark.parametrize("path", ["deploy/dagster.prod.yaml", "deploy/ecs/dagster.ecs.yaml",
                                  "deploy/dagster.local.yaml"])
def test_instance_yaml_is_valid(path, tmp_path, monkeypatch):
    from dagster._core.instance.config import dagster_instance_config

    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    shutil.copy(ROOT / path, tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))
    if "prod" in path or "ecs" in path:
        assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
        module = config["run_launcher"]["module"]
        __import__(module)
