"""A partition materialized against a real PostgreSQL-backed instance (prod's storage).

Needs a server: MMFOUNDRY_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres.
Skipped with a message when none is reachable."""

import os
import uuid

import dagster as dg
import polars as pl
import pytest

from definitions import build_definitions
from scripts.materialize import materialize_graph
from scripts.shards import register_landed_shards

ADMIN_URL = os.environ.get("MMFOUNDRY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url():
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(ADMIN_URL, connect_timeout=3)
    except psycopg2.OperationalError as e:
        pytest.skip(f"no PostgreSQL at {ADMIN_URL} ({str(e).strip().splitlines()[0]})")
    admin.autocommit = True
    name = f"mmf_test_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1)
    try:
        # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; dagster-postgres needs psycopg2
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.services
def test_partition_materializes_against_a_postgres_backed_instance(pg_url, mmf_env):
    yc = os.path.join(mmf_env.landing, "youtube_commons")
    os.makedirs(yc)
    pl.DataFrame({"video_id": ["a", "b"], "license": ["CC-BY"] * 2}).write_parquet(f"{yc}/2026-11.parquet")
    defs = build_definitions()
    overrides = {"storage": {"postgres": {"postgres_url": pg_url}}}
    with dg.instance_for_test(overrides=overrides) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        register_landed_shards(defs, instance)
        assert instance.get_dynamic_partitions("video_shards") == ["2026-11"]
        run = materialize_graph(defs, instance, selection=[dg.AssetKey("raw_video_metadata")])
        assert run.success
        record = instance.fetch_materializations(dg.AssetKey("raw_video_metadata"), limit=1).records[0]
        assert record.partition_key == "2026-11"
        assert record.asset_materialization.metadata["dagster/row_count"].value == 2
        assert instance.get_run_by_id(run.runs[0].run_id).is_success
