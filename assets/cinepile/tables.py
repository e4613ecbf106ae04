"""The refinement, release and leaderboard tables, built from plain rows (no Dagster).

Release rule for `hard_split` (CinePile: "questions a model gets wrong even with the full scene
text"): "True" when the context-aware answerer of the refinement, shown the full scene text and the
final question in its released order, picks a wrong option. A `fixed` question passed that answerer
by construction, so hard questions come from questions that were fine as written.
`visual_reliance` is "1" when the answer rests on what is seen (a timed visual description or the
measured on-screen motion), "0" when the subtitles or audio suffice.

Every table honours the provenance contract (`assets/kit/provenance.py`): ids are minted by
`assets/kit/identity.py`, each nesting the record it was made from (a round its question, a refined
question its question, a release row its question, a prediction its release row), and `parent_ids`
and `models` are set through `declare`. Nothing here imports an answerer or the loop, so editing
how a question is answered or refined marks only the assets that do it stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import polars as pl

from assets.cinepile.categories import CATEGORIES
from assets.cinepile.mcq import N_CHOICES
from assets.cinepile.replies import letter, parse_lenient, parse_reply, rotate, score_reply
from assets.kit.identity import record_id
from assets.kit.provenance import CONTRACT, declare, models_series

STATUSES = ("fine", "fixed", "still_degenerate", "unanswerable", "unverified")
KEPT_STATUSES = ("fine", "fixed")
_PROVENANCE = {k: v for k, v in CONTRACT.items() if k != "record_id"}


def _frame(rows: list[dict[str, Any]], schema: dict[str, pl.DataType], parents: Sequence[str],
           models: list[list[dict[str, str]]], helpers: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """Rows in `schema`'s column order, then `parent_ids` declared from the `parents` columns
    (`helpers` are columns that only carry parents, dropped afterwards) and `models` from the
    per-row model entries."""
    fields = {k: v for k, v in schema.items() if k not in _PROVENANCE}
    df = pl.DataFrame(rows, schema={**fields, **(helpers or {})})
    return declare(df, parents=parents, models=[models_series(models)]).drop(list(helpers or {}))


ROUND_SCHEMA = {
    "record_id": pl.String, "question_id": pl.String, "video_record_id": pl.String, "round": pl.Int64,
    "question": pl.String, "choices": pl.List(pl.String), "answer_key": pl.String,
    "answer_key_position": pl.Int64, "rationale": pl.String, "start_timestamp": pl.String,
    "end_timestamp": pl.String, "visual_reliance": pl.Boolean, "blind_positions": pl.List(pl.Int64),
    "blind_rationales": pl.List(pl.String), "blind_correct": pl.Int64, "blind_failed": pl.Int64,
    "degenerate_at": pl.Int64, "attack": pl.String, "attack_pick": pl.Int64, "attack_p_key": pl.Float64,
    "attack_flagged": pl.Boolean, "degenerate": pl.Boolean, "context_answer": pl.String,
    "context_correct": pl.Boolean, "outcome": pl.String, "final_status": pl.String, "is_final": pl.Boolean,
    "status_reason": pl.String, "rewrite_error": pl.String, **_PROVENANCE,
}


def round_id(question_id: str, round_: int) -> str:
    return record_id("round", question_id, round_)


def round_rows(outcomes: Sequence[Any], questions: pl.DataFrame, rewrites: dict[tuple[str, int], dict[str, Any]],
               degenerate_at: int, attack_model: dict[str, str] | None = None) -> pl.DataFrame:
    """One row per tested version (`refinement.Outcome.rounds`). The version's text comes from the
    question writer (round 0: the question's own `models`) or the rewriter (`rewrites`, per
    (question, round): its model entry and error); every row adds the blind and context answers and
    the learned attacks' verdict it was judged on (`attack_model`: the attacks' entry).
    `degenerate_at` is the threshold the row was judged on, stored with it."""
    writer = {r["record_id"]: r for r in questions.iter_rows(named=True)}
    rows, models = [], []
    for o in outcomes:
        q = writer[o.question_id]
        for v, outcome in o.rounds:
            rewrite = rewrites.get((o.question_id, v.round), {}) if v.round else {}
            made_by = list(q["models"]) if v.round == 0 else [rewrite["model"]] if rewrite.get("model") else []
            judged_by = [x.model for x in v.votes if x.model] + ([v.check.model] if v.check and v.check.model else [])
            judged_by += [attack_model] if v.attack and attack_model else []
            a = v.attack
            models.append(made_by + judged_by)
            m = v.mcq
            rows.append({
                "record_id": round_id(o.question_id, v.round), "question_id": o.question_id,
                "video_record_id": q["video_record_id"], "round": v.round, "question": m.question,
                "choices": m.choices, "answer_key": m.answer_key, "answer_key_position": m.answer_key_position,
                "rationale": m.rationale, "start_timestamp": m.start_timestamp, "end_timestamp": m.end_timestamp,
                "visual_reliance": m.visual_reliance, "blind_positions": [x.position for x in v.votes],
                "blind_rationales": [x.rationale or (x.error or "") for x in v.votes],
                "blind_correct": v.blind_correct if v.votes else None, "blind_failed": v.blind_failed if v.votes else None,
                "degenerate_at": degenerate_at, "attack": a.attack if a else None, "attack_pick": a.pick if a else None,
                "attack_p_key": a.p_key if a else None, "attack_flagged": a.flagged if a else None,
                "degenerate": v.degenerate(degenerate_at) if v.votes and not v.blind_failed else None,
                "context_answer": v.check.answer if v.check else None,
                "context_correct": v.check.correct if v.check else None, "outcome": outcome,
                "final_status": o.status, "is_final": v is o.final,
                "status_reason": o.reason, "rewrite_error": rewrite.get("error"),
            })
    return _frame(rows, ROUND_SCHEMA, ["question_id"], models)


def _share(part: int, whole: int) -> float | str:
    return round(part / whole, 4) if whole else "n/a"


def refinement_figures(rounds: pl.DataFrame) -> dict[str, Any]:
    """What the issue asks to show: degenerate share before and after, fixed share, answerability."""
    if rounds.height == 0:
        return {"questions": 0}
    first = rounds.filter(pl.col("round") == 0)
    final = rounds.filter(pl.col("is_final"))
    verified = first.filter(pl.col("outcome") != "unverified")
    degenerate = int((verified["outcome"] == "degenerate").sum())
    status = final["final_status"]
    still = int(status.is_in(["still_degenerate", "unanswerable"]).sum())
    fixed = int((status == "fixed").sum())
    refined = final.filter(pl.col("final_status").is_in(list(KEPT_STATUSES)))
    answerable = int(refined["context_correct"].fill_null(False).sum())
    rewrites = rounds.filter(pl.col("round") > 0)
    return {
        "questions": first.height,
        "verified_questions": verified.height,
        "degenerate_before": degenerate,
        "degenerate_share_before": _share(degenerate, verified.height),
        "degenerate_after": still,
        "degenerate_share_after": _share(still, verified.height),
        "fixed": fixed,
        "fixed_share_of_degenerate": _share(fixed, degenerate),
        "refined": refined.height,
        "answerable_share_of_refined": _share(answerable, refined.height),
        "answerable_share_as_written": _share(int(verified["context_correct"].fill_null(False).sum()),
                                              verified.height),
        "blind_accuracy_refined_rotations": _share(int(refined["blind_correct"].sum()), 5 * refined.height),
        "rewrites": rewrites.height,
        "max_round": int(rounds["round"].max()),
        "unverified": int((status == "unverified").sum()),
    }


REFINED_SCHEMA = {
    "record_id": pl.String, "question_id": pl.String, "video_record_id": pl.String, "scene_record_id": pl.String,
    "video_id": pl.String, "scene_id": pl.Int64, "template_id": pl.String, "kind": pl.String, "category": pl.String,
    "question_category": pl.String, "question": pl.String, "choices": pl.List(pl.String), "answer_key": pl.String,
    "answer_key_position": pl.Int64, "rationale": pl.String, "start_timestamp": pl.String,
    "end_timestamp": pl.String, "visual_reliance": pl.Boolean, "original_question": pl.String,
    "status": pl.String, "kept": pl.Boolean, "reason": pl.String, "detail": pl.String, "rounds": pl.Int64,
    "blind_correct_before": pl.Int64, "blind_correct_after": pl.Int64, "degenerate_at": pl.Int64,
    "degenerate_before": pl.Boolean, "degenerate_after": pl.Boolean, "context_correct": pl.Boolean, **_PROVENANCE,
}


def final_rows(rounds: pl.DataFrame, questions: pl.DataFrame) -> pl.DataFrame:
    """One row per scene question: its final version and status (kept = fine or fixed). A refined
    question is a record of its own (`refined:<question id>`) made from the question and the round
    whose version it keeps; its models are that round's (the writer or rewriter, and the answers
    it was judged on)."""
    if rounds.height == 0:
        return pl.DataFrame(schema=REFINED_SCHEMA)
    final = {r["question_id"]: r for r in rounds.filter(pl.col("is_final")).iter_rows(named=True)}
    first = {r["question_id"]: r for r in rounds.filter(pl.col("round") == 0).iter_rows(named=True)}
    used = dict(rounds.group_by("question_id").agg(pl.col("round").max()).rows())
    rows, models = [], []
    for q in questions.sort("record_id").iter_rows(named=True):
        f, o = final.get(q["record_id"]), first.get(q["record_id"])
        if f is None:
            continue
        ok = f["final_status"] in KEPT_STATUSES
        rows.append({
            "record_id": record_id("refined", q["record_id"]), "question_id": q["record_id"],
            **{k: q[k] for k in ("video_record_id", "scene_record_id", "video_id", "scene_id", "template_id", "kind",
                                 "category", "question_category")},
            **{k: f[k] for k in ("question", "choices", "answer_key", "answer_key_position", "rationale",
                                 "start_timestamp", "end_timestamp", "visual_reliance", "degenerate_at")},
            "original_question": q["question"], "status": f["final_status"], "kept": ok,
            "reason": None if ok else f["final_status"], "detail": None if ok else f["status_reason"],
            "rounds": used[q["record_id"]], "blind_correct_before": o["blind_correct"],
            "blind_correct_after": f["blind_correct"], "degenerate_before": o["degenerate"],
            "degenerate_after": f["degenerate"], "context_correct": f["context_correct"],
            "final_round_id": f["record_id"],
        })
        models.append(list(f["models"]))
    return _frame(rows, REFINED_SCHEMA, ["question_id", "final_round_id"], models, {"final_round_id": pl.String})


# -- release --------------------------------------------------------------------------------------

DATASET_SCHEMA = {
    "movie_name": pl.String, "year": pl.Int64, "genre": pl.List(pl.String), "yt_clip_title": pl.String,
    "yt_clip_link": pl.String, "movie_scene": pl.String, "subtitles": pl.String, "question": pl.String,
    "choices": pl.List(pl.String), "answer_key": pl.String, "answer_key_position": pl.Int64,
    "question_category": pl.String, "hard_split": pl.String, "visual_reliance": pl.String,
    "videoID": pl.String,  # lmms-eval's CinePile task opens `<videoID>.mp4`
    # our additions: identity, lineage and provenance
    "record_id": pl.String, "question_id": pl.String, "video_record_id": pl.String,
    "scene_record_id": pl.String, "video_id": pl.String, "scene_id": pl.Int64, "split": pl.String,
    "template_id": pl.String, "kind": pl.String, "status": pl.String, "rationale": pl.String,
    "start_timestamp": pl.String, "end_timestamp": pl.String, **_PROVENANCE,
}


def _unit(text: str) -> float:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) / 0x1_0000_0000


def split_of(video_id: str, test_share: float, salt: str = "cinepile") -> str:
    """"test" for a fixed share of videos by a salted hash of the video id: never both, never moving."""
    return "test" if _unit(f"{salt}:{video_id}") < test_share else "train"


def video_splits(categories: dict[str, set[str]], test_share: float) -> tuple[dict[str, str], list[str]]:
    """Each video's split (`split_of`), then coverage: lmms-eval's CinePile aggregation needs every
    category in the evaluated split, so a category the test videos lack moves into test the train
    video with the lowest hash that has it. Returns (video -> split, the videos moved). Only a
    category missing from test moves a video, so a video's split changes only when coverage needs it."""
    split = {v: split_of(v, test_share) for v in categories}
    moved = []
    for cat in CATEGORIES.values():
        if any(cat in categories[v] for v in split if split[v] == "test"):
            continue
        have = sorted((v for v in split if cat in categories[v]), key=lambda v: _unit(f"cinepile:{v}"))
        if have:
            split[have[0]] = "test"
            moved.append(have[0])
    return split, moved


