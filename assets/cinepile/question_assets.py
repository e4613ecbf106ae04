"""Scene questions (CinePile step 2): templates picked per scene, multiple-choice questions written.

Whoever writes a question (the offline writer or a model), its options are judged against the
video's facts before it is tested (`facts.py`): a distractor that is also a true answer is swapped
for the wrong same-type answer closest in length to the key, and a question with no wrong answer
left to swap in is rejected as `true_distractor`.
"""

import json
import math
from collections import Counter
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from assets.cinepile.categories import CATEGORIES
from assets.cinepile.facts import second_true_options, settle
from assets.cinepile.generation import (
    QuestionWriteTask,
    TemplatePickTask,
    Ungroundable,
    draft,
    groundable,
    template_kinds,
)
from assets.cinepile.mcq import MCQ, place
from assets.cinepile.pools import scene_clips, scene_from, video_pools
from assets.cinepile.priors import Item, PriorParams, balance, rematch
from assets.cinepile.vectors import memoized
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, screen_check_results
from assets.kit.identity import record_id
from assets.kit.metadata import bar_chart, preview, screen_counts
from assets.kit.provenance import CONTRACT, declare, models_series
from assets.kit.screening import kept
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource

PICK, QUESTION = "template_pick", "question"  # provenance roles


QuestionConfig = rule_config(PriorParams, "QuestionConfig", questions_per_video=(
    int, Field(default=32, ge=1, description="Questions asked per video (CinePile: ~32).")))
PRIOR_DEFAULTS = PriorParams()


QUESTION_SCHEMA = {
    "record_id": pl.String, "video_record_id": pl.String, "scene_record_id": pl.String, "video_id": pl.String,
    "scene_id": pl.Int64, "template_id": pl.String, "template_name": pl.String, "kind": pl.String,
    "category": pl.String, "question_category": pl.String, "variant": pl.Int64, "question": pl.String,
    "choices": pl.List(pl.String), "answer_key": pl.String, "answer_key_position": pl.Int64,
    "rationale": pl.String, "start_timestamp": pl.String, "end_timestamp": pl.String,
    "visual_reliance": pl.Boolean, "distractor_pool": pl.List(pl.String), "quote_time": pl.Float64,
    "kept": pl.Boolean, "reason": pl.String, "detail": pl.String,
    **{k: v for k, v in CONTRACT.items() if k != "record_id"},
}


def question_id(scene_record_id: str, template_id: str | None = None, variant: int | None = None) -> str:
    """Question `variant` of template `template_id` in the scene; with no template, the scene's one
    row for a pick that failed."""
    if template_id is None:
        return record_id("question", scene_record_id, "nopick")
    return record_id("question", scene_record_id, template_id, variant)


def _reason(error: str) -> str:
    if error.startswith("Ungroundable: "):
        return error[len("Ungroundable: "):].split(":", 1)[0]
    return "invalid_question" if error.startswith("ValidationError") else "generation_failed"


def _per_scene(n_questions: int, n_scenes: int) -> int:
    return math.ceil(n_questions / n_scenes) if n_scenes else 0


def true_option_check(df: pl.DataFrame, pools: dict[str, dict[str, Any]]) -> dg.AssetCheckResult:
    """No kept question offers a second true answer."""
    good = kept(df)
    bad = second_true_options(good.iter_rows(named=True), pools)
    return dg.AssetCheckResult(check_name="no_second_true_option", passed=not bad,
                               metadata={"checked": good.height, "with_second_true_option": len(bad),
                                         "examples": dg.MetadataValue.json(bad[:5])})


