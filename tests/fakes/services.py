"""The services a production-path test runs against, each skipped with a message naming what is
missing: a throwaway PostgreSQL database, a moto S3 server on a free port, Celery workers as separate
process groups on the local broker."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get("MMFOUNDRY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BROKER_URL = os.environ.get("MMFOUNDRY_TEST_BROKER", "pyamqp://guest:guest@127.0.0.1:5672//")
AWS_TEST_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_database() -> Iterator[dict[str, str]]:
    """A fresh database; yields the DAGSTER_PG_* variables deploy/dagster.vm.yaml reads."""
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(PG_ADMIN_URL, connect_timeout=3)
    except psycopg2.OperationalError as e:
        pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL} ({str(e).strip().splitlines()[0]})")
    admin.autocommit = True
    name = f"mmf_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    p = psycopg2.extensions.parse_dsn(PG_ADMIN_URL)
    try:
        yield {"DAGSTER_PG_HOST": p.get("host", "127.0.0.1"), "DAGSTER_PG_PORT": str(p.get("port", 5432)),
               "DAGSTER_PG_USER": p.get("user", "postgres"), "DAGSTER_PG_PASSWORD": p.get("password", ""),
               "DAGSTER_PG_DB": name}
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def moto_s3(*buckets: str) -> Iterator[str]:
    """A moto S3 server over HTTP (other processes reach it too); yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        for bucket in buckets:
            client.create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        server.stop()


def celery_app(broker: str = BROKER_URL):
    """The Celery app dagster-celery's workers and executor build for `broker`; skips when the broker
    or the package is absent."""
    pytest.importorskip("dagster_celery", reason="dagster-celery is not installed (pip install -e '.[celery]')")
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app

    app = make_app(CeleryExecutor.for_cli(broker=broker, backend="rpc://").app_args())
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
    except Exception as e:  # kombu raises the transport's own errors
        pytest.skip(f"no Celery broker at {broker} ({type(e).__name__}: {e})")
    return app


@contextmanager
def celery_workers(envs: list[dict[str, str]], config_yaml: Path, broker: str = BROKER_URL,
                   ready_timeout_s: float = 120) -> Iterator[list[str]]:
    """One `dagster-celery worker start` per environment (each its own process group), as on separate
    hosts; yields their names once every one answers a ping. `--pool solo`: a step runs in the worker's
    main process, one at a time, so it may start processes of its own (a prefork pool's children are
    daemonic and cannot: the dynamism screen's decode pool fails there)."""
    app = celery_app(broker)
    app.control.purge()  # tasks a killed earlier run left on the queue
    bin_dir = str(Path(sys.executable).parent)  # dagster-celery starts `celery` from PATH
    tag = uuid.uuid4().hex[:6]
    names, procs = [], []
    try:
        for i, env in enumerate(envs):
            name = f"mmf{i}-{tag}"
            log = open(Path(env["MMFOUNDRY_WAREHOUSE"]).parent / "worker.log", "w")  # noqa: SIM115
            env = {**env, "PATH": bin_dir + os.pathsep + env.get("PATH", "")}
            procs.append((subprocess.Popen(
                [f"{bin_dir}/dagster-celery", "worker", "start", "-A", "dagster_celery.app", "-y", str(config_yaml), "-n", name,
                 "-l", "WARNING", "--", "--pool", "solo", "--without-gossip", "--without-mingle"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
            names.append(f"{name}@{socket.gethostname()}")
        deadline = time.monotonic() + ready_timeout_s
        while True:
            answered = {n for reply in app.control.ping(timeout=1.0) for n in reply}
            if set(names) <= answered:
                break
            dead = [n for n, (p, _) in zip(names, procs, strict=True) if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"celery workers not ready (exited: {dead}; answered: {sorted(answered)})")
            time.sleep(1)
        yield names
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()
