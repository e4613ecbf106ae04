"""The Parquet IO manager, warehouse views and media store on a local folder."""

import dagster as dg
import duckdb
import polars as pl
import pytest
from upath import UPath

from assets.kit.shard_frames import row_count, shard_columns
from resources.storage import MediaStore, ParquetIOManager, atomic_write
from resources.warehouse import ensure_views, sync_views, view_name

shards = dg.DynamicPartitionsDefinition(name="test_shards")


@dg.asset(partitions_def=shards)
def per_shard(context: dg.AssetExecutionContext) -> pl.DataFrame:
    k = context.partition_key
    return pl.DataFrame({"shard": [k, k], "value": [1, 2] if k == "a" else [10, 20]})


@dg.asset
def fan_in(per_shard: dict[str, pl.DataFrame]) -> pl.DataFrame:
    return pl.concat([df for _, df in sorted(per_shard.items())])


@dg.asset(key_prefix=["nested"])
def summary(fan_in: pl.DataFrame) -> pl.DataFrame:
    return fan_in.group_by("shard").agg(pl.col("value").sum()).sort("shard")


def test_partitioned_fan_in_and_views(tmp_path):
    db = str(tmp_path / "wh.duckdb")
    io = ParquetIOManager(base_path=str(tmp_path / "data"), warehouse_path=db)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("test_shards", ["a", "b"])
        for key in ("a", "b"):
            assert dg.materialize([per_shard], partition_key=key, instance=instance,
                                  resources={"io_manager": io}).success
        res = dg.materialize([per_shard, fan_in, summary], selection=[fan_in, summary],
                             instance=instance, resources={"io_manager": io})
        assert res.success
    assert (tmp_path / "data" / "per_shard" / "a.parquet").exists()
    assert (tmp_path / "data" / "nested" / "summary.parquet").exists()
    with duckdb.connect(db, read_only=True) as con:
        assert con.sql("SELECT sum(value) FROM per_shard").fetchall()[0][0] == 33
        assert con.sql("SELECT count(*) FROM fan_in").fetchall()[0][0] == 4
        assert con.sql('SELECT value FROM "nested__summary" ORDER BY shard').fetchall() == [(3,), (30,)]


