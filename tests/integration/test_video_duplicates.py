"""Near-duplicate videos across shards, from the still hashes the dynamism measurement stores: a
re-encoded, downscaled copy landed in a later shard under another id is rejected naming the original,
the same bytes under a third id are a duplicate file, distinct footage is kept, and a later shard is
signed alone against the stored signatures of the earlier ones."""

import subprocess
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.finevideo.dynamism import analyse
from resources.storage import sha256_file
from resources.warehouse import query
from scripts.materialize import materialize_graph
from tests.fakes.finevideo_screens import finevideo_definitions

SOURCES = {"a": "testsrc2=size=320x240:rate=25:duration=12", "b": "mandelbrot=size=320x240:rate=25",
           "c": "life=size=320x240:rate=25:mold=10:ratio=0.2:death_color=#C83232:life_color=#00ff00"}


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def _source(name: str, out: Path) -> Path:
    _ffmpeg("-f", "lavfi", "-i", SOURCES[name], "-t", "12", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out))
    return out


def _rows(shard: str, videos: dict[str, Path]) -> dict[str, pl.DataFrame]:
    """The upstream partitions the screen reads, as their assets write them (only the columns it reads)."""
    import av

    base, files, raw, dyn = [], [], [], []
    for vid, path in videos.items():
        rid = f"yt:{shard}:{vid}:0"
        with av.open(str(path)) as c:
            duration, s = c.duration / 1e6, c.streams.video[0]
            width, height = s.codec_context.width, s.codec_context.height
        hashes = [{"time_s": t, "hash": h, "centre": c} for t, h, c in analyse(path, duration).still_hashes]
        row = {"record_id": rid, "video_id": vid, "shard": shard, "kept": True, "reason": None}
        base.append(row)
        files.append({**row, "sha256": sha256_file(path), "width": width, "height": height})
        raw.append({"record_id": rid, "video_id": vid, "shard": shard, "source_key": f"yt:{vid}",
                    "license": "CC-BY"})
        dyn.append({**row, "duration_s": duration, "still_hashes": hashes})
    frames = {"taxonomy_labels": base, "video_files": files, "raw_video_metadata": raw, "dynamism_screen": dyn}
    return {k: pl.DataFrame(v, schema_overrides={"reason": pl.String}) for k, v in frames.items()}


def _land(data: Path, shard: str, videos: dict[str, Path]) -> None:
    for asset, df in _rows(shard, videos).items():
        (data / asset).mkdir(parents=True, exist_ok=True)
        df.write_parquet(data / asset / f"{shard}.parquet")


@pytest.mark.slow
def test_copies_in_later_shards_are_found_against_the_stored_signatures(mmf_env, tmp_path):
    data = Path(mmf_env.data)
    a, b, c = (_source(n, tmp_path / f"{n}.mp4") for n in "abc")
    small = tmp_path / "a_small.mp4"  # another upload of a: re-encoded at half size, harder compression
    _ffmpeg("-i", str(a), "-vf", "scale=160:120", "-c:v", "libx264", "-crf", "32", str(small))
    defs = finevideo_definitions()
    with dg.instance_for_test() as instance:
        _land(data, "s1", {"a": a, "b": b})
        instance.add_dynamic_partitions("video_shards", ["s1"])
        assert materialize_graph(defs, instance, selection=[dg.AssetKey("video_duplicates")]).success
        _land(data, "s2", {"x": small, "c": c, "y": b})  # y: b's very bytes under another id
        instance.add_dynamic_partitions("video_shards", ["s2"])
        assert materialize_graph(defs, instance, selection=[dg.AssetKey("video_duplicates")]).success
        meta = instance.fetch_materializations(dg.AssetKey("video_duplicates"), limit=1).records[0] \
            .asset_materialization.metadata
    out = {r["record_id"]: r for r in query(mmf_env.warehouse_path, "SELECT * FROM video_duplicates").iter_rows(
        named=True)}
    assert meta["shards_signed_now"].value == ["s2"] and meta["reused_signatures"].value == 2
    copy = out["yt:s2:x:0"]
    assert (copy["reason"], copy["duplicate_of"]) == ("near_duplicate_video", "yt:s1:a:0") and copy["share"] > 0.5
    assert (out["yt:s2:y:0"]["reason"], out["yt:s2:y:0"]["same_file_as"]) == ("duplicate_file", "yt:s1:b:0")
    assert all(out[r]["kept"] for r in ("yt:s1:a:0", "yt:s1:b:0", "yt:s2:c:0"))
    assert len(out) == 5  # every labelled video is a row
