"""Start and stop the Dagster webserver from Python, as tests and the screenshot script need.

Started with `&` from a non-interactive shell, `dagster dev` ignores SIGINT and SIGTERM; a child in
its own session stopped with SIGINT to the whole process group shuts down cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCATION_QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def stop_group(proc: subprocess.Popen) -> None:
    """SIGINT to the process group (a clean shutdown), SIGKILL if it has not ended in 30 s."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextmanager
def running_webserver(env: dict[str, str], log_path: Path, timeout_s: float = 180) -> Iterator[tuple[int, dict]]:
    """Yield (port, location entry) once the code location is LOADED; stop the server after."""
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            deadline = time.time() + timeout_s
            while True:
                try:
                    entries = graphql(port, LOCATION_QUERY)["data"]["workspaceOrError"]["locationEntries"]
                    if entries and entries[0]["loadStatus"] == "LOADED":
                        break
                except OSError:
                    pass
                if proc.poll() is not None:
                    raise RuntimeError(f"webserver exited: {Path(log_path).read_text()[-3000:]}")
                if time.time() > deadline:
                    raise TimeoutError(f"webserver did not load the location in {timeout_s:.0f} s")
                time.sleep(1)
            yield port, entries[0]
        finally:
            stop_group(proc)


@contextmanager
def running_daemon(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """The Dagster daemon (it dequeues runs launched from the UI), stopped like the webserver."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dagster._daemon", "run", "-w", "workspace.yaml"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            yield proc
        finally:
            stop_group(proc)