def balanced_slots(question_ids: Sequence[str]) -> dict[str, int]:
    """The key's slot per question: the questions in a salted-hash order take slots 0-4 in turn, so
    every slot holds the key equally often (a per-question hash leaves a small split skewed, which a
    'most frequent slot' attack reads)."""
    order = sorted(question_ids, key=lambda q: (_unit(f"slot:{q}"), q))
    return {q: i % N_CHOICES for i, q in enumerate(order)}


def released_category(code: str, question_id: str) -> str:
    """CinePile's `question_category` string for a category code, the one lmms-eval aggregates by."""
    if code not in CATEGORIES:
        raise ValueError(f"{question_id}: category {code!r} is not one of CinePile's {', '.join(CATEGORIES)}")
    return CATEGORIES[code]


def dataset_rows(refined: pl.DataFrame, scenes: pl.DataFrame, test_share: float) -> pl.DataFrame:
    """The kept refined questions in CinePile's fields. A release row (`cinepile:<question id>`) is
    made from its refined question and its scene (the scene text, subtitles and clip fields); its
    models are the refined question's. `question_category` is CinePile's string for the question's
    category code, whatever spelling an older upstream table stored; `videoID` is the video id (the
    video file holds every scene; `yt_clip_link` and the timestamps say where the scene is).
    Splits are `video_splits` (with category coverage); within each split the key's slot is
    `balanced_slots`, the options rotated cyclically to put it there (the order the blind test is
    invariant to)."""
    by_scene = {r["record_id"]: r for r in scenes.iter_rows(named=True)}
    good = refined.filter(pl.col("kept")).sort("record_id")
    cats: dict[str, set[str]] = {}
    for v, c, qid in good.select("video_id", "category", "question_id").iter_rows():
        cats.setdefault(v, set()).add(released_category(c, qid))
    split, _ = video_splits(cats, test_share)
    slots: dict[str, int] = {}
    for part in ("train", "test"):
        slots.update(balanced_slots([q for q, v in good.select("question_id", "video_id").iter_rows()
                                     if split[v] == part]))
    rows, models = [], []
    for q in good.iter_rows(named=True):
        s = by_scene[q["scene_record_id"]]
        shift = (slots[q["question_id"]] - q["answer_key_position"]) % N_CHOICES
        rows.append({
            **{k: s[k] for k in ("movie_name", "year", "genre", "yt_clip_title", "yt_clip_link", "movie_scene",
                                 "subtitles")},
            "choices": rotate(q["choices"], shift), "answer_key_position": slots[q["question_id"]],
            **{k: q[k] for k in ("question", "answer_key",
                                 "question_id", "video_record_id", "scene_record_id", "video_id", "scene_id",
                                 "template_id", "kind", "status", "rationale", "start_timestamp", "end_timestamp")},
            "question_category": released_category(q["category"], q["question_id"]), "videoID": q["video_id"],
            "hard_split": "False" if q["context_correct"] else "True",
            "visual_reliance": "1" if q["visual_reliance"] else "0",
            "record_id": record_id("cinepile", q["question_id"]), "refined_id": q["record_id"],
            "split": split[q["video_id"]],
        })
        models.append(list(q["models"]))
    return _frame(rows, DATASET_SCHEMA, ["refined_id", "scene_record_id"], models, {"refined_id": pl.String})


