"""The code location as a user meets it: `dagster definitions validate` and the webserver."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from definitions import build_definitions
from scripts.webserver import graphql, running_webserver

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"DAGSTER_HOME": str(tmp_path / "home"), "MMFOUNDRY_DATA": str(tmp_path / "data"),
                "PYTHONPATH": str(ROOT)})
    env.pop("MMFOUNDRY_LANDING", None)
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


GROUPS_QUERY = "{ assetNodes { assetKey { path } groupName } }"


@pytest.mark.slow
def test_webserver_loads_the_location_with_every_group(tmp_path):
    with running_webserver(_env(tmp_path), tmp_path / "webserver.log") as (port, entry):
        assert entry["name"] == "mmfoundry"
        assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
        nodes = graphql(port, GROUPS_QUERY)["data"]["assetNodes"]
    graph = build_definitions().resolve_asset_graph()
    expected = {graph.get(k).group_name for k in graph.materializable_asset_keys}
    assert {n["groupName"] for n in nodes} == expected
    assert ["raw_video_metadata"] in [n["assetKey"]["path"] for n in nodes]
