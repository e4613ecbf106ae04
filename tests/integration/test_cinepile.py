"""The cinepile group materialized through the code location on a tiny generated input: aligned
annotations + selection rows written where the IO manager reads them, subtitles in the landing zone,
a 60-question bank; and the same scenes read from an external clip table instead."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.cinepile.bank import DEFAULT_BANK
from assets.cinepile.categories import CATEGORIES
from assets.cinepile.tables import STATUSES
from assets.kit.identity import parse_record_id
from assets.kit.provenance import contract_problems
from resources.warehouse import query
from tests.fakes.deployment import local_deployment

NAMES = ["Ana", "Ben", "Cleo", "Dev", "Eli"]
TOPICS = ["the lighthouse keeper", "the night train", "the old bakery"]


def vtt(video: int) -> str:
    blocks = ["WEBVTT", ""]
    for i in range(10):
        who = NAMES[(i + video) % len(NAMES)]
        blocks += [f"00:00:{3 * i + 1:02d}.000 --> 00:00:{3 * i + 3:02d}.000",
                   f"{who}: Line {i} about {TOPICS[video]} number {i * 7 + video} is here.", ""]
    return "\n".join(blocks)


def content(video: int) -> str:
    def scene(i, a, b, mood):
        return {"sceneId": i, "title": f"part {i}", "timestamps": {"start_timestamp": a, "end_timestamp": b},
                "activities": [{"description": f"someone opens door {i}",
                                "timestamp": {"start_timestamp": a, "end_timestamp": a}}],
                "props": [], "videoEditingDetails": [], "mood": {"description": mood, "keyMoments": []},
                "thematicElements": f"Stories > {TOPICS[video].title()}", "dynamismScore": 0.3 * i,
                "audioVisualCorrelation": 0.8}
    return json.dumps({"title": "t", "description": "d", "characterList": [], "qAndA": [], "trimmingSuggestions": [],
                       "storylines": {"description": "", "scenes": [1, 2], "climax": {"description": "", "timestamp": "00:10"}},
                       "scenes": [scene(1, "00:00:00.000", "00:00:15.000", "Calm"),
                                  scene(2, "00:00:15.040", "00:00:31.000", "Excited")]})


def inputs(root: Path, data: Path, landing: Path) -> dict:
    ids = [f"vid{v}" for v in range(3)]
    (landing / "videos").mkdir(parents=True, exist_ok=True)
    for v, vid in enumerate(ids):
        (landing / "videos" / f"{vid}.en.vtt").write_text(vtt(v))
    aligned = pl.DataFrame({"record_id": [f"rec{v}" for v in range(3)], "video_id": ids, "kept": [True] * 3,
                            "duration_s": [31.0] * 3, "content_metadata": [content(v) for v in range(3)]})
    selection = pl.DataFrame({"record_id": aligned["record_id"], "video_id": ids, "kept": [True] * 3,
                              "title": [f"Story of {t}" for t in TOPICS], "date": ["2021-05-01T00:00:00Z"] * 3,
                              "content_parent_category": ["Entertainment"] * 3, "content_fine_category": ["Shorts"] * 3,
                              "subtitle_uri": [None] * 3})
    data.mkdir(parents=True, exist_ok=True)
    aligned.write_parquet(data / "aligned_annotations.parquet")
    selection.write_parquet(data / "curated_selection.parquet")
    bank = root / "bank.parquet"
    pl.read_ndjson(DEFAULT_BANK).head(60).write_parquet(bank)
    clip_table = root / "clips.parquet"
    aligned.with_columns(pl.Series("subtitles", [vtt(v) for v in range(3)]), pl.Series("title", selection["title"]),
                         pl.lit(2021).alias("year")).write_parquet(clip_table)
    return {"bank": str(bank), "clip_table": str(clip_table)}


def materialize(run_config: dict):
    from definitions import build_definitions

    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    keys = [k for k in graph.materializable_asset_keys if graph.get(k).group_name == "cinepile"]
    with dg.instance_for_test() as instance:
        res = defs.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=keys, run_config=run_config, raise_on_error=False)
        checks = [e.asset_check_evaluation_data for e in res.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    return res, checks


def config(paths: dict, clip_table: bool) -> dict:
    ops = {"question_bank": {"config": {"path": paths["bank"]}},
           "question_templates": {"config": {"k_min": 3, "k_max": 12}},
           "scene_questions": {"config": {"questions_per_video": 12}},
           "cinepile_dataset": {"config": {"test_share": 0.5}}}
    if clip_table:
        ops["cinepile_scenes"] = {"config": {"clip_table": paths["clip_table"]}}
    return {"ops": ops}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("cinepile")
    with pytest.MonkeyPatch.context() as mp:
        local_deployment(mp, root / "data", root / "landing")
        paths = inputs(root, root / "data", root / "landing")
        res, checks = materialize(config(paths, clip_table=False))
        assert res.success
        tables = {n: pl.read_parquet(root / "data" / f"{n}.parquet") for n in (
            "question_bank", "question_templates", "cinepile_scenes", "scene_questions", "refinement_rounds",
            "refined_questions", "cinepile_dataset", "cinepile_predictions", "cinepile_leaderboard",
            "cinepile_dataset_card")}
        warehouse = str(root / "data" / "warehouse.duckdb")
        leaderboard_view = query(warehouse, "SELECT * FROM cinepile_leaderboard")
        clip_res, _ = materialize(config(paths, clip_table=True))
        assert clip_res.success
        clip_scenes = pl.read_parquet(root / "data" / "cinepile_scenes.parquet")
        yield {"checks": checks, "tables": tables, "view": leaderboard_view, "clip_scenes": clip_scenes}


def test_every_check_passes(built):
    assert built["checks"] and all(c.passed for c in built["checks"]), [
        (c.asset_key.to_user_string(), c.check_name) for c in built["checks"] if not c.passed]


def test_scenes_come_from_the_aligned_annotations_with_their_subtitles(built):
    scenes = built["tables"]["cinepile_scenes"]
    assert scenes.height == 6 and scenes["kept"].all()
    assert set(scenes["video_record_id"]) == {"rec0", "rec1", "rec2"} and scenes["lines"].sum() == 30
    assert set(scenes["source"]) == {"aligned_annotations"}


def test_every_question_is_accounted_for_at_every_stage(built):
    t = built["tables"]
    questions = t["scene_questions"]
    kept = questions.filter(pl.col("kept"))
    assert questions.filter(~pl.col("kept"))["reason"].null_count() == 0
    # three videos of two scenes with the same moods and levels: the answer-prior balance trims them
    priors = questions.filter(pl.col("reason") == "key_prior")
    assert kept.height + priors.height >= 24 and kept.height >= 10
    assert set(kept["video_record_id"]) == {"rec0", "rec1", "rec2"}
    assert priors["detail"].str.contains("x chance").all()
    rounds = t["refinement_rounds"]
    assert rounds.filter(pl.col("is_final")).height == kept.height == t["refined_questions"].height
    assert set(rounds["question_id"]) == set(kept["record_id"]) and rounds["round"].max() <= 5
    refined = t["refined_questions"]
    assert set(refined["status"]) <= set(STATUSES)
    assert t["cinepile_dataset"].height == int(refined["kept"].sum())


def test_questions_are_grounded_with_five_choices_and_provenance(built):
    kept = built["tables"]["scene_questions"].filter(pl.col("kept"))
    assert (kept["choices"].list.len() == 5).all()
    assert (kept["choices"].list.unique().list.len() == 5).all()
    assert kept.select(pl.col("choices").list.get(pl.col("answer_key_position")) == pl.col("answer_key")).to_series().all()
    for row in kept.iter_rows(named=True):
        assert [m["role"] for m in row["models"]] == ["template_pick", "question"]
        assert {m["backend"] for m in row["models"]} == {"offline"} and all(m["prompt_sha"] for m in row["models"])
        assert row["parent_ids"] == [row["scene_record_id"], row["template_id"]]
    assert not {"backend", "model", "task_version", "prompt_sha", "pick_model"} & set(kept.columns)


# namespace of each table's ids, and the table(s) its parents come from (None: a source row)
LINEAGE = {
    "question_bank": ("bank", None),
    "question_templates": ("template", ["question_bank"]),
    "cinepile_scenes": ("scene", ["aligned"]),
    "scene_questions": ("question", ["cinepile_scenes", "question_templates"]),
    "refinement_rounds": ("round", ["scene_questions"]),
    "refined_questions": ("refined", ["scene_questions", "refinement_rounds"]),
    "cinepile_dataset": ("cinepile", ["refined_questions", "cinepile_scenes"]),
    "cinepile_predictions": ("prediction", ["cinepile_dataset"]),
    "cinepile_leaderboard": ("leaderboard", ["cinepile_predictions"]),
    "cinepile_dataset_card": ("card", None),
}


def test_every_row_has_a_unique_minted_id_and_parents_that_exist_upstream(built):
    t = {**built["tables"], "aligned": pl.DataFrame({"record_id": ["rec0", "rec1", "rec2"]})}
    for name, (namespace, sources) in LINEAGE.items():
        df = t[name]
        assert contract_problems(df) == [], name
        assert df["record_id"].n_unique() == df.height, name
        assert {parse_record_id(r)[0] for r in df["record_id"]} == {namespace}, name
        parents = {p for ps in df["parent_ids"].to_list() for p in ps}
        known = set().union(*(set(t[s]["record_id"]) for s in sources)) if sources else set()
        assert parents <= known, (name, sorted(parents - known)[:3])
    scenes = t["cinepile_scenes"]
    assert [parse_record_id(r)[1][0] for r in scenes["record_id"]] == scenes["video_record_id"].to_list()
    refined = t["refined_questions"]
    assert [parse_record_id(r)[1][0] for r in refined["record_id"]] == refined["question_id"].to_list()


def test_model_entries_name_the_encoder_the_offline_methods_ran(built):
    t = built["tables"]
    models = {(m["role"], m["model"]) for name in ("question_templates", "refinement_rounds", "cinepile_predictions")
              for ms in t[name]["models"].to_list() for m in ms}
    assert ("template", "offline:medoid+tfidf+category-similarity+all-MiniLM-L6-v2") in models
    assert ("blind_answer", "offline:text-only-baselines+all-MiniLM-L6-v2") in models
    assert {r for r, _ in models} >= {"template", "template_pick", "question", "blind_answer", "context_answer",
                                      "reader"}


def test_dataset_rows_are_cinepile_shaped_and_split_by_video(built):
    ds = built["tables"]["cinepile_dataset"]
    assert ds.schema["genre"] == pl.List(pl.String) and ds.schema["answer_key_position"] == pl.Int64
    assert set(ds["hard_split"]) <= {"True", "False"} and set(ds["visual_reliance"]) <= {"0", "1"}
    assert set(ds["question_category"]) <= set(CATEGORIES.values())
    assert ds.group_by("video_id").agg(pl.col("split").n_unique())["split"].max() == 1
    assert ds["movie_name"].to_list()[0].startswith("Story of") and ds["year"].unique().to_list() == [2021]


def test_leaderboard_has_both_offline_adapters_in_the_warehouse(built):
    board = built["view"]
    overall = board.filter(pl.col("slice") == "overall")
    assert set(overall["adapter"]) == {"blind_baseline", "scene_text_baseline"}
    assert set(board.filter(pl.col("slice") == "question_category")["value"]) == set(CATEGORIES.values())
    text = overall.filter(pl.col("adapter") == "scene_text_baseline")
    assert text["questions"][0] == built["tables"]["cinepile_dataset"].filter(pl.col("split") == "test").height


def test_an_external_clip_table_gives_the_same_scenes(built):
    clip = built["clip_scenes"]
    fine = built["tables"]["cinepile_scenes"]
    assert set(clip["source"]) == {"clip_table"}
    assert clip.select("record_id", "scene_text").sort("record_id").equals(
        fine.select("record_id", "scene_text").sort("record_id"))
