"""The storage contract on object storage, for real over HTTP: s3:// against a local moto server,
gs:// (the warehouse path) against tests/fakes/gcs_server.py."""

import socket

import dagster as dg
import polars as pl
import pytest

from assets.kit.shard_frames import shard_columns
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


@dg.asset
def lazy_total(rows: dict[str, pl.LazyFrame]) -> pl.DataFrame:
    return shard_columns(rows, ["n"], "rows").filter(pl.col("n") > 1).select(pl.col("n").sum())


def test_parquet_io_manager_on_s3_with_partitions_and_fan_in(s3_endpoint):
    io = ParquetIOManager(base_path=f"s3://{BUCKET}/data", storage_options={"endpoint_url": s3_endpoint})
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("s3_shards", ["p1", "p2"])
        for k in ("p1", "p2"):
            assert dg.materialize([rows], partition_key=k, instance=instance, resources={"io_manager": io}).success
        res = dg.materialize([rows, total, lazy_total], selection=[total, lazy_total], instance=instance,
                             resources={"io_manager": io})
        assert res.success
        assert res.output_for_node("total")["n"].to_list() == [12]
        assert res.output_for_node("lazy_total")["n"].to_list() == [10]  # scanned through the UPath's fs
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


def _warehouse_graph(tmp_path, opts, data):
    """An IO manager and a Warehouse on `data`, a SQL model over `rows` and two checks on the model."""
    from assets.quality.check_specs import load_checks
    from assets.quality.sql_models import build_data_check, build_sql_asset
    from assets.quality.sql_parse import parse_model
    from resources.warehouse import Warehouse

    db = str(tmp_path / "host-a" / "warehouse.duckdb")
    io = ParquetIOManager(base_path=data, warehouse_path=db, storage_options=opts)
    wh = Warehouse(database=db, data_root=data, storage_options=opts)
    (tmp_path / "per_shard.sql").write_text("SELECT shard, sum(n) AS n FROM rows GROUP BY shard")
    model = build_sql_asset(parse_model(tmp_path / "per_shard.sql"))
    (tmp_path / "checks.yml").write_text("per_shard:\n  - not_null: [shard]\n  - unique: [shard]\n")
    checks = [build_data_check(c) for c in load_checks(tmp_path / "checks.yml")]
    return io, wh, model, checks


def test_warehouse_sql_models_and_checks_on_s3_without_httpfs(s3_endpoint, tmp_path, caplog):
    """Views, a SQL model and its checks read s3:// Parquet through s3fs (the endpoint of the IO
    manager, never AWS, never a downloaded extension); the model is stored on S3, so a second host
    with an empty warehouse file reads it."""
    import duckdb

    from resources.warehouse import Warehouse

    data = f"s3://{BUCKET}/wh"
    io, wh, model, checks = _warehouse_graph(tmp_path, {"endpoint_url": s3_endpoint}, data)
    _materialize_model_and_checks(io, wh, model, checks)
    assert "not refreshed" not in caplog.text
    with duckdb.connect(wh.database) as con:  # the view the IO manager registered, over s3://
        assert con.sql("SELECT sql FROM duckdb_views() WHERE view_name = 'rows'").fetchall()[0][0].count(
            f"{data}/rows/*.parquet") == 1
    assert _fs(s3_endpoint).exists(f"{BUCKET}/wh/per_shard.parquet")
    other_host = Warehouse(database=str(tmp_path / "host-b" / "warehouse.duckdb"), data_root=data,
                           storage_options={"endpoint_url": s3_endpoint})
    _assert_other_host_reads(other_host)


def _materialize_model_and_checks(io, wh, model, checks) -> None:
    resources = {"io_manager": io, "duckdb": wh}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("s3_shards", ["p1", "p2"])
        for k in ("p1", "p2"):
            assert dg.materialize([rows], partition_key=k, instance=instance, resources=resources).success
        res = dg.materialize([rows, model, *checks], selection=dg.AssetSelection.assets(model) |
                             dg.AssetSelection.checks(*checks), instance=instance, resources=resources)
        assert res.success
        assert {e.check_name: e.passed for e in res.get_asset_check_evaluations()} == {
            "not_null__shard": True, "unique__shard": True}


def _assert_other_host_reads(other_host) -> None:
    with other_host.read_connection(["per_shard", "rows"]) as con:
        assert con.sql("SELECT shard, n FROM per_shard ORDER BY shard").fetchall() == [("p1", 6), ("p2", 6)]
        assert con.sql("SELECT count(*) FROM rows").fetchall()[0][0] == 6
        assert con.sql("SELECT current_setting('autoinstall_known_extensions')").fetchall()[0][0] is False


def test_warehouse_reads_on_s3_fail_cleanly_when_the_endpoint_is_wrong(s3_endpoint, tmp_path):
    """A wrong endpoint is an error about the endpoint, not a download of httpfs."""
    from resources.warehouse import sync_views

    with pytest.raises(Exception) as err:
        sync_views(str(tmp_path / "wh.duckdb"), f"s3://{BUCKET}/wh", [["rows"]],
                   {"endpoint_url": "http://127.0.0.1:9", "config_kwargs": {"retries": {"max_attempts": 1}}})
    assert "httpfs" not in str(err.value) and "127.0.0.1:9" in str(err.value)


