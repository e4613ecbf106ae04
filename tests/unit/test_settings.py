import pytest

from resources.deployment import build_resources, model_resource
from resources.settings import ConfigError, load_settings


def test_defaults_are_local_and_under_dot_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings({})
    assert s.deployment == "local"
    assert s.data == str(tmp_path / ".data")
    assert s.landing == str(tmp_path / ".data" / "landing")
    assert s.warehouse_path == str(tmp_path / ".data" / "warehouse.duckdb")


def test_remote_data_needs_an_explicit_local_warehouse_and_caches_beside_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"MMFOUNDRY_DEPLOYMENT": "prod", "MMFOUNDRY_DATA": "s3://bucket/mmf"}
    with pytest.raises(ConfigError, match="MMFOUNDRY_WAREHOUSE must be set when MMFOUNDRY_DATA is remote"):
        load_settings(env)
    s = load_settings({**env, "MMFOUNDRY_WAREHOUSE": str(tmp_path / "wh" / "warehouse.duckdb")})
    assert s.data == "s3://bucket/mmf" and s.landing == "s3://bucket/mmf/landing"
    assert s.warehouse_path == str(tmp_path / "wh" / "warehouse.duckdb")
    assert s.cache_dir == str(tmp_path / "wh" / "cache")
    assert not (tmp_path / ".data").exists()


@pytest.mark.parametrize(
    "env, message",
    [
        ({"MMFOUNDRY_DEPLOYMENT": "staging"}, "MMFOUNDRY_DEPLOYMENT must be one of local, prod; got 'staging'"),
        ({"MMFOUNDRY_DATA": "ftp://host/x"}, "MMFOUNDRY_DATA must be a local path, s3://... or gs://...; got 'ftp://host/x'"),
        ({"MMFOUNDRY_LANDING": "http://x/y"}, "MMFOUNDRY_LANDING must be a local path"),
        ({"MMFOUNDRY_RELEASE_CRON": "hourly"}, "MMFOUNDRY_RELEASE_CRON must be a cron string"),
    ],
)
def test_bad_values_fail_with_one_clear_line(env, message):
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_release_schedule_is_hourly_in_prod_at_once_locally_and_settable(tmp_path):
    local = {"MMFOUNDRY_DATA": str(tmp_path)}
    prod = {**local, "MMFOUNDRY_DEPLOYMENT": "prod"}
    assert load_settings(local).release_cron is None
    assert load_settings(prod).release_cron == "0 * * * *"
    assert load_settings({**prod, "MMFOUNDRY_RELEASE_CRON": "eager"}).release_cron is None
    assert load_settings({**local, "MMFOUNDRY_RELEASE_CRON": "0 3 * * *"}).release_cron == "0 3 * * *"


def test_bad_model_backend_is_a_config_error(tmp_path):
    s = load_settings({"MMFOUNDRY_DATA": str(tmp_path)})
    with pytest.raises(ConfigError, match="MMFOUNDRY_LLM_BACKEND must be one of offline, openai, gemini"):
        model_resource("llm", s, {"MMFOUNDRY_LLM_BACKEND": "gpt"})


def test_local_resources_use_the_offline_backend(mmf_env):
    resources = build_resources(mmf_env)
    assert {resources[r].backend for r in ("llm", "vlm", "judge")} == {"offline"}
    assert resources["io_manager"].base_path == mmf_env.data
    assert resources["media"].root == mmf_env.data + "/media"
