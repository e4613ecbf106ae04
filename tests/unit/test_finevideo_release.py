import json
import tarfile

import polars as pl

from assets.finevideo.dataset_card import card, funnel, markdown, models_by_role
from assets.finevideo.release import release_rows, sample_json, write_tar
from assets.kit.provenance import contract_problems, model_entry, models_series

CONTENT = json.dumps({"title": "t", "scenes": [], "fps": 10.0})


def entry(role, model):
    return model_entry(role, "offline", model, f"{role}@1", "sha", "fp")


def test_release_rows_join_selection_and_carry_every_model_step_in_models():
    aligned = pl.DataFrame({"record_id": ["yt:s:a:0", "yt:s:b:1"], "kept": [True, False],
                            "content_metadata": [CONTENT, None], "max_shift_frames": [3, 200]})
    annotations = pl.DataFrame({"record_id": ["yt:s:a:0", "yt:s:b:1"]}).with_columns(
        models_series([[entry("description", "outline"), entry("annotation", "grounded")], []]))
    selection = pl.DataFrame({"record_id": ["yt:s:a:0", "yt:s:b:1", "yt:s:c:2"], "kept": [True, True, False],
                              "video_id": ["a", "b", "c"], "source_key": ["yt:a", "yt:b", "yt:c"],
                              "media_uri": ["file:///a.mp4", "file:///b.mp4", None],
                              "sha256": ["s"] * 3, "duration_s": [60.0, 70.0, 80.0], "title": ["A", "B", "C"],
                              "license": ["CC-BY"] * 3, "content_parent_category": ["Sports"] * 3}).with_columns(
        models_series([[entry("label", "leaf-similarity")]] * 3))
    cleaned = CONTENT.replace('"t"', '"t [email]"')
    review = pl.DataFrame({"record_id": ["yt:s:a:0"], "kept": [True], "content_metadata": [cleaned],
                           "caption_original": ['{"title": "t a@b.org"}']}).with_columns(
        models_series([[entry("caption_flags", "caption-rules")]]))
    rows = release_rows(aligned, annotations, selection, review)
    assert rows.height == 1 and contract_problems(rows) == []
    r = rows.row(0, named=True)
    assert (r["video_uri"], r["video_sha256"], r["youtube_title"], r["source_key"]) == ("file:///a.mp4", "s", "A", "yt:a")
    assert [(m["role"], m["model"]) for m in r["models"]] == [
        ("label", "leaf-similarity"), ("description", "outline"), ("annotation", "grounded"),
        ("caption_flags", "caption-rules")]
    assert (r["content_metadata"], r["caption_original"]) == (cleaned, '{"title": "t a@b.org"}')  # side by side
    assert release_rows(aligned, annotations, selection, review.with_columns(kept=False)).height == 0
    assert r["parent_ids"] == []  # the same video record as the selection row
    assert not any(c.startswith(("label_", "annotation_")) for c in rows.columns)
    assert r["alignment_max_shift_frames"] == 3 and r["duration_seconds"] == 60.0
    assert r["youtube_channel"] is None  # a column the selection lacked is still released, as null
    meta = json.loads(sample_json(r))
    assert meta["content_metadata"]["fps"] == 10.0 and meta["license"] == "CC-BY"
    assert models_by_role(rows) == {"annotation_models": "offline:grounded", "caption_flags_models":
                                    "offline:caption-rules", "description_models": "offline:outline",
                                    "label_models": "offline:leaf-similarity"}


def test_tar_shards_are_reproducible_and_hold_a_video_and_json_per_sample(tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00video")
    samples = [("b", video, b'{"k": 2}'), ("a", video, b'{"k": 1}')]
    write_tar(samples, tmp_path / "one.tar")
    write_tar(list(reversed(samples)), tmp_path / "two.tar")
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    with tarfile.open(tmp_path / "one.tar") as tar:
        assert tar.getnames() == ["a.mp4", "a.json", "b.mp4", "b.json"]
        assert tar.extractfile("b.json").read() == b'{"k": 2}' and tar.getmember("a.mp4").mtime == 0


def test_the_card_funnel_counts_each_stage_from_its_own_verdicts():
    raw = pl.DataFrame({"record_id": ["a", "b", "c"]})
    screen = pl.DataFrame({"kept": [True, False, False], "reason": [None, "static", "static"],
                           "duration_s": [3600.0, 60.0, 60.0]})
    dataset = pl.DataFrame({"duration_seconds": [1800.0, 1800.0], "license": ["CC-BY", "CC-BY-SA"],
                            "content_parent_category": ["Sports", "Sports"],
                            "content_category_path": ["Sports > X > Y", "Sports > X > Z"]})
    f = funnel([("raw_video_metadata", raw), ("dynamism_screen", screen), ("finevideo_dataset", dataset)])
    assert f.select("stage", "inputs", "kept", "rejected").rows() == [
        ("raw_video_metadata", 3, 3, 0), ("dynamism_screen", 3, 1, 2), ("finevideo_dataset", 2, 2, 0)]
    assert f["kept_hours"].to_list() == [None, 1.0, 1.0] and f["top_rejections"][1] == "static 2"
    c = card(dataset, f, {"taxonomy_version": "abc"})
    assert c["hours"] == 1.0 and c["licences"] == {"CC-BY": 1, "CC-BY-SA": 1}
    assert c["parent_categories"] == [{"name": "Sports", "videos": 2, "hours": 1.0}]
    text = markdown(c)
    assert "| dynamism_screen | 3 | 1 | 2 | 1.0 | static 2 |" in text and "- taxonomy_version: abc" in text
    assert "## Known limitations" in text and all(f"- {x}" in text for x in c["known_limitations"])
