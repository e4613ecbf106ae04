"""The landing sensors on a gs:// prefix, through the real gcsfs client against a local stand-in
for the GCS JSON API (tests/fakes/gcs_server.py): no network, no credentials."""

import io

import dagster as dg
import polars as pl
import pytest

from resources.landing import LandingZone
from sensors.landing import SHARD_SOURCES, build_landing_sensor
from tests.fakes.gcs_server import FakeGCS, core_gcsfs

BUCKET = "mmf-landing"


@dg.asset(partitions_def=SHARD_SOURCES[0].partitions_def)
def gcs_rows(context) -> pl.DataFrame:
    return pl.DataFrame({"k": [context.partition_key]})


@dg.asset(partitions_def=SHARD_SOURCES[1].partitions_def)
def gcs_docs(context) -> pl.DataFrame:
    return pl.DataFrame({"k": [context.partition_key]})


def _parquet(rows: int) -> bytes:
    buf = io.BytesIO()
    pl.DataFrame({"video_id": [f"v{i}" for i in range(rows)]}).write_parquet(buf)
    return buf.getvalue()


@pytest.fixture
def gcs(monkeypatch):
    core_gcsfs(monkeypatch)
    with FakeGCS() as server:
        yield server


def _tick(sensor, instance, landing, cursor=None):
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": landing}))
    for req in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    return result


def test_landing_sensors_on_a_gcs_prefix_see_new_and_rewritten_shards(gcs, tmp_path):
    gcs.put(BUCKET, "zone/youtube_commons/2024-01.parquet", _parquet(1))
    gcs.put(BUCKET, "zone/youtube_commons/2024 02.parquet", _parquet(2))
    gcs.put(BUCKET, "zone/pdfa/batch-1/0000001.pdf", b"%PDF-1.4 fake")
    landing = LandingZone(root=f"gs://{BUCKET}/zone", cache_dir=str(tmp_path / "cache"),
                          storage_options={"token": "anon", "endpoint_url": gcs.url})
    videos = build_landing_sensor(SHARD_SOURCES[0], dg.AssetSelection.assets(gcs_rows))
    docs = build_landing_sensor(SHARD_SOURCES[1], dg.AssetSelection.assets(gcs_docs))
    with dg.instance_for_test() as instance:
        first = _tick(videos, instance, landing)
        keys = sorted(r.partition_key for r in first.run_requests)
        assert keys[0] == "2024-01" and keys[1].startswith("2024_02-") and len(keys) == 2
        assert [r.partition_key for r in _tick(docs, instance, landing).run_requests] == ["batch-1"]

        second = _tick(videos, instance, landing, first.cursor)
        assert not second.run_requests

        # a shard lands and another is rewritten in place (same name, new generation)
        gcs.put(BUCKET, "zone/youtube_commons/2024-03.parquet", _parquet(3))
        gcs.put(BUCKET, "zone/youtube_commons/2024-01.parquet", _parquet(5))
        third = _tick(videos, instance, landing, second.cursor)
        assert sorted(r.partition_key for r in third.run_requests) == ["2024-01", "2024-03"]
        assert third.dynamic_partitions_requests[0].partition_keys == ["2024-03"]
        assert sorted(instance.get_dynamic_partitions("video_shards")) == sorted([*keys, "2024-03"])

    shard = landing.video_shard("2024-01")
    assert pl.read_parquet(landing.fetch(shard.uri)).height == 5  # the rewritten bytes