@kit_asset(
    group="cinepile",
    tasks=(TemplatePickTask, QuestionWriteTask),
    screen=True,
    version_extra=(PRIOR_DEFAULTS.model_dump_json(),),
    check_specs=(provenance_spec, named_check(
        "no_second_true_option", "no kept question has an option other than its key that the video's facts "
                                 "make true as well")),
    description=(
        "Multiple-choice questions per scene (about `questions_per_video` per video, spread over its scenes): "
        "Task `cinepile_template_pick` chooses templates for the scene, Task `cinepile_question` writes each "
        "question with exactly 5 distinct choices, the key, a rationale and timestamps inside the scene. "
        "Offline the questions are grounded in the scene's subtitles and descriptions (who says a line, what "
        "is said right after it, which line comes first, at what time something happens, ...) with same-type "
        "distractors from the same video, lengths matched to the key. Every question's options are judged "
        "against the video's facts (cut times, speakers, lines, events): a distractor that is also true is "
        "replaced by a wrong one of the same type, or the question is rejected as `true_distractor`. Then, per "
        "question kind, distractors are redrawn from each question's pool so every answer text is shown about "
        "five times per time it is the key, and questions whose key text is still the key more than "
        f"{PRIOR_DEFAULTS.max_key_ratio}x as often as chance (config `max_key_ratio`) are rejected as `key_prior`. "
        "A question's id nests its scene's id, its template's id and its variant; both are its parents. Every "
        "attempt is a row; ungroundable, invalid, failed and repeated questions are rejected with a reason."
    ),
)
def scene_questions(context: dg.AssetExecutionContext, config: QuestionConfig, cinepile_scenes: pl.DataFrame,
                    question_templates: pl.DataFrame, llm: LLMResource, embeddings: EmbeddingResource):
    scenes = kept(cinepile_scenes).sort("video_record_id", "scene_id")
    encode = memoized(embeddings.encode)
    temps = question_templates.filter(pl.col("error").is_null()).sort("record_id")
    kinds = template_kinds(temps["prototypical_question"].to_list(), temps["category"].to_list(), encode)
    templates = [{"template_id": r["record_id"], "name": r["name"], "prototype": r["prototypical_question"],
                  "category": r["category"], "kind": k} for r, k in zip(temps.iter_rows(named=True), kinds, strict=True)]
    by_id = {t["template_id"]: t for t in templates}
    clips = scene_clips(scenes)
    pools = video_pools(scenes, clips)
    per_video = Counter(scenes["video_record_id"].to_list())
    rows_in = list(scenes.iter_rows(named=True))
    pick_items = [{"scene_text": r["scene_text"], "templates": templates,
                   "groundable": groundable(clips[r["record_id"]], pools[r["video_record_id"]]),
                   "n": _per_scene(config.questions_per_video, per_video[r["video_record_id"]])} for r in rows_in]
    picks = llm.run(TemplatePickTask(encode, encoder=embeddings.model_name), pick_items, log=context.log)

    out, models, write_items, write_meta = [], [], [], []
    for r, item, res in zip(rows_in, pick_items, picks.results, strict=True):
        base = {"video_record_id": r["video_record_id"], "scene_record_id": r["record_id"], "video_id": r["video_id"],
                "scene_id": r["scene_id"]}
        if not res.ok:
            out.append({**base, "record_id": question_id(r["record_id"]), "kept": False,
                        "reason": _reason(res.error) if res.error.startswith("Ungroundable") else "pick_failed",
                        "detail": res.error})
            models.append([res.model_entry(PICK)])
            continue
        seen: Counter = Counter()
        for tid in res.value.template_ids[: item["n"]]:
            variant = seen[tid]
            seen[tid] += 1
            write_items.append({"scene": json.loads(r["scene"]), "scene_text": r["scene_text"], "template": by_id[tid],
                                "variant": variant, "pool": pools[r["video_record_id"]]})
            write_meta.append((base, res.model_entry(PICK)))
    written = llm.run(QuestionWriteTask(), write_items, log=context.log)
    asked: set[tuple[str, str]] = set()
    replaced = unjudged = 0
    for item, (base, picked_by), res in zip(write_items, write_meta, written.results, strict=True):
        t = item["template"]
        row = {**base, "record_id": question_id(base["scene_record_id"], t["template_id"], item["variant"]),
               "template_id": t["template_id"], "template_name": t["name"], "kind": t["kind"],
               "category": t["category"], "question_category": CATEGORIES[t["category"]], "variant": item["variant"]}
        models.append([picked_by, res.model_entry(QUESTION)])
        if not res.ok:
            out.append({**row, "kept": False, "reason": _reason(res.error), "detail": res.error})
            continue
        pool, quote_time = _pool(t["kind"], item, res.value)
        s = settle(t["kind"], res.value, pool, item["pool"])
        m = s.mcq
        replaced += len(s.replaced)
        unjudged += not s.judged
        duplicate = (base["video_record_id"], m.question.strip().lower()) in asked
        asked.add((base["video_record_id"], m.question.strip().lower()))
        reason, detail = (("true_distractor", s.problem) if s.problem else
                          ("duplicate_question", "the video already has this question") if duplicate else (None, None))
        out.append({
            **row, "question": m.question, "choices": m.choices, "answer_key": m.answer_key,
            "answer_key_position": m.answer_key_position, "rationale": m.rationale,
            "start_timestamp": m.start_timestamp, "end_timestamp": m.end_timestamp,
            "visual_reliance": m.visual_reliance, "distractor_pool": s.pool, "quote_time": quote_time,
            "kept": reason is None, "reason": reason, "detail": detail,
        })
    rematched, prior_dropped = balance_priors(out, rules_from(config, PriorParams))
    fields = {k: v for k, v in QUESTION_SCHEMA.items() if k not in CONTRACT or k == "record_id"}
    df = declare(pl.DataFrame(out, schema=fields), parents=["scene_record_id", "template_id"],
                 models=[models_series(models)])
    good = kept(df)
    by_cat = {str(k): int(n) for k, n in good.group_by("category").len().sort("category").rows()}
    by_kind = {str(k): int(n) for k, n in good.group_by("kind").len().sort("kind").rows()}
    yield versioned(df, {
        **screen_counts(df),
        "videos": scenes["video_record_id"].n_unique() if scenes.height else 0,
        "questions_per_video": round(good.height / max(1, good["video_record_id"].n_unique()), 1) if good.height else 0.0,
        "by_category": dg.MetadataValue.json(by_cat),
        "by_kind": dg.MetadataValue.json(by_kind),
        "category_chart": bar_chart(by_cat, "kept questions per category") if by_cat else "none",
        "pick_calls": picks.calls, "model_calls": written.calls + picks.calls,
        "cache_hits": written.cache_hits + picks.cache_hits, "model_failures": written.failed + picks.failed,
        "true_distractors_replaced": replaced, "questions_facts_could_not_judge": unjudged,
        "distractors_redrawn_for_priors": rematched, "rejected_for_key_prior": prior_dropped,
        "preview": preview(df, ["kind", "question", "choices", "answer_key", "kept", "reason"]),
    })
    yield from screen_check_results(df, n_inputs=len(write_items) + sum(1 for r in picks.results if not r.ok))
    yield provenance_result(df)
    yield true_option_check(df, pools)


