"""The code location as a user meets it: `dagster definitions validate` and the webserver."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from definitions import build_definitions

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DAGSTER_HOME": str(tmp_path / "home"), "MMFOUNDRY_DATA": str(tmp_path / "data"),
                "PYTHONPATH": str(ROOT)})
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def test_definitions_validate(tmp_path):
    proc = subprocess.run([str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
                          cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_env_value_is_one_clear_error(tmp_path):
    env = _env(tmp_path)
    env["MMFOUNDRY_DEPLOYMENT"] = "staging"
    proc = subprocess.run([sys.executable, "-m", "scripts.demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "demo: error: MMFOUNDRY_DEPLOYMENT must be one of local, prod; got 'staging'"


def test_missing_landing_zone_is_one_clear_error(tmp_path):
    env = _env(tmp_path)
    env["MMFOUNDRY_LANDING"] = str(tmp_path / "no-such-zone")
    proc = subprocess.run([sys.executable, "-m", "scripts.demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"demo: error: landing zone {tmp_path / 'no-such-zone'} does not exist "
        "(unset MMFOUNDRY_LANDING to build the sample)"
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


LOCATION_QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
GROUPS_QUERY = "{ assetNodes { assetKey { path } groupName } }"


@pytest.mark.slow
def test_webserver_loads_the_location_with_every_group(tmp_path):
    port = _free_port()
    log = open(tmp_path / "webserver.log", "w")  # noqa: SIM115 (closed in finally, after the server)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=_env(tmp_path), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                entries = _graphql(port, LOCATION_QUERY)["data"]["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["loadStatus"] == "LOADED":
                    break
            except OSError:
                pass
            assert proc.poll() is None, (tmp_path / "webserver.log").read_text()[-3000:]
            assert time.time() < deadline, "webserver did not load the location in 180 s"
            time.sleep(1)
        entry = entries[0]
        assert entry["name"] == "mmfoundry"
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
        nodes = _graphql(port, GROUPS_QUERY)["data"]["assetNodes"]
        graph = build_definitions().resolve_asset_graph()
        expected = {graph.get(k).group_name for k in graph.materializable_asset_keys}
        assert {n["groupName"] for n in nodes} == expected
        assert ["raw_video_metadata"] in [n["assetKey"]["path"] for n in nodes]
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
    assert proc.returncode is not None
