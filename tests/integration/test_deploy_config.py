"""Every deploy file checked without a cluster: each instance file against Dagster's instance schema
(launchers, storages and compute-log managers importable), the Helm values against the names the
chart generates for release `mmfoundry`, the ECS task definition against the ECS API's own request
schema (botocore), the image's Dockerfile, and the prod code location through `dagster definitions
validate`."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENV = {"DAGSTER_PG_HOST": "db", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USER": "dagster",
       "DAGSTER_PG_PASSWORD": "pw", "DAGSTER_PG_DB": "dagster", "DAGSTER_K8S_PIPELINE_RUN_NAMESPACE": "data",
       "DAGSTER_K8S_INSTANCE_CONFIG_MAP": "mmfoundry-dagster-instance",
       "DAGSTER_K8S_PG_PASSWORD_SECRET": "mmfoundry-postgresql",
       "DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP": "mmfoundry-dagster-pipeline-env",
       "DAGSTER_HOME": "/opt/dagster/dagster_home", "MMFOUNDRY_LOG_BUCKET": "logs"}
INSTANCE_FILES = sorted(str(p.relative_to(ROOT)) for p in DEPLOY.rglob("dagster*.yaml"))
RELEASE, CHART = "mmfoundry", "dagster"


def _load_instance(path: str, tmp_path: Path, monkeypatch) -> dict:
    from dagster._core.instance.config import dagster_instance_config

    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    shutil.copy(ROOT / path, tmp_path / "dagster.yaml")
    config, _ = dagster_instance_config(str(tmp_path))
    return config


def test_every_target_has_an_instance_file():
    assert set(INSTANCE_FILES) == {"deploy/dagster.local.yaml", "deploy/dagster.vm.yaml",
                                   "deploy/k8s/dagster.k8s.yaml", "deploy/ecs/dagster.ecs.yaml"}


@pytest.mark.parametrize("path", INSTANCE_FILES)
def test_instance_file_is_valid_and_its_classes_load(path, tmp_path, monkeypatch):
    """Schema and env sources, then every configurable class (storage, coordinator, launcher, compute
    logs) is imported and its own config validated, as `DagsterInstance.from_config` would."""
    import importlib

    from dagster._config import process_config, resolve_to_config_type

    config = _load_instance(path, tmp_path, monkeypatch)
    for section in ("run_coordinator", "run_launcher", "compute_logs"):
        if section in config:
            cls = getattr(importlib.import_module(config[section]["module"]), config[section]["class"])
            result = process_config(resolve_to_config_type(cls.config_type()), config[section].get("config") or {})
            assert result.success, f"{path} {section}: {[e.message for e in result.errors]}"
    if path != "deploy/dagster.local.yaml":
        assert config["storage"]["postgres"]["postgres_db"]["scheme"] == "postgresql+psycopg2"
        assert config["concurrency"]["pools"]["granularity"] == "op"


@pytest.mark.parametrize("path", ["deploy/dagster.vm.yaml", "deploy/dagster.local.yaml"])
def test_host_instances_launch_runs_on_the_host_and_monitor_them(path, tmp_path, monkeypatch):
    """No Kubernetes or ECS setting: runs are processes on this host, and run monitoring can tell a
    killed one (the launcher checks its worker's pid) and never resumes it."""
    config = _load_instance(path, tmp_path, monkeypatch)
    assert config["run_launcher"] == {"module": "resources.run_launcher", "class": "LocalRunLauncher"}
    assert config["run_monitoring"]["enabled"] and config["run_monitoring"]["max_resume_run_attempts"] == 0
    assert "compute_logs" not in config


def _fullname(release: str, chart: str) -> str:
    """The chart's `dagster.fullname`: the release name when it contains the chart's, else both."""
    return release if chart in release else f"{release}-{chart}"


def test_helm_values_match_the_names_and_secrets_the_chart_generates(tmp_path, monkeypatch):
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())
    k8s = _load_instance("deploy/k8s/dagster.k8s.yaml", tmp_path, monkeypatch)
    fullname = _fullname(RELEASE, CHART)
    launcher = k8s["run_launcher"]["config"]
    # the names the chart creates, as the k8s instance file (its rendered dagster.yaml) uses them
    assert launcher["service_account_name"] == fullname
    assert ENV["DAGSTER_K8S_INSTANCE_CONFIG_MAP"] == f"{fullname}-instance"
    assert ENV["DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP"] == f"{fullname}-pipeline-env"
    # the Postgres password: the operator's secret, never one the chart generates with its default
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"] == ENV["DAGSTER_K8S_PG_PASSWORD_SECRET"]
    pg, db = values["postgresql"], k8s["storage"]["postgres"]["postgres_db"]
    assert pg["enabled"] is False
    assert (pg["postgresqlHost"], pg["postgresqlUsername"], pg["postgresqlDatabase"], pg["service"]["port"],
            pg["postgresqlScheme"]) == (db["hostname"], db["username"], db["db_name"], db["port"], db["scheme"])
    assert db["password"] == {"env": "DAGSTER_PG_PASSWORD"}  # what the chart sets from the secret
    # the run launcher: same env sources and resources in the values and the rendered file
    rl = values["runLauncher"]
    assert rl["type"] == "K8sRunLauncher"
    k8s_rl = rl["config"]["k8sRunLauncher"]
    assert [c["name"] for c in k8s_rl["envConfigMaps"]] == [c for c in launcher["env_config_maps"] if isinstance(c, str)]
    assert [s["name"] for s in k8s_rl["envSecrets"]] == launcher["env_secrets"]
    assert k8s_rl["runK8sConfig"]["containerConfig"] == launcher["run_k8s_config"]["container_config"]
    # the code server: this repo's image, its module, the same env as the runs
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "definitions", "-d", "/opt/mmfoundry"]
    assert deployment["envConfigMaps"] == k8s_rl["envConfigMaps"]
    assert deployment["envSecrets"] == k8s_rl["envSecrets"]
    assert deployment["image"]["tag"] != "latest"
    # compute logs and concurrency agree with the rendered file
    s3 = values["computeLogManager"]["config"]["s3ComputeLogManager"]
    assert (s3["prefix"], s3["uploadInterval"]) == (k8s["compute_logs"]["config"]["prefix"],
                                                    k8s["compute_logs"]["config"]["upload_interval"])
    conc = values["concurrency"]
    assert conc["enabled"] is True
    assert conc["pools"]["defaultLimit"] == k8s["concurrency"]["pools"]["default_limit"]
    assert conc["runs"]["maxConcurrentRuns"] == k8s["concurrency"]["runs"]["max_concurrent_runs"]
    # the chart refuses limits in both the coordinator and `concurrency`
    assert "config" not in values["dagsterDaemon"]["runCoordinator"]


