"""The storage contract on s3://, for real over HTTP against a local moto server."""

import socket

import dagster as dg
import polars as pl
import pytest

from resources.landing import LandingZone
from resources.storage import MediaStore, ParquetIOManager
from sensors.landing import SHARD_SOURCES, build_landing_sensor

BUCKET = "mmf-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    mp = pytest.MonkeyPatch()
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        mp.setenv(k, v)
    endpoint = f"http://127.0.0.1:{port}"
    import boto3

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    yield endpoint
    mp.undo()
    server.stop()


def _fs(endpoint):
    import s3fs

    return s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True)


shards = dg.DynamicPartitionsDefinition(name="s3_shards")


@dg.asset(partitions_def=shards)
def rows(context: dg.AssetExecutionContext) -> pl.DataFrame:
    return pl.DataFrame({"shard": [context.partition_key] * 3, "n": [1, 2, 3]})


@dg.asset
def total(rows: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(list(rows.values())).select(pl.col("n").sum())


def test_parquet_io_manager_on_s3_with_partitions_and_fan_in(s3_endpoint):
    io = ParquetIOManager(base_path=f"s3://{BUCKET}/data", storage_options={"endpoint_url": s3_endpoint})
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("s3_shards", ["p1", "p2"])
        for k in ("p1", "p2"):
            assert dg.materialize([rows], partition_key=k, instance=instance, resources={"io_manager": io}).success
        res = dg.materialize([rows, total], selection=[total], instance=instance, resources={"io_manager": io})
        assert res.success
        assert res.output_for_node("total")["n"].to_list() == [12]
    fs = _fs(s3_endpoint)
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls(f"{BUCKET}/data/rows")) == ["p1.parquet", "p2.parquet"]
    with fs.open(f"{BUCKET}/data/total.parquet", "rb") as f:
        assert pl.read_parquet(f)["n"].to_list() == [12]


def test_media_store_on_s3_round_trips_through_the_local_cache(s3_endpoint, tmp_path):
    store = MediaStore(root=f"s3://{BUCKET}/media", cache_dir=str(tmp_path / "cache"),
                       storage_options={"endpoint_url": s3_endpoint})
    src = tmp_path / "page.png"
    src.write_bytes(b"\x89PNG fake bytes")
    ref = store.put_file(src)
    assert ref.uri == f"s3://{BUCKET}/media/{ref.sha256[:2]}/{ref.sha256}.png"
    assert store.exists(ref.uri)
    assert store.local_path(ref.uri).read_bytes() == b"\x89PNG fake bytes"
    assert store.put_file(src) == ref  # same bytes, same object, no second upload


def test_landing_sensor_on_an_s3_prefix(s3_endpoint):
    fs = _fs(s3_endpoint)
    buf = pl.DataFrame({"video_id": ["a"]})
    for name in ("2024-01", "2024 02"):
        with fs.open(f"{BUCKET}/landing/youtube_commons/{name}.parquet", "wb") as f:
            buf.write_parquet(f)
    landing = LandingZone(root=f"s3://{BUCKET}/landing", storage_options={"endpoint_url": s3_endpoint})
    keys = list(landing.video_shards())
    assert "2024-01" in keys and any(k.startswith("2024_02-") for k in keys) and len(keys) == 2
    sensor = build_landing_sensor(SHARD_SOURCES[0], dg.AssetSelection.assets(rows))
    with dg.instance_for_test() as instance:
        ctx = dg.build_sensor_context(instance=instance, resources={"landing": landing})
        result = sensor(ctx)
        assert [r.partition_key for r in result.run_requests] == keys
        assert result.dynamic_partitions_requests[0].partition_keys == keys
