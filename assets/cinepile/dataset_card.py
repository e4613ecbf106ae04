"""The CinePile release's card: what a user needs to trust the questions and load them.

Every number comes from the release and the stages it was built from (generated, screened,
refined), so the card cannot drift from the data. The JSON form is for tools that gate a release;
the Markdown is rendered from it.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from assets.cinepile.categories import CATEGORIES, label
from assets.cinepile.lmms_eval_scoring import cinepile_aggregate_results, cinepile_process_results
from assets.cinepile.replies import letter
from assets.kit.markdown import markdown_table

LIMITATIONS = (
    "Offline, the scene-text answerer reads the same scene text the question writer used, so it answers "
    "nearly every question and `hard_split` is almost always 'False'; hard questions need a real model on the `llm` role.",
    "Offline questions are grounded in subtitles and timed descriptions only; no video frames are read, so "
    "`visual_reliance` '1' comes from motion and timing questions, not from what a frame shows.",
    "The offline blind answerer is a combination of text-only baselines; a strong LLM may still find cues it misses.",
    "Licences are the source videos' (YouTube-Commons declarations), not re-verified.",
    "`videoID` names the whole source video, as lmms-eval opens `<videoID>.mp4`; a question is about one scene "
    "of it (`yt_clip_link`'s start time, `start_timestamp`-`end_timestamp`), where CinePile's clip is the scene.",
)


def _counts(df: pl.DataFrame, by: str, name: str = "questions") -> list[dict[str, Any]]:
    if not df.height:
        return []
    return df.group_by(by).agg(pl.len().alias(name)).sort(by).to_dicts()


def _categories(release: pl.DataFrame) -> list[dict[str, Any]]:
    """All five categories (zero when absent), then any other string the release carries."""
    names = release["question_category"].to_list() if release.height else []
    tests = release.filter(pl.col("split") == "test")["question_category"].to_list() if release.height else []
    order = list(CATEGORIES.values()) + sorted(set(names) - set(CATEGORIES.values()))
    return [{"question_category": c, "questions": names.count(c), "test_questions": tests.count(c)} for c in order]


def lmms_eval_readiness(release: pl.DataFrame) -> dict[str, Any]:
    """Whether lmms-eval's CinePile task scores the test split as released: the answer key, run
    through its `process_results` and `aggregate_results` (restated in `lmms_eval_scoring.py`), must
    aggregate (every category present) and score 100%, every question counted."""
    test = release.filter(pl.col("split") == "test") if release.height else release
    present = set(test["question_category"]) if test.height else set()
    missing = [label(c) for c in CATEGORIES.values() if c not in present]
    results = [cinepile_process_results(doc, [letter(doc["answer_key_position"])])["cinepile_accuracy"]
               for doc in test.iter_rows(named=True)]
    try:
        figures = cinepile_aggregate_results(results)
    except KeyError as e:
        return {"test_questions": test.height, "missing_test_categories": missing, "scores": False,
                "error": f"KeyError: {e}"}
    return {"test_questions": test.height, "missing_test_categories": missing,
            "scores": figures["accuracy"] == 100 and figures["uncounted"] == 0, "answer_key_accuracy": figures["accuracy"],
            "uncounted": figures["uncounted"]}


def _models(release: pl.DataFrame) -> list[dict[str, Any]]:
    """Questions per model entry of the provenance contract (role, backend, model, task version)."""
    if not release.height:
        return []
    keys = ["role", "backend", "model", "task_version"]
    entries = (release.select("record_id", "models").explode("models").drop_nulls("models")
               .unnest("models").select("record_id", *keys).unique())
    return (entries.group_by(keys).agg(pl.col("record_id").n_unique().alias("questions"))
            .sort(["questions", *keys], descending=[True, False, False, False, False]).to_dicts())


def card_data(release: pl.DataFrame, scenes: pl.DataFrame, generated: pl.DataFrame, refined: pl.DataFrame,
              licences: pl.DataFrame) -> dict[str, Any]:
    """`licences`: video_id, license of the source videos."""
    kept_scenes = scenes.filter(pl.col("kept")) if scenes.height else scenes
    seconds = float((kept_scenes["end_s"] - kept_scenes["start_s"]).sum() or 0.0) if kept_scenes.height else 0.0
    degenerate = int(refined["degenerate_before"].fill_null(False).sum()) if refined.height else 0
    thresholds = sorted(refined["degenerate_at"].drop_nulls().unique().to_list()) if refined.height else []
    fixed = int((refined["status"] == "fixed").sum()) if refined.height else 0
    videos = release.select("video_id").unique().join(licences.unique("video_id"), on="video_id", how="left")
    return {
        "name": "cinepile",
        "questions": release.height,
        "videos": release["video_id"].n_unique() if release.height else 0,
        "scenes": release["scene_record_id"].n_unique() if release.height else 0,
        "scene_hours": round(seconds / 3600, 4),
        "splits": _counts(release, "split"),
        "categories": _categories(release),
        "hard_split": _counts(release, "hard_split"),
        "visual_reliance": _counts(release, "visual_reliance"),
        "licences": _counts(videos.with_columns(pl.col("license").fill_null("(unknown)")), "license", "videos"),
        "funnel": [
            {"stage": "cinepile_scenes", "inputs": scenes.height, "kept": kept_scenes.height},
            {"stage": "scene_questions", "inputs": generated.height,
             "kept": int(generated["kept"].sum()) if generated.height else 0},
            {"stage": "refined_questions", "inputs": refined.height,
             "kept": int(refined["kept"].sum()) if refined.height else 0},
            {"stage": "cinepile_dataset", "inputs": release.height, "kept": release.height},
        ],
        "refinement": {"degenerate_before": degenerate, "degenerate_at": thresholds, "fixed": fixed,
                       "fixed_share": round(fixed / degenerate, 4) if degenerate else None,
                       "max_round": int(refined["rounds"].max() or 0) if refined.height else 0,
                       "status": {str(s): int(n) for s, n in refined.group_by("status").len().sort("status").rows()}
                       if refined.height else {}},
        "models": _models(release),
        "lmms_eval": lmms_eval_readiness(release),
        "known_limitations": list(LIMITATIONS),
        "columns": release.columns,
    }


def markdown(c: dict[str, Any]) -> str:
    def table(rows: list[dict[str, Any]]) -> str:
        return markdown_table(pl.DataFrame(rows), max_rows=len(rows)) if rows else "(none)"

    r, lm = c["refinement"], c["lmms_eval"]
    n_test = f"{lm['test_questions']} question{'' if lm['test_questions'] == 1 else 's'}"
    if lm["scores"]:
        lmms = (f"Run through lmms-eval's CinePile scoring, the answer key of the test split ({n_test}) scores "
                "100%: the split loads and aggregates as released.")
    elif "error" in lm:
        lmms = (f"lmms-eval's CinePile scoring cannot aggregate this test split of {n_test} "
                f"(its aggregation raises {lm['error']}): it looks up all five categories, and these have no test "
                f"question: {', '.join(lm['missing_test_categories'])}.")
    else:
        lmms = (f"Run through lmms-eval's CinePile scoring, the answer key of the test split ({n_test}) scores "
                f"{lm['answer_key_accuracy']:.2f}%, not 100% ({lm['uncounted']} not counted).")
    return "\n".join([
        "---",
        "license: other  # each question inherits its source video's licence (table below)",
        "task_categories: [video-question-answering, multiple-choice]",
        "language: [en]",
        "---",
        "# CinePile-style video QA (mmfoundry)",
        "",
        f"{c['questions']} multiple-choice questions (5 choices) about {c['scenes']} scenes of {c['videos']} "
        f"videos ({c['scene_hours']:.3f} scene hours), in CinePile's field names and value types, refined "
        "against text-only shortcuts. Every row names its video, scene and the model calls that wrote it.",
        "",
        "## Splits", "", table(c["splits"]), "",
        "Train and test are split by video (a salted hash of the video id), so no video is in both.",
        "",
        "## Categories", "", table(c["categories"]), "",
        "## Hard split and visual reliance", "", table(c["hard_split"]), "", table(c["visual_reliance"]), "",
        "## Evaluating with lmms-eval", "",
        "The test split has the fields lmms-eval's `cinepile` task reads (`videoID`, `subtitles`, `question`, "
        "`choices`, `answer_key`, `answer_key_position`, `question_category` with CinePile's exact strings, "
        "`hard_split`); put the videos in its cache as `<videoID>.mp4`. " + lmms,
        "",
        "## Funnel", "", table(c["funnel"]), "",
        "## Adversarial refinement", "",
        f"{r['degenerate_before']} questions were answerable blind (correct on at least "
        f"{' or '.join(str(t) for t in r['degenerate_at']) or 'the threshold number'} of the 5 cyclic "
        f"rotations, question and options only); {r['fixed']} were rewritten until a blind answerer failed and "
        f"a scene-aware answerer still succeeded (the most rewrites a question needed: {r['max_round']}; every "
        "round is kept in `refinement_rounds`).",
        "", table([{"status": k, "questions": v} for k, v in r["status"].items()]), "",
        "## Licences", "", table(c["licences"]), "",
        "## Models", "", table(c["models"]), "",
        "## Known limitations", "", *[f"- {x}" for x in c["known_limitations"]], "",
    ])