def balance_priors(rows: list[dict[str, Any]], params: PriorParams) -> tuple[int, int]:
    """Redraw the kept questions' distractors from their pools for matched frequency, then reject
    those whose key text stays over its share (`priors.py`); `rows` are updated in place.
    Returns (questions whose options changed, questions rejected)."""
    good = [r for r in rows if r["kept"]]
    items = [Item(r["record_id"], r["kind"], tuple(r["choices"]), r["answer_key_position"]) for r in good]
    new = rematch(items, {r["record_id"]: r["distractor_pool"] for r in good})
    changed = 0
    for r in good:
        if r["record_id"] in new:
            choices = place(r["answer_key"], new[r["record_id"]], r["answer_key_position"])
            changed += choices != r["choices"]
            r["choices"] = choices
    by_id = {r["record_id"]: r for r in good}
    dropped = balance([Item(r["record_id"], r["kind"], tuple(r["choices"]), r["answer_key_position"]) for r in good],
                      params)
    for rid, detail in dropped.items():
        by_id[rid].update(kept=False, reason="key_prior", detail=detail)
    return changed, len(dropped)


def _pool(kind: str, item: dict, m: MCQ) -> tuple[list[str], float | None]:
    """Same-type wrong answers a rewrite may draw from, and the time of a quoted line: the grounded
    draft's when it has the same key, else the question's own distractors."""
    try:
        d = draft(kind, scene_from(item["scene"]), item["pool"], item["variant"])
    except Ungroundable:
        d = None
    if d is not None and d.key == m.answer_key:
        return d.wrong, d.quote_time
    return [c for i, c in enumerate(m.choices) if i != m.answer_key_position], None
