import os

import dagster as dg
import polars as pl

from resources.warehouse import query
from scripts.materialize import materialize_graph
from scripts.shards import register_landed_shards
from tests.fakes.finevideo_screens import finevideo_definitions

RAW = dg.AssetKey("raw_video_metadata")


def test_each_shard_is_read_on_its_own_and_queryable_in_the_warehouse(mmf_env):
    yc = mmf_env.landing + "/youtube_commons"
    os.makedirs(yc)
    pl.DataFrame({"video_id": ["a", "b"], "text": ["x y", "z"], "license": ["CC-BY", "CC-BY"]}).write_parquet(f"{yc}/one.parquet")
    pl.DataFrame({"video_id": ["c"], "view_count": ["7"], "language_id_method": ["ft"]}).write_parquet(f"{yc}/two.parquet")
    defs = finevideo_definitions()
    with dg.instance_for_test() as instance:
        register_landed_shards(defs, instance)
        run = materialize_graph(defs, instance, selection=[RAW])
        assert run.success and [r.partition_key for r in run.runs] == ["one", "two"]
        mats = instance.fetch_materializations(RAW, limit=10).records
        meta = {r.partition_key: r.asset_materialization.metadata for r in mats}
        assert "source_language" in meta["two"]["missing_columns"].value
        assert meta["one"]["dagster/row_count"].value == 2
    df = query(mmf_env.warehouse_path, "SELECT record_id, shard, view_count FROM raw_video_metadata ORDER BY record_id")
    assert df.rows() == [("yt:one:a:0", "one", None), ("yt:one:b:1", "one", None), ("yt:two:c:0", "two", 7)]


def test_an_unreadable_shard_materializes_empty_with_its_reason(mmf_env):
    """A shard that is not Parquet must not jam the graph: its partition materializes an empty table,
    says why in its metadata and fails the WARN check shard_readable; the run succeeds."""
    os.makedirs(mmf_env.landing + "/youtube_commons")
    with open(mmf_env.landing + "/youtube_commons/bad.parquet", "wb") as f:
        f.write(b"not parquet at all")
    defs = finevideo_definitions()
    with dg.instance_for_test() as instance:
        register_landed_shards(defs, instance)
        run = materialize_graph(defs, instance, selection=[RAW])
        assert run.success
        record = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=RAW), limit=1).records[0]
        meta = record.asset_materialization.metadata
        checks = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(RAW, "shard_readable"), limit=1)
    assert meta["shard_status"].value == "unreadable"
    assert "unreadable shard bad.parquet" in meta["shard_error"].value
    assert meta["dagster/row_count"].value == 0
    assert checks[0].evaluation.passed is False
    assert pl.read_parquet(mmf_env.data + "/raw_video_metadata/bad.parquet").height == 0


def test_a_fifo_or_a_folder_named_like_a_shard_is_unreadable_never_a_hang(mmf_env):
    yc = mmf_env.landing + "/youtube_commons"
    os.makedirs(yc + "/folder.parquet")
    os.mkfifo(yc + "/pipe.parquet")  # opening it for reading would wait for a writer forever
    defs = finevideo_definitions()
    with dg.instance_for_test() as instance:
        register_landed_shards(defs, instance)
        run = materialize_graph(defs, instance, selection=[RAW])
        assert run.success
        meta = {r.partition_key: r.asset_materialization.metadata
                for r in instance.fetch_materializations(RAW, limit=10).records}
    assert {k: m["shard_status"].value for k, m in meta.items()} == {"folder": "unreadable", "pipe": "unreadable"}
    assert "not a regular file" in meta["pipe"]["shard_error"].value
