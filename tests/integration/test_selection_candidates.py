"""Selection's candidate store: a refresh reads only the shards whose files changed, and gives the
rows a read of every stage file gives."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest
from fsspec.implementations.local import LocalFileSystem

from assets.finevideo.candidate_store import FOLDER, cached_candidates
from assets.finevideo.content_selection import candidate_frame
from assets.kit.provenance import MODELS

STAGES = ("taxonomy_labels", "raw_video_metadata", "dynamism_screen")


def _write_shard(root: Path, shard: str, n: int, seed: int) -> None:
    rng = random.Random(seed)
    ids = [f"yt:{shard}:v{i}:0" for i in range(n)]
    frames = {
        "taxonomy_labels": pl.DataFrame({
            "record_id": ids, "shard": [shard] * n, "video_id": [f"v{i}" for i in range(n)],
            "kept": [rng.random() < 0.8 for _ in range(n)],
            "category_path": [rng.choice(["A > a", "A > b", "B > c"]) for _ in range(n)],
            "confidence": [rng.random() for _ in range(n)], "margin": [rng.random() for _ in range(n)],
            "taxonomy_version": ["t1"] * n, "models": pl.Series([[{"role": "labeller", "backend": "offline"}]] * n, dtype=MODELS)}),
        "raw_video_metadata": pl.DataFrame({
            "record_id": ids, "source_key": [f"src{rng.randrange(n * 3)}" for _ in range(n)],
            "channel": [f"ch{rng.randrange(5)}" for _ in range(n)], "license": ["CC-BY"] * n,
            "channel_follower_count": [rng.randrange(1000) for _ in range(n)],
            "view_count": [rng.randrange(10**6) for _ in range(n)], "like_count": [rng.randrange(10**4) for _ in range(n)],
            "comment_count": [rng.randrange(100) for _ in range(n)], "title": [f"t{i}" for i in range(n)],
            "text": ["words " * 20] * n}),
        # the dynamism screen ran only on what the earlier screens kept
        "dynamism_screen": pl.DataFrame({"record_id": ids[: n - 2],
                                         "duration_s": [float(rng.randrange(30, 900)) for _ in range(n - 2)]}),
    }
    for stage, df in frames.items():
        (root / stage).mkdir(parents=True, exist_ok=True)
        df.write_parquet(root / stage / f"{shard}.parquet")


def _inputs(root: Path, shards: list[str]) -> dict[str, dict[str, pl.LazyFrame]]:
    return {s: {k: pl.scan_parquet(root / s / f"{k}.parquet") for k in shards} for s in STAGES}


def _read_every_file(inputs: dict[str, dict[str, pl.LazyFrame]]) -> pl.DataFrame:
    """The candidates as selection read them before the store: every stage's files, joined over all ids."""
    whole = {s: pl.concat([inputs[s][k] for k in sorted(inputs[s])], how="diagonal_relaxed").collect() for s in STAGES}
    return candidate_frame(whole["taxonomy_labels"], whole["raw_video_metadata"].drop("title", "text"),
                           whole["dynamism_screen"])


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort("record_id")


def test_a_refresh_reads_only_changed_shards_and_gives_the_rows_of_every_file(tmp_path):
    fs, root = LocalFileSystem(), str(tmp_path)
    shards = ["shard-001", "shard-002", "shard-003"]
    for i, shard in enumerate(shards):
        _write_shard(tmp_path, shard, 40, seed=i)

    first, built, unstored = cached_candidates(fs, root, _inputs(tmp_path, shards), lambda k: k)
    assert sorted(built.rebuilt) == [f"shard={s}" for s in shards] and not built.reused and not unstored
    expected = _read_every_file(_inputs(tmp_path, shards))
    assert first.columns == expected.columns
    assert _sorted(first).equals(_sorted(expected))
    assert first["duration_s"].null_count() > 0  # a label without a dynamism row keeps a null duration

    # shard-002 is rewritten (another labelling run), shard-004 lands
    _write_shard(tmp_path, "shard-002", 40, seed=7)
    _write_shard(tmp_path, "shard-004", 25, seed=4)
    shards.append("shard-004")
    second, built, unstored = cached_candidates(fs, root, _inputs(tmp_path, shards), lambda k: k)
    assert sorted(built.rebuilt) == ["shard=shard-002", "shard=shard-004"]
    assert sorted(built.reused) == ["shard=shard-001", "shard=shard-003"]
    assert _sorted(second).equals(_sorted(_read_every_file(_inputs(tmp_path, shards))))

    # a shard no longer among the inputs leaves the store; one stored elsewhere is read as it comes
    inputs = _inputs(tmp_path, ["shard-001", "shard-002", "shard-004"])
    elsewhere = tmp_path / "elsewhere"
    _write_shard(elsewhere, "shard-009", 10, seed=9)
    for stage, frames in _inputs(elsewhere, ["shard-009"]).items():
        inputs[stage].update(frames)
    third, built, unstored = cached_candidates(fs, root, inputs, lambda k: k)
    assert built.removed == ["shard=shard-003"] and not built.rebuilt and unstored == ["shard-009"]
    assert len(fs.ls(f"{root}/{FOLDER}")) == 3 + 1  # three segments and the manifest
    assert _sorted(third).equals(_sorted(_read_every_file(inputs)))
    assert third.filter(pl.col("shard") == "shard-009").height > 0


def test_a_shard_whose_inputs_are_not_all_stored_files_is_read_uncached(tmp_path):
    """A stage input from elsewhere is not in the store's key: caching the shard would miss its changes."""
    fs, root = LocalFileSystem(), str(tmp_path)
    _write_shard(tmp_path, "shard-001", 20, seed=1)
    (tmp_path / "raw_video_metadata" / "shard-001.parquet").unlink()  # stored by another IO manager
    other = tmp_path / "other"
    inputs = {st: frames for st, frames in _inputs(tmp_path, ["shard-001"]).items() if st != "raw_video_metadata"}
    for seed in (2, 3):  # the raw metadata, stored under another root, changes between the runs
        _write_shard(other, "shard-001", 20, seed=seed)
        inputs["raw_video_metadata"] = _inputs(other, ["shard-001"])["raw_video_metadata"]
        out, built, unstored = cached_candidates(fs, root, inputs, lambda k: k)
        assert unstored == ["shard-001"] and not built.rebuilt
        assert _sorted(out).equals(_sorted(_read_every_file(inputs)))


def test_no_shard_output_of_a_stage_is_a_clear_error(tmp_path):
    _write_shard(tmp_path, "shard-001", 5, seed=1)
    inputs = _inputs(tmp_path, ["shard-001"])
    inputs["dynamism_screen"] = {}
    with pytest.raises(ValueError, match="no shard of dynamism_screen has output"):
        cached_candidates(LocalFileSystem(), str(tmp_path), inputs, lambda k: k)