def test_ecs_task_definition_is_a_valid_register_request_matching_the_launcher(tmp_path, monkeypatch):
    import botocore.session
    from botocore.validate import ParamValidator

    task = json.loads((DEPLOY / "ecs" / "task-definition.json").read_text())
    shape = botocore.session.get_session().get_service_model("ecs").operation_model(
        "RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(task, shape)
    assert not report.has_errors(), report.generate_report()
    launcher = _load_instance("deploy/ecs/dagster.ecs.yaml", tmp_path, monkeypatch)["run_launcher"]["config"]
    (container,) = task["containerDefinitions"]
    assert (task["family"], container["name"]) == (launcher["task_definition"], launcher["container_name"])
    assert container["user"] != "0" and container["user"] == str(_dockerfile_uid())
    env = {e["name"] for e in container["environment"]}
    secrets = {s["name"] for s in container["secrets"]}
    # every variable the ECS instance file reads, and the explicit warehouse for remote data
    needed = set(re.findall(r"\{env: (\w+)\}", (DEPLOY / "ecs" / "dagster.ecs.yaml").read_text()))
    assert needed <= env | secrets, needed - env - secrets
    assert {"MMFOUNDRY_DEPLOYMENT", "MMFOUNDRY_DATA", "MMFOUNDRY_WAREHOUSE"} <= env
    assert not any(n.endswith(("PASSWORD", "API_KEY")) for n in env), "secrets belong in `secrets`"


def _dockerfile_uid() -> int:
    text = (DEPLOY / "Dockerfile").read_text()
    return int(re.search(r"^USER (\d+)$", text, re.M).group(1))


def test_dockerfile_runs_as_a_user_bakes_one_instance_and_ignores_local_state():
    text = (DEPLOY / "Dockerfile").read_text()
    assert _dockerfile_uid() != 0
    instance_copies = re.findall(r"^COPY .*dagster\.yaml$", text, re.M)
    assert len(instance_copies) == 1
    default = re.search(r"^ARG INSTANCE_FILE=(\S+)$", text, re.M).group(1)
    assert (ROOT / default).is_file() and default in INSTANCE_FILES
    # the chart mounts its instance ConfigMap at its dagsterHome, which must be the image's
    assert "DAGSTER_HOME=/opt/dagster/dagster_home" in text
    for path in re.findall(r"^COPY (\S+) \S+$", text, re.M):
        if not path.startswith("$"):
            assert (ROOT / path).exists(), f"Dockerfile copies {path}, which is not in the repo"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".data", ".dagster_home", ".git"} <= set(ignored)


