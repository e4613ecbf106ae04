"""Dagster's default run launcher, plus the health check run monitoring needs on one machine.

Run monitoring marks a run FAILED when its worker is gone, but only when the run launcher can say
whether the worker lives; Dagster's `DefaultRunLauncher` cannot, so on a local or single-VM
instance a run whose worker was SIGKILLed (the OOM killer, a reboot) stays STARTED forever, and
declarative automation, which waits for in-progress runs, never requests its assets again. The run
worker records its pid in the run's first engine event with a `pid` entry ("Started process for
run (pid: N)"); this launcher checks that process on this machine. Instance files name it with
`run_monitoring: enabled: true` (deploy/dagster.local.yaml, deploy/dagster.vm.yaml).
"""

from __future__ import annotations

import os

from dagster import DagsterEventType, DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun

FINGERPRINT_EXEMPT = "instance plumbing: which process runs a run, never what an asset computes"


def worker_pid(instance, run_id: str) -> tuple[int, float] | None:
    """(pid, when it was recorded) from the run's first engine event that carries a pid."""
    for record in instance.get_records_for_run(run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=50).records:
        event = record.event_log_entry.dagster_event
        data = event.event_specific_data if event else None
        pid = getattr(data, "metadata", {}).get("pid") if data is not None else None
        if pid is not None:
            return int(pid.value), record.event_log_entry.timestamp
    return None


def _started_at(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), from /proc; None where there is none."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, recorded_at: float | None = None) -> bool:
    """Whether `pid` runs here as the process that recorded itself at `recorded_at`: a zombie
    (killed, not yet reaped by its parent) is dead, and so is a newer process that reuses the pid
    (after a reboot or a wrap-around)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    except (FileNotFoundError, IndexError):
        return not os.path.isdir("/proc")
    started = _started_at(pid)
    return started is None or recorded_at is None or started <= recorded_at + 1.0


class LocalRunLauncher(DefaultRunLauncher):
    """`DefaultRunLauncher` whose runs run monitoring can judge on this machine."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        found = worker_pid(self._instance, run.run_id)
        if found is None:  # not launched through a code server (an in-process run): nothing to judge
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker pid recorded")
        pid, recorded_at = found
        if process_alive(pid, recorded_at):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} is alive")
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker pid {pid} is gone (killed or crashed)")