def test_warehouse_sql_models_and_checks_on_gcs(tmp_path, monkeypatch, caplog):
    """The same on gs://, through the real gcsfs client against the local GCS stand-in."""
    from resources.warehouse import Warehouse
    from tests.fakes.gcs_server import FakeGCS, core_gcsfs

    core_gcsfs(monkeypatch)
    with FakeGCS() as gcs:
        opts = {"token": "anon", "endpoint_url": gcs.url}
        data = "gs://mmf-wh/data"
        io, wh, model, checks = _warehouse_graph(tmp_path, opts, data)
        _materialize_model_and_checks(io, wh, model, checks)
        assert "not refreshed" not in caplog.text
        assert ("mmf-wh", "data/per_shard.parquet") in gcs.objects
        _assert_other_host_reads(Warehouse(database=str(tmp_path / "host-b" / "w.duckdb"), data_root=data,
                                           storage_options=opts))


@dg.asset(partitions_def=shards, group_name="finevideo")
def records(context: dg.AssetExecutionContext) -> pl.DataFrame:
    from assets.kit.provenance import declare

    key = context.partition_key
    return declare(pl.DataFrame({"record_id": [f"video:{key}:{i}" for i in range(3)], "shard": [key] * 3}))


def test_provenance_store_on_s3_rebuilds_one_segment_for_one_new_shard(s3_endpoint, tmp_path):
    """Issue 22 on object storage: the index's segments and manifest live under the S3 data root; a
    new shard adds one segment, the rest are kept; another host's audit routes to that segment."""
    from assets.quality.audit import audit
    from assets.quality.provenance_assets import build_provenance_index, provenance_edges
    from resources.warehouse import Warehouse

    data, options = f"s3://{BUCKET}/prov", {"endpoint_url": s3_endpoint}
    resources = {"io_manager": ParquetIOManager(base_path=data, storage_options=options),
                 "duckdb": Warehouse(database=str(tmp_path / "a.duckdb"), data_root=data, storage_options=options)}
    index = build_provenance_index([records])
    built = []
    with dg.instance_for_test() as instance:
        for keys in (["p1", "p2"], ["p3"]):
            instance.add_dynamic_partitions("s3_shards", keys)
            for k in keys:
                assert dg.materialize([records], partition_key=k, instance=instance, resources=resources).success
            res = dg.materialize([records, index, provenance_edges], selection=[index, provenance_edges],
                                 instance=instance, resources=resources)
            meta = res.asset_materializations_for_node("provenance_index")[0].metadata
            built.append((meta["segments"].value, meta["segments_rebuilt"].value, meta["dagster/row_count"].value))
    assert built == [(2, 2, 6), (3, 1, 9)]
    files = sorted(p.rsplit("/", 1)[-1] for p in _fs(s3_endpoint).ls(f"{BUCKET}/prov/provenance_index"))
    assert len(files) == 4 and "manifest.json" in files
    other_host = Warehouse(database=str(tmp_path / "b.duckdb"), data_root=data, storage_options=options)
    with other_host.read_connection(["provenance_index", "provenance_edges"]) as con:
        found = audit(con, "video:p3:2")
    assert found is not None and [s.asset for s in found.stages] == ["records"] and found.stages[0].run_id


def test_selection_candidate_store_on_s3_reads_one_new_shard(s3_endpoint, tmp_path):
    """The selection's candidate store under an S3 data root: a new shard is the one segment read."""
    import pyarrow.dataset as ds

    from assets.finevideo.candidate_store import cached_candidates
    from tests.integration.test_selection_candidates import STAGES, _read_every_file, _write_shard

    fs = _fs(s3_endpoint)
    root = f"s3://{BUCKET}/candidates"
    local = tmp_path / "stages"
    runs = []
    for landed, shard_set in ((["shard-001", "shard-002"], ["shard-001", "shard-002"]),
                              (["shard-003"], ["shard-001", "shard-002", "shard-003"])):
        for i, shard in enumerate(landed):  # only the new shard's files are written
            _write_shard(local, shard, 30, seed=len(shard_set) + i)
            for s in STAGES:
                fs.put_file(str(local / s / f"{shard}.parquet"), f"{BUCKET}/candidates/{s}/{shard}.parquet")
        fs.invalidate_cache()
        inputs = {s: {k: pl.scan_pyarrow_dataset(ds.dataset(f"{BUCKET}/candidates/{s}/{k}.parquet", filesystem=fs,
                                                            format="parquet")) for k in shard_set} for s in STAGES}
        out, built, _ = cached_candidates(fs, root, inputs, lambda k: k)
        expected = _read_every_file({s: {k: pl.scan_parquet(local / s / f"{k}.parquet") for k in shard_set}
                                     for s in STAGES})
        assert out.sort("record_id").equals(expected.sort("record_id"))
        runs.append((len(built.rebuilt), len(built.reused)))
    assert runs == [(2, 0), (1, 2)]