def test_gpu_pipes_doc_names_paths_the_image_has():
    doc = (DEPLOY / "gpu_pipes.md").read_text()
    workdir = re.search(r"^WORKDIR (\S+)$", (DEPLOY / "Dockerfile").read_text(), re.M).group(1)
    assert f'"PYTHONPATH": "{workdir}"' in doc
    for module in re.findall(r"python -m ([\w.]+)|\"-m\", \"([\w.]+)\"", doc):
        name = next(m for m in module if m)
        assert (ROOT / (name.replace(".", "/") + ".py")).exists(), f"gpu_pipes.md runs {name}, not in the image"


def test_the_cuda_image_is_one_build_argument():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^ARG TORCH_INDEX=https://download\.pytorch\.org/whl/cpu$", text, re.M)
    installs = re.findall(r"pip install torch==(\S+) --index-url (\S+)", text)
    assert installs == [("2.13.0", "${TORCH_INDEX}")]
    assert "--build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu" in (DEPLOY / "gpu_pipes.md").read_text()


def test_every_gpu_step_pod_asks_for_a_gpu_under_the_k8s_executor():
    """k8s_job_executor builds each step's Job from the step's op tags: the manifest dagster-k8s
    writes for every asset in the gpu pool limits its container to one nvidia.com/gpu, and no
    other asset asks for one."""
    from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job, get_user_defined_k8s_config

    from assets.training.scheduling import GPU_POOL
    from definitions import defs

    job_config = DagsterK8sJobConfig(job_image="mmfoundry:test", dagster_home="/opt/dagster/dagster_home",
                                     instance_config_map="dagster-instance")
    on_gpu = set()
    for asset in defs.assets:
        if not isinstance(asset, dg.AssetsDefinition) or not asset.is_executable:
            continue
        manifest = construct_dagster_k8s_job(job_config, ["dagster", "api", "execute_step"], "dagster-step-x",
                                             user_defined_k8s_config=get_user_defined_k8s_config(asset.op.tags))
        limits = manifest.spec.template.spec.containers[0].resources.limits or {}
        assert (limits.get("nvidia.com/gpu") == "1") == (asset.op.pool == GPU_POOL), asset.key
        on_gpu |= {asset.key.path[-1]} if asset.op.pool == GPU_POOL else set()
    assert {"scm_teacher", "scm_report", "mllm_stage1", "mllm_stage2", "dpo_model", "hallucination_eval"} <= on_gpu


@pytest.mark.slow
def test_prod_code_location_with_the_celery_executor_validates(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT),
           "MMFOUNDRY_DEPLOYMENT": "prod", "MMFOUNDRY_DATA": "s3://bucket/mmf",
           "MMFOUNDRY_WAREHOUSE": str(tmp_path / "warehouse.duckdb"), "MMFOUNDRY_EXECUTOR": "celery",
           "MMFOUNDRY_CELERY_BROKER": "pyamqp://guest@rabbitmq:5672//", "MMFOUNDRY_LLM_BACKEND": "offline",
           "MMFOUNDRY_VLM_BACKEND": "offline", "MMFOUNDRY_JUDGE_BACKEND": "offline"}
    (tmp_path / "home").mkdir()
    proc = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate",
                           "-w", "workspace.yaml"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