# -- leaderboard ----------------------------------------------------------------------------------

PREDICTION_SCHEMA = {
    "record_id": pl.String, "item_id": pl.String, "adapter": pl.String, "question_category": pl.String,
    "hard_split": pl.String, "reply": pl.String, "parsed": pl.String, "unparseable": pl.Boolean,
    "correct": pl.Boolean, "parsed_lenient": pl.String, "correct_lenient": pl.Boolean, "error": pl.String,
    **_PROVENANCE,
}


def prediction_row(item: dict[str, Any], adapter: str, reply: str | None, error: str | None = None) -> dict[str, Any]:
    """One adapter's answer to one release row (`item`), scored like lmms-eval (`parsed`, `correct`)
    and read leniently (`parsed_lenient`, `correct_lenient`: `replies.parse_lenient`)."""
    correct, got = score_reply(reply, item["answer_key_position"], item["answer_key"])
    lenient = parse_lenient(reply, item["choices"])
    return {
        "record_id": record_id("prediction", item["record_id"], adapter), "item_id": item["record_id"],
        "adapter": adapter, "question_category": item["question_category"], "hard_split": item["hard_split"],
        "reply": reply, "parsed": got, "unparseable": parse_reply(reply)[0] is None, "correct": bool(correct),
        "parsed_lenient": lenient, "correct_lenient": lenient == letter(item["answer_key_position"]),
        "error": error,
    }


