"""Run monitoring on the local and VM instances (issue 17): a run whose worker was SIGKILLed is marked
FAILED by Dagster's own monitoring step, so automation (which waits while a run is in progress) goes
on. The instance is configured as deploy/dagster.local.yaml configures it."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.events import EngineEventData
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._core.test_utils import create_run_for_test
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

ROOT = Path(__file__).resolve().parents[2]



def _local_instance_overrides() -> dict:
    config = yaml.safe_load((ROOT / "deploy" / "dagster.local.yaml").read_text())
    return {k: config[k] for k in ("run_launcher", "run_monitoring")}


def _started_run(instance, pid: int):
    run = create_run_for_test(instance, job_name="refresh", status=DagsterRunStatus.STARTED)
    instance.report_engine_event(f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid))
    return run


def _zombie(proc: subprocess.Popen) -> None:
    """Wait until the SIGKILLed child is a zombie (killed, not reaped)."""
    for _ in range(200):
        with open(f"/proc/{proc.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return
        time.sleep(0.01)
    raise AssertionError("the killed child never became a zombie")


def test_a_killed_run_worker_marks_its_run_failed_and_a_live_one_is_left_alone():
    alive = subprocess.Popen(["sleep", "120"])
    killed = subprocess.Popen(["sleep", "120"])
    reaped = subprocess.Popen(["sleep", "120"])
    killed.kill()  # SIGKILL, not yet reaped by its parent: a zombie, as under a code server
    _zombie(killed)
    reaped.kill()
    reaped.wait()
    try:
        with dg.instance_for_test(overrides=_local_instance_overrides()) as instance:
            assert instance.run_launcher.supports_check_run_worker_health
            runs = {name: _started_run(instance, p.pid) for name, p in
                    (("alive", alive), ("killed", killed), ("reaped", reaped))}
            for run in runs.values():
                monitor_started_run(instance, None, instance.get_run_record_by_id(run.run_id), logging.getLogger())
            status = {name: instance.get_run_by_id(run.run_id).status for name, run in runs.items()}
            assert status == {"alive": DagsterRunStatus.STARTED, "killed": DagsterRunStatus.FAILURE,
                              "reaped": DagsterRunStatus.FAILURE}
            failure = instance.all_logs(runs["killed"].run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            assert f"run worker pid {killed.pid} is gone" in failure[0].message
    finally:
        alive.kill()
        alive.wait()
        killed.wait()


def test_a_pid_reused_by_a_newer_process_is_not_taken_for_the_run_worker():
    """After a reboot another process may hold the recorded pid: it started after the record."""
    newer = subprocess.Popen(["sleep", "120"])
    try:
        with dg.instance_for_test(overrides=_local_instance_overrides()) as instance:
            run = create_run_for_test(instance, job_name="refresh", status=DagsterRunStatus.STARTED)
            instance.report_engine_event(f"Started process for run (pid: {newer.pid}).", run,
                                         EngineEventData.in_process(newer.pid))
            assert instance.run_launcher.check_run_worker_health(run).status.value == "RUNNING"
            from resources.run_launcher import process_alive

            assert not process_alive(newer.pid, recorded_at=time.time() - 3600)  # recorded an hour before it began
    finally:
        newer.kill()
        newer.wait()
