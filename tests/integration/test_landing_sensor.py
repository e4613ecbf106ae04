import os
import time

import dagster as dg
import polars as pl

from assets.kit.partitions import video_shards
from resources.landing import LandingZone
from sensors.landing import ADD_BATCH, SHARD_SOURCES, build_landing_sensor


@dg.asset(partitions_def=video_shards)
def shard_rows(context) -> pl.DataFrame:
    return pl.DataFrame({"k": [context.partition_key]})


def _shard(folder, name):
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"video_id": [name]}).write_parquet(folder / f"{name}.parquet")


def _tick(sensor, instance, landing, cursor=None):
    ctx = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": landing})
    return sensor(ctx)


def _apply(instance, result):
    for req in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))


def test_new_shards_become_partitions_and_runs_once(tmp_path):
    yc = tmp_path / "youtube_commons"
    _shard(yc, "s1")
    _shard(yc, "s2")
    landing = LandingZone(root=str(tmp_path))
    sensor = build_landing_sensor(SHARD_SOURCES[0], dg.AssetSelection.assets(shard_rows))
    with dg.instance_for_test() as instance:
        first = _tick(sensor, instance, landing)
        assert [r.partition_key for r in first.run_requests] == ["s1", "s2"]
        assert first.dynamic_partitions_requests[0].partition_keys == ["s1", "s2"]
        _apply(instance, first)

        second = _tick(sensor, instance, landing, first.cursor)
        assert not second.run_requests and "no new shards" in second.skip_reason.skip_message

        _shard(yc, "s3")
        f = yc / "s1.parquet"
        pl.DataFrame({"video_id": ["changed", "rows"]}).write_parquet(f)
        os.utime(f, (time.time() + 10, time.time() + 10))
        third = _tick(sensor, instance, landing, second.cursor)
        assert sorted(r.partition_key for r in third.run_requests) == ["s1", "s3"]
        assert third.dynamic_partitions_requests[0].partition_keys == ["s3"]  # s1 exists already


def test_adds_are_batched(tmp_path):
    yc = tmp_path / "youtube_commons"
    yc.mkdir()
    for i in range(ADD_BATCH + 3):
        (yc / f"s{i:04d}.parquet").write_bytes(b"x")
    sensor = build_landing_sensor(SHARD_SOURCES[0], None)
    with dg.instance_for_test() as instance:
        result = _tick(sensor, instance, LandingZone(root=str(tmp_path)))
    sizes = [len(r.partition_keys) for r in result.dynamic_partitions_requests]
    assert sizes == [ADD_BATCH, 3] and result.run_requests == []


def test_missing_landing_zone_skips_with_the_reason(tmp_path):
    sensor = build_landing_sensor(SHARD_SOURCES[0], None)
    with dg.instance_for_test() as instance:
        result = _tick(sensor, instance, LandingZone(root=str(tmp_path / "nowhere")))
    assert "does not exist" in result.skip_message


def test_content_that_comes_back_and_a_withdrawn_shard_that_returns_are_run_again(tmp_path):
    """Run keys carry the tick: a shard rewritten A -> B -> A, or withdrawn and landed again with the
    same bytes, gets a fresh key each time (the daemon never runs a key twice)."""
    yc = tmp_path / "youtube_commons"
    landing = LandingZone(root=str(tmp_path))
    sensor = build_landing_sensor(SHARD_SOURCES[0], dg.AssetSelection.assets(shard_rows))
    f = yc / "s1.parquet"
    keys = []
    with dg.instance_for_test() as instance:
        cursor = None
        for content in (["a"], ["b"], ["a"]):
            yc.mkdir(exist_ok=True)
            pl.DataFrame({"video_id": content}).write_parquet(f)
            result = _tick(sensor, instance, landing, cursor)
            _apply(instance, result)
            keys += [r.run_key for r in result.run_requests]
            cursor = result.cursor
        assert len(keys) == 3 == len(set(keys))
        saved = f.read_bytes()
        f.unlink()
        for _ in range(3):  # absent, withdrawn, nothing more
            result = _tick(sensor, instance, landing, cursor)
            keys += [r.run_key for r in result.run_requests]
            cursor = result.cursor
        f.write_bytes(saved)  # the same bytes land again
        result = _tick(sensor, instance, landing, cursor)
        keys += [r.run_key for r in result.run_requests]
        assert len(keys) == 5 == len(set(keys)) and "withdrawn" in keys[3]


def test_a_missing_folder_or_one_missed_listing_withdraws_nothing(tmp_path):
    yc = tmp_path / "youtube_commons"
    _shard(yc, "s1")
    landing = LandingZone(root=str(tmp_path))
    sensor = build_landing_sensor(SHARD_SOURCES[0], dg.AssetSelection.assets(shard_rows))
    with dg.instance_for_test() as instance:
        first = _tick(sensor, instance, landing)
        _apply(instance, first)
        (yc / "s1.parquet").rename(tmp_path / "s1.parquet")
        yc.rmdir()  # the whole folder is gone (an unmounted share): an outage, not a withdrawal
        cursor = first.cursor
        for _ in range(3):
            result = _tick(sensor, instance, landing, cursor)
            assert not result.run_requests
            cursor = result.cursor
        yc.mkdir()
        (tmp_path / "s1.parquet").rename(yc / "s1.parquet")
        assert not _tick(sensor, instance, landing, cursor).run_requests  # back as it was: nothing to do