def predictions(rows: list[dict[str, Any]], models: list[list[dict[str, str]]]) -> pl.DataFrame:
    """The prediction rows with their release row as parent and the adapter's model entry."""
    return _frame(rows, PREDICTION_SCHEMA, ["item_id"], models)


LEADERBOARD_SCHEMA = {"record_id": pl.String, "adapter": pl.String, "slice": pl.String, "value": pl.String,
                      "questions": pl.Int64, "correct": pl.Int64, "accuracy": pl.Float64, "unparseable": pl.Int64,
                      "correct_lenient": pl.Int64, "accuracy_lenient": pl.Float64, "unparseable_lenient": pl.Int64,
                      **_PROVENANCE}


def _adapter_models(part: pl.DataFrame) -> list[dict[str, str]]:
    """The models behind a slice: each distinct entry once (the per-item prompt hash left out)."""
    seen: dict[tuple, dict[str, str]] = {}
    for entries in part["models"].to_list() if "models" in part.columns else []:
        for e in entries:
            e = {**e, "prompt_sha": ""}
            seen.setdefault(tuple(sorted(e.items())), e)
    return list(seen.values())


def leaderboard(preds: pl.DataFrame) -> pl.DataFrame:
    """Micro accuracy (%) per adapter: overall, per category (all five, even when empty), per hard
    split; `accuracy` is lmms-eval's reading (the headline), `accuracy_lenient` the lenient one. A
    row's parents are the predictions it counts."""
    rows, models = [], []
    for (adapter,), p in preds.group_by("adapter", maintain_order=True):
        slices = [("overall", "all", p)]
        slices += [("question_category", name, p.filter(pl.col("question_category") == name))
                   for name in CATEGORIES.values()]
        slices += [("hard_split", v, p.filter(pl.col("hard_split") == v)) for v in ("True", "False")]
        for kind, value, part in slices:
            n = part.height
            c, lenient = (int(part[col].sum()) if n else 0 for col in ("correct", "correct_lenient"))
            rows.append({"record_id": record_id("leaderboard", adapter, kind, value), "adapter": adapter,
                         "slice": kind, "value": value, "questions": n, "correct": c,
                         "accuracy": round(100 * c / n, 2) if n else None,
                         "unparseable": int(part["unparseable"].sum()) if n else 0,
                         "correct_lenient": lenient, "accuracy_lenient": round(100 * lenient / n, 2) if n else None,
                         "unparseable_lenient": int(part["parsed_lenient"].null_count()),
                         "prediction_ids": part["record_id"].to_list()})
            models.append(_adapter_models(part))
    return _frame(rows, LEADERBOARD_SCHEMA, ["prediction_ids"], models, {"prediction_ids": pl.List(pl.String)})
