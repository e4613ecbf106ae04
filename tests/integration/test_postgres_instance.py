"""A partition materialized against a real PostgreSQL-backed instance (prod's storage).

Needs a server: MMFOUNDRY_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres.
Skipped with a message when none is reachable."""

import os

import dagster as dg
import polars as pl
import pytest

from definitions import build_definitions
from scripts.materialize import materialize_graph
from scripts.shards import register_landed_shards
from tests.fakes.services import postgres_database


@pytest.fixture
def pg_url():
    # SQLAlchemy 2.1 maps plain postgresql:// to psycopg 3; dagster-postgres needs psycopg2
    with postgres_database() as env:
        password = f":{env['DAGSTER_PG_PASSWORD']}" if env["DAGSTER_PG_PASSWORD"] else ""
        yield (f"postgresql+psycopg2://{env['DAGSTER_PG_USER']}{password}@{env['DAGSTER_PG_HOST']}:"
               f"{env['DAGSTER_PG_PORT']}/{env['DAGSTER_PG_DB']}")


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
