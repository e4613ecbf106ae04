"""`prod` builds from env vars alone: object storage, real endpoints, keys as EnvVars; a missing
variable stops with one line naming it before any step starts."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from definitions import build_definitions
from resources.settings import ConfigError

ROOT = Path(__file__).resolve().parents[2]

SECRET = "sk-dummy-never-shown"


@pytest.mark.parametrize("data", ["s3://bucket/mmf", "gs://bucket/mmf"])
def test_prod_definitions_build_and_resolve_env_vars(monkeypatch, tmp_path, data):
    monkeypatch.chdir(tmp_path)
    env = {
        "MMFOUNDRY_DEPLOYMENT": "prod", "MMFOUNDRY_DATA": data,
        "MMFOUNDRY_WAREHOUSE": str(tmp_path / "wh" / "warehouse.duckdb"),
        "MMFOUNDRY_LLM_MODEL": "meta-llama/Llama-3.1-70B-Instruct",
        "MMFOUNDRY_LLM_BASE_URL": "http://tgi.internal:8080/v1", "MMFOUNDRY_LLM_API_KEY": SECRET,
        "MMFOUNDRY_VLM_BACKEND": "gemini", "MMFOUNDRY_VLM_MODEL": "gemini-1.5-pro",
        "MMFOUNDRY_VLM_API_KEY": SECRET,
        "MMFOUNDRY_JUDGE_MODEL": "gpt-4o", "MMFOUNDRY_JUDGE_BASE_URL": "https://api.openai.com/v1",
        "MMFOUNDRY_JUDGE_API_KEY": SECRET,
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)
    assert defs.resources["io_manager"].base_path == data
    assert defs.resources["landing"].root == data + "/landing"
    assert defs.resources["duckdb"].database == env["MMFOUNDRY_WAREHOUSE"]
    assert defs.resources["duckdb"].data_root == data
    assert defs.resources["llm"].cache_path == str(tmp_path / "wh" / "cache" / "llm.sqlite")
    # the secret is not in the definitions, only the name of the variable that holds it
    assert SECRET not in repr(defs.resources["llm"])
    with dg.build_resources({k: defs.resources[k] for k in ("llm", "vlm", "judge")}) as r:
        assert (r.llm.backend, r.llm.model, r.llm.base_url) == ("openai", env["MMFOUNDRY_LLM_MODEL"],
                                                               env["MMFOUNDRY_LLM_BASE_URL"])
        assert r.llm.api_key == SECRET
        assert (r.vlm.backend, r.vlm.model) == ("gemini", "gemini-1.5-pro")
        assert r.judge.base_url == "https://api.openai.com/v1"


def test_prod_without_the_endpoint_variables_stops_with_one_line(monkeypatch, tmp_path):
    """Checked when the code location loads, not when a run resolves its config (a multi-error trace
    per run): the values themselves stay EnvVars."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MMFOUNDRY_DEPLOYMENT", "prod")
    monkeypatch.setenv("MMFOUNDRY_DATA", "s3://bucket/mmf")
    monkeypatch.setenv("MMFOUNDRY_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("MMFOUNDRY_LLM_MODEL", "m")
    for k in ("MMFOUNDRY_LLM_BASE_URL", "MMFOUNDRY_LLM_API_KEY"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(ConfigError) as err:
        build_definitions()
    assert str(err.value) == ("MMFOUNDRY_LLM_API_KEY, MMFOUNDRY_LLM_BASE_URL must be set for the openai backend "
                              "of llm (or set MMFOUNDRY_LLM_BACKEND=offline)")


def test_remote_data_without_a_warehouse_location_stops_with_one_line(monkeypatch, tmp_path):
    """With data in a bucket the DuckDB file is never silently `.data/warehouse.duckdb` in the cwd."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MMFOUNDRY_DATA", "gs://bucket/mmf")
    monkeypatch.delenv("MMFOUNDRY_WAREHOUSE", raising=False)
    with pytest.raises(ConfigError, match=r"^MMFOUNDRY_WAREHOUSE must be set when MMFOUNDRY_DATA is remote "
                                          r"\(gs://bucket/mmf\)"):
        build_definitions()
    assert not (tmp_path / ".data").exists()


def test_the_demo_prints_the_missing_endpoint_variable_on_one_line_before_any_step(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMFOUNDRY_")}
    env.update({"DAGSTER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), "MMFOUNDRY_DEPLOYMENT": "prod",
                "MMFOUNDRY_DATA": "s3://bucket/mmf", "MMFOUNDRY_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
                "MMFOUNDRY_LLM_BACKEND": "offline", "MMFOUNDRY_VLM_BACKEND": "offline",
                "MMFOUNDRY_JUDGE_MODEL": "gpt-4o", "MMFOUNDRY_JUDGE_API_KEY": "k"})
    proc = subprocess.run([sys.executable, "-m", "scripts.demo"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("demo: error: MMFOUNDRY_JUDGE_BASE_URL must be set for the openai backend of "
                                   "judge (or set MMFOUNDRY_JUDGE_BACKEND=offline)")
    assert "materializing" not in proc.stdout and not (tmp_path / "home" / "storage").exists()


@pytest.mark.parametrize("env, expected", [
    ({}, None), ({"MMFOUNDRY_EXECUTOR": "in_process"}, "in_process"), ({"MMFOUNDRY_EXECUTOR": "k8s"}, "k8s"),
    ({"MMFOUNDRY_EXECUTOR": "celery", "MMFOUNDRY_CELERY_BROKER": "pyamqp://guest@mq:5672//"}, "celery"),
])
def test_the_executor_follows_mmfoundry_executor(env, expected):
    from resources.deployment import build_executor

    executor = build_executor(env)
    assert (executor.name if executor is not None else None) == expected


@pytest.mark.parametrize("env, message", [
    ({"MMFOUNDRY_EXECUTOR": "dask"}, "MMFOUNDRY_EXECUTOR must be one of multiprocess, in_process, celery, k8s; got 'dask'"),
    ({"MMFOUNDRY_EXECUTOR": "celery"}, "MMFOUNDRY_CELERY_BROKER must be set for MMFOUNDRY_EXECUTOR=celery"),
])
def test_a_bad_executor_setting_is_one_line(env, message):
    from resources.deployment import build_executor

    with pytest.raises(ConfigError) as err:
        build_executor(env)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
