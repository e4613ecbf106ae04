"""Adversarial refinement (CinePile step 3): every round, and the refined question table."""

import dagster as dg
import polars as pl
from pydantic import Field

from assets.cinepile.answering import BlindAnswerTask, ContextAnswerTask
from assets.cinepile.bank_assets import GROUP
from assets.cinepile.mcq import MCQ
from assets.cinepile.refinement import DEGENERATE_AT, MAX_ROUNDS, STATUSES, RewriteTask, refine
from assets.cinepile.roles import Roles
from assets.cinepile.tables import ROUND_SCHEMA, final_rows, refinement_figures, round_rows
from assets.cinepile.vectors import memoized
from assets.kit.checks import screen_check_results, screen_check_specs, unique_ids, unique_ids_spec
from assets.kit.metadata import bar_chart, markdown_table, preview, screen_counts
from assets.kit.screening import kept
from assets.kit.task import task_code_version
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource


class RefinementConfig(dg.Config):
    max_rounds: int = Field(default=MAX_ROUNDS, ge=0, le=MAX_ROUNDS,
                            description=f"Rewrites per degenerate question (at most {MAX_ROUNDS}).")


@dg.asset(
    **GROUP,
    code_version=task_code_version("1", BlindAnswerTask, ContextAnswerTask, RewriteTask),
    kinds={"polars", "parquet"},
    check_specs=[unique_ids_spec("refinement_rounds"),
                 dg.AssetCheckSpec("every_question_concluded", asset="refinement_rounds", blocking=True,
                                   description="every kept scene question has rounds and exactly one final row")],
    description=(
        "Every round of CinePile's adversarial refinement, one row per tested version: round 0 is the "
        "question as written, rounds 1-5 are rewrites of a degenerate one. A blind answerer (Task "
        f"`cinepile_blind_answer`, question + options only) answers in the 5 cyclic rotations; >= {DEGENERATE_AT}/5 "
        "correct is degenerate. A rewrite (Task `cinepile_rewrite`) must pass the blind test AND the "
        "context-aware answerer (Task `cinepile_context_answer`, full scene text). Calls that still fail after "
        "retries make the question `unverified`. `final_status` and `is_final` say how each question ended."
    ),
)
def refinement_rounds(context: dg.AssetExecutionContext, config: RefinementConfig, scene_questions: pl.DataFrame,
                      cinepile_scenes: pl.DataFrame, llm: LLMResource, embeddings: EmbeddingResource):
    qs = kept(scene_questions).sort("record_id")
    scenes = {r["record_id"]: r for r in cinepile_scenes.iter_rows(named=True)}
    triples = []
    for r in qs.iter_rows(named=True):
        sc = scenes[r["scene_record_id"]]
        mcq = MCQ(question=r["question"], choices=r["choices"], answer_key_position=r["answer_key_position"],
                  rationale=r["rationale"], start_timestamp=r["start_timestamp"], end_timestamp=r["end_timestamp"],
                  visual_reliance=r["visual_reliance"])
        triples.append((r["record_id"], mcq, {
            "question_id": r["record_id"], "scene_text": sc["scene_text"], "scene_start": sc["start_s"],
            "scene_end": sc["end_s"], "pool": r["distractor_pool"], "quote_time": r["quote_time"]}))
    roles = Roles(llm, memoized(embeddings.encode), context.log)
    outcomes = refine(triples, roles.blind, roles.context, roles.rewrite, max_rounds=config.max_rounds)
    df = pl.DataFrame(round_rows(outcomes, qs, roles.rewrites), schema=ROUND_SCHEMA)
    figures = refinement_figures(df)
    status = {s: int(n) for s, n in df.filter(pl.col("is_final")).group_by("final_status").len().rows()}
    calls = {role: {"calls": sum(r.calls for r in runs), "cache_hits": sum(r.cache_hits for r in runs),
                    "failures": sum(r.failed for r in runs)} for role, runs in roles.runs.items()}
    yield dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "questions": qs.height,
        **figures,
        "final_status": dg.MetadataValue.json({s: status.get(s, 0) for s in STATUSES}),
        "status_chart": bar_chart({s: status.get(s, 0) for s in STATUSES}, "questions by final status"),
        "model_work": dg.MetadataValue.json(calls),
        "preview": preview(df.filter(pl.col("round") > 0), ["round", "question", "choices", "blind_correct",
                                                           "context_correct", "outcome"]),
    })
    finals = df.filter(pl.col("is_final"))
    concluded = finals.height == qs.height and finals["question_id"].n_unique() == qs.height
    yield dg.AssetCheckResult(check_name="every_question_concluded", passed=concluded,
                              metadata={"questions": qs.height, "final_rows": finals.height})
    yield unique_ids(df)


@dg.asset(
    **GROUP,
    code_version="1",
    kinds={"polars", "parquet"},
    check_specs=screen_check_specs("refined_questions"),
    description=(
        "One row per kept scene question after refinement: the final version (the rewrite for `fixed`, "
        "else the question as written), `status` fine / fixed / still_degenerate / unanswerable / "
        "unverified with its reason, blind correct counts before and after, whether the context-aware "
        "answerer got it right, and the rounds used. kept = fine or fixed."
    ),
)
def refined_questions(scene_questions: pl.DataFrame, refinement_rounds: pl.DataFrame):
    qs = kept(scene_questions)
    df = final_rows(refinement_rounds, qs)
    by_status = {s: int(n) for s, n in df.group_by("status").len().rows()}
    figures = refinement_figures(refinement_rounds)
    yield dg.Output(df, metadata={
        **screen_counts(df),
        "by_status": dg.MetadataValue.json({s: by_status.get(s, 0) for s in STATUSES}),
        "figures": dg.MetadataValue.md(markdown_table(pl.DataFrame(
            {"figure": list(figures), "value": [str(v) for v in figures.values()]}), max_rows=20)),
        "preview": preview(df, ["question", "choices", "answer_key", "status", "rounds", "blind_correct_before",
                                "blind_correct_after"]),
    })
    yield from screen_check_results(df, n_inputs=qs.height)
