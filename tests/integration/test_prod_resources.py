"""`prod` builds from env vars alone: object storage, real endpoints, keys as EnvVars."""

import dagster as dg
import pytest

from definitions import build_definitions

SECRET = "sk-dummy-never-shown"


@pytest.mark.parametrize("data", ["s3://bucket/mmf", "gs://bucket/mmf"])
def test_prod_definitions_build_and_resolve_env_vars(monkeypatch, tmp_path, data):
    monkeypatch.chdir(tmp_path)
    env = {
        "MMFOUNDRY_DEPLOYMENT": "prod", "MMFOUNDRY_DATA": data,
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
    # the secret is not in the definitions, only the name of the variable that holds it
    assert SECRET not in repr(defs.resources["llm"])
    with dg.build_resources({k: defs.resources[k] for k in ("llm", "vlm", "judge")}) as r:
        assert (r.llm.backend, r.llm.model, r.llm.base_url) == ("openai", env["MMFOUNDRY_LLM_MODEL"],
                                                               env["MMFOUNDRY_LLM_BASE_URL"])
        assert r.llm.api_key == SECRET
        assert (r.vlm.backend, r.vlm.model) == ("gemini", "gemini-1.5-pro")
        assert r.judge.base_url == "https://api.openai.com/v1"


def test_prod_without_the_endpoint_variables_fails_when_a_run_starts(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MMFOUNDRY_DEPLOYMENT", "prod")
    monkeypatch.setenv("MMFOUNDRY_DATA", "s3://bucket/mmf")
    for k in ("MMFOUNDRY_LLM_MODEL", "MMFOUNDRY_LLM_BASE_URL", "MMFOUNDRY_LLM_API_KEY"):
        monkeypatch.delenv(k, raising=False)
    defs = build_definitions()
    with pytest.raises(Exception, match="MMFOUNDRY_LLM_MODEL"), dg.build_resources({"llm": defs.resources["llm"]}):
        pass
