"""Content-addressed store of validated model answers.

SQLite in WAL mode: several threads of one step and several processes (partitions materializing at
once) share one file; a write waits for the lock instead of failing. Only validated answers are
stored for a model, so a failed remote item is asked again on the next run and a good one never
is; the offline backend also stores its failures (resources/llm.py), which are as deterministic as
its answers.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

FINGERPRINT_EXEMPT = "storage of answers, keyed by everything they depend on"


class ResponseCache:
    def __init__(self, path: str):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA busy_timeout=60000")
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS responses ("
            " key TEXT PRIMARY KEY, task TEXT NOT NULL, backend TEXT NOT NULL, model TEXT NOT NULL,"
            " prompt_sha TEXT NOT NULL, response TEXT NOT NULL, created_at REAL NOT NULL)"
        )

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._con.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, task: str, backend: str, model: str, prompt_sha: str, response: str) -> None:
        with self._lock:
            self._con.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, task, backend, model, prompt_sha, response, time.time()),
            )

    def count(self, task: str | None = None) -> int:
        with self._lock:
            if task is None:
                return self._con.execute("SELECT count(*) FROM responses").fetchone()[0]
            return self._con.execute("SELECT count(*) FROM responses WHERE task = ?", (task,)).fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._con.close()
