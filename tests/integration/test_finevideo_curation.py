"""The curation half of the FineVideo group on the tiny corpus: taxonomy to dataset card.

The four screens before it are built in parallel; their partitions are written from the corpus
manifest and real probes of its files (tests/fakes/finevideo_screens.py), the scene cuts the
manifest's; the annotation step reads them from dynamism_screen and decodes no video."""

import hashlib
import json
import os
import tarfile
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from corpus.build import build_corpus
from resources.warehouse import query
from scripts.materialize import materialize_graph
from scripts.shards import register_landed_shards
from tests.fakes.finevideo_screens import fabricate, finevideo_definitions

CURATION = ["taxonomy", "taxonomy_labels", "taxonomy_feedback", "video_duplicates", "curated_selection",
            "video_annotations", "aligned_annotations", "caption_review", "finevideo_dataset", "finevideo_dataset_card"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("landing")
    return out, build_corpus(out, seed=0, size="tiny")


def _check_results(instance, run_ids) -> dict[tuple[str, str], bool]:
    out = {}
    for run_id in run_ids:
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
            data = e.dagster_event.event_specific_data
            out[(data.asset_key.to_user_string(), data.check_name)] = data.passed
    return out


@pytest.mark.slow
def test_the_curation_stages_account_for_every_video_and_release_an_aligned_dataset(tiny, tmp_path, monkeypatch):
    landing, manifest = tiny
    data = tmp_path / "data"
    monkeypatch.setenv("MMFOUNDRY_DATA", str(data))
    monkeypatch.setenv("MMFOUNDRY_LANDING", str(landing))
    monkeypatch.setenv("MMFOUNDRY_DEPLOYMENT", "local")
    monkeypatch.delenv("MMFOUNDRY_WAREHOUSE", raising=False)
    monkeypatch.delenv("MMFOUNDRY_CACHE", raising=False)
    videos = {it["id"]: it for it in manifest["items"] if it["kind"] == "video"}
    selectable = {i for i, it in videos.items() if it["expected"]["selectable"]}
    defs = finevideo_definitions()
    with dg.instance_for_test() as instance:
        register_landed_shards(defs, instance)
        assert materialize_graph(defs, instance, selection=[dg.AssetKey("raw_video_metadata")]).success
        counts = fabricate(manifest, landing, str(data))
        run = materialize_graph(defs, instance, selection=[dg.AssetKey(a) for a in CURATION])
        assert run.success, [r.error for r in run.runs if not r.success]
        checks = _check_results(instance, [r.run_id for r in run.runs])
    assert checks and all(checks.values()), {k: v for k, v in checks.items() if not v}
    for asset in ("taxonomy_labels", "video_annotations", "aligned_annotations"):
        assert checks[(asset, "accounted")] and checks[(asset, "unique_ids")]
    assert checks[("curated_selection", "accounted")] and checks[("finevideo_dataset", "complete")]
    assert checks[("video_annotations", "schema_valid")] and checks[("finevideo_dataset", "schema_valid")]

    wh = str(data / "warehouse.duckdb")
    labels = query(wh, "SELECT * FROM taxonomy_labels")
    assert labels.height == counts["dynamism_screen"] == len(selectable)
    for vid, path in labels.select("video_id", "category_path").rows():
        assert path == videos[vid]["topic"]  # the offline labeller gets the sample's topics right
    label_models = labels["models"].to_list()
    assert all(len(m) == 1 and m[0]["role"] == "label" and m[0]["backend"] == "offline" and m[0]["prompt_sha"]
               for m in label_models)
    encoder = os.environ.get("MMFOUNDRY_EMBEDDING_MODEL") or "all-MiniLM-L6-v2"  # what the resource loads
    assert {m[0]["model"] for m in label_models} == {f"offline:{encoder}:leaf-similarity"}
    assert not {"backend", "model", "prompt_sha", "task_version"} & set(labels.columns)

    sel = query(wh, "SELECT * FROM curated_selection")
    assert sel.height == labels.height
    budget = 0.6 * sel["duration_s"].sum()
    chosen = sel.filter("kept")
    assert 0 < chosen.height < sel.height and chosen["duration_s"].sum() <= budget
    assert sel.filter(~pl.col("kept"))["reason"].null_count() == 0

    ann = query(wh, "SELECT * FROM video_annotations")
    assert sorted(ann["record_id"]) == sorted(chosen["record_id"]) and ann["kept"].all()
    assert set(ann["cuts_source"]) == {"dynamism_screen"} and set(ann["cues_source"]) == {"subtitles"}
    for vid, cuts in ann.select("video_id", "scene_cuts_s").rows():
        assert cuts == pytest.approx(videos[vid]["video"]["scene_cuts_s"], abs=0.15)
    assert all([m["role"] for m in ms] == ["description", "annotation"] for ms in ann["models"].to_list())

    aligned = query(wh, "SELECT * FROM aligned_annotations")
    assert aligned["kept"].all() and aligned.height == ann.height
    for vid, content in aligned.select("video_id", "content_metadata").rows():
        v = videos[vid]["video"]
        scenes = json.loads(content)["scenes"]
        starts = [s["timestamps"]["start_timestamp"] for s in scenes]
        assert starts == ["00:00:00.000", *[f"00:{int(c) // 60:02d}:{int(c) % 60:02d}.000" for c in v["scene_cuts_s"]]]
        last = v["duration_s"] - 1 / v["fps"]
        assert scenes[-1]["timestamps"]["end_timestamp"] == f"00:{int(last) // 60:02d}:{last % 60:06.3f}"

    ds = query(wh, "SELECT * FROM finevideo_dataset")
    assert ds.height == aligned.height
    row = ds.row(0, named=True)
    video = Path(row["video_uri"].removeprefix("file://"))
    assert hashlib.sha256(video.read_bytes()).hexdigest() == row["video_sha256"]
    assert row["content_parent_category"] == videos[row["video_id"]]["topic"].split(" > ")[0]
    assert row["license"] == "CC-BY" and row["parent_ids"] == []
    assert [(m["role"], m["backend"]) for m in row["models"]] == [
        ("label", "offline"), ("description", "offline"), ("annotation", "offline"), ("caption_flags", "offline")]
    with tarfile.open(row["wds_shard_uri"].removeprefix("file://")) as tar:
        assert sorted(tar.getnames()) == sorted(f"{row['wds_key']}.{ext}" for ext in ("json", "mp4") for row in ds.iter_rows(named=True))
        meta = json.load(tar.extractfile(f"{row['wds_key']}.json"))
    assert meta["content_metadata"]["fps"] == videos[row["video_id"]]["video"]["fps"]

    funnel = query(wh, "SELECT * FROM finevideo_dataset_card ORDER BY \"order\"")
    stages = dict(zip(funnel["stage"], funnel.select("inputs", "kept").rows(), strict=True))
    assert stages["raw_video_metadata"] == (len(videos), len(videos))
    assert stages["language_screen"][1] == counts["language_screen"]
    chain = funnel["stage"].to_list()
    for before, after in zip(chain[1:], chain[2:], strict=False):
        if after != "finevideo_dataset":
            assert stages[after][0] == stages[before][1], (before, after)
    assert stages["finevideo_dataset"][1] == ds.height
    cards = [p for p in (data / "media").rglob("*.md")]
    assert cards and "## Funnel" in cards[0].read_text()
    assert os.path.exists(data / "taxonomy_feedback.parquet")