def test_a_fan_in_over_a_single_partition_still_gets_a_dict(tmp_path):
    io = ParquetIOManager(base_path=str(tmp_path / "data"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("test_shards", ["a"])
        assert dg.materialize([per_shard], partition_key="a", instance=instance, resources={"io_manager": io}).success
        res = dg.materialize([per_shard, fan_in], selection=[fan_in], instance=instance, resources={"io_manager": io})
        assert res.success
        assert res.output_for_node("fan_in")["value"].to_list() == [1, 2]


@dg.asset(partitions_def=shards)
def wide(context: dg.AssetExecutionContext) -> pl.DataFrame:
    k = context.partition_key
    cols = {"record_id": [f"{k}:1", f"{k}:2"], "value": [1, 2], "text": ["long transcript"] * 2}
    return pl.DataFrame({**cols, **({"extra": [True, False]} if k == "b" else {})})


@dg.asset
def lazy_fan_in(wide: dict[str, pl.LazyFrame]) -> pl.DataFrame:
    assert all(isinstance(v, pl.LazyFrame) for v in wide.values())
    out = shard_columns(wide, ["record_id", "value", "extra"], "wide", ids=pl.Series(["b:2", "a:2", "c:9"]))
    counts = {k: row_count(v) for k, v in wide.items()}
    return out.with_columns(pl.lit(str(sorted(counts.items()))).alias("counts"))


def test_a_lazy_fan_in_reads_the_columns_and_rows_it_asks_for(tmp_path):
    io = ParquetIOManager(base_path=str(tmp_path / "data"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("test_shards", ["a", "b", "c"])
        for key in ("a", "b"):  # c never ran: left out, as an eager fan-in leaves it out
            assert dg.materialize([wide], partition_key=key, instance=instance, resources={"io_manager": io}).success
        res = dg.materialize([wide, lazy_fan_in], selection=[lazy_fan_in], instance=instance,
                             resources={"io_manager": io})
        assert res.success
        out = res.output_for_node("lazy_fan_in")
    assert out.columns == ["record_id", "value", "extra", "counts"]  # no transcript read
    assert out["record_id"].to_list() == ["a:2", "b:2"]
    assert out["extra"].to_list() == [None, False]  # a shard without the column gives nulls
    assert out["counts"][0] == "[('a', 2), ('b', 2)]"


def test_shard_columns_with_no_shard_is_a_clear_error():
    with pytest.raises(ValueError, match="no shard of wide has output"):
        shard_columns({}, ["record_id"], "wide")


def test_sync_views_rebuilds_every_view(tmp_path):
    data = tmp_path / "data"
    (data / "x").mkdir(parents=True)
    pl.DataFrame({"a": [1]}).write_parquet(data / "x" / "p1.parquet")
    pl.DataFrame({"a": [2], "b": ["new column"]}).write_parquet(data / "x" / "p2.parquet")
    pl.DataFrame({"c": [3]}).write_parquet(data / "y.parquet")
    db = str(tmp_path / "wh.duckdb")
    assert sync_views(db, str(data), [["x"], ["y"], ["never_materialized"]]) == ["x", "y"]
    with duckdb.connect(db, read_only=True) as con:
        assert con.sql("SELECT count(*), count(b) FROM x").fetchall()[0] == (2, 1)  # union by name
    assert view_name(["a", "b-c"]) == "a__b_c"


def test_a_view_is_created_once_and_still_sees_new_shards_and_columns(tmp_path):
    """Re-creating a view reads every file's footer; a view that already reads its glob is kept,
    and DuckDB binds it again at every query."""
    folder = tmp_path / "x"
    folder.mkdir()
    pl.DataFrame({"a": [1], "b": ["x"]}).write_parquet(folder / "p1.parquet")
    db, glob = str(tmp_path / "wh.duckdb"), f"{folder}/*.parquet"
    assert ensure_views(db, {"x": glob}) == ["x"]
    assert ensure_views(db, {"x": glob}) == []
    pl.DataFrame({"a": [2], "c": [1.5]}).write_parquet(folder / "p2.parquet")  # a new shard, a new column
    pl.DataFrame({"a": [3]}).write_parquet(tmp_path / "y's.parquet")
    assert ensure_views(db, {"x": glob, "y": str(tmp_path / "y's.parquet")}) == ["y"]
    with duckdb.connect(db, read_only=True) as con:
        assert con.sql("SELECT a, b, c FROM x ORDER BY a").fetchall() == [(1, "x", None), (2, None, 1.5)]
        assert con.sql("SELECT a FROM y").fetchall() == [(3,)]
    assert ensure_views(db, {"x": str(folder / "p1.parquet")}) == ["x"]  # another source: re-created
    with duckdb.connect(db, read_only=True) as con:
        assert con.sql("SELECT count(*) FROM x").fetchall() == [(1,)]


def test_non_dataframe_output_is_a_clear_type_error(tmp_path):
    @dg.asset
    def not_a_frame() -> dict:
        return {"a": 1}

    io = ParquetIOManager(base_path=str(tmp_path))
    res = dg.materialize([not_a_frame], resources={"io_manager": io}, raise_on_error=False)
    assert not res.success
    failure = next(e for e in res.all_events if e.is_step_failure)
    assert "stores polars DataFrames and LazyFrames only" in str(failure.step_failure_data.error.cause or failure.step_failure_data.error)


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = UPath(tmp_path / "t.parquet")

    def explode(f):
        f.write(b"half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert list(tmp_path.iterdir()) == []


def test_media_store_is_content_addressed(tmp_path):
    store = MediaStore(root=str(tmp_path / "media"))
    src = tmp_path / "clip.MP4"
    src.write_bytes(b"same bytes")
    a = store.put_file(src)
    b = store.put_bytes(b"same bytes", ".mp4")
    assert a == b and a.uri.startswith("file://") and a.uri.endswith(f"{a.sha256}.mp4")
    assert store.local_path(a.uri).read_bytes() == b"same bytes"
    assert store.exists(a.uri) and a.size == 10
    files = [p for p in (tmp_path / "media").rglob("*") if p.is_file()]
    assert len(files) == 1


def test_hostile_partition_keys_stay_inside_the_asset_folder(tmp_path):
    io = ParquetIOManager(base_path=str(tmp_path / "data"))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("test_shards", ["../../escape", "/abs"])
        for key in ("../../escape", "/abs"):
            assert dg.materialize([per_shard], partition_key=key, instance=instance,
                                  resources={"io_manager": io}).success
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))
    assert all(str(p).startswith("data/per_shard/") for p in written), written
    assert not (tmp_path / "escape.parquet").exists()
