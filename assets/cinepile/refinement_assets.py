"""Adversarial refinement (CinePile step 3): every round of the loop."""

import dagster as dg
import polars as pl

from assets.cinepile.answering import BlindAnswerTask, BlindParams, ContextAnswerTask
from assets.cinepile.attacks import AttackParams, cross_fit, provenance_entry
from assets.cinepile.mcq import MCQ, N_CHOICES
from assets.cinepile.pools import video_pools
from assets.cinepile.refinement import DEFAULTS, RefinementParams, refine
from assets.cinepile.rewriting import RewriteTask
from assets.cinepile.roles import Roles, question_set
from assets.cinepile.tables import STATUSES, refinement_figures, round_rows
from assets.cinepile.vectors import memoized
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.metadata import bar_chart, preview
from assets.kit.screening import kept
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource

# the loop's parameters and the blind answerer's margin, tunable from the launchpad
RefinementConfig = rule_config(RefinementParams, "RefinementConfig",
                               **{f: (i.annotation, i) for cls in (BlindParams, AttackParams)
                                  for f, i in cls.model_fields.items()})
BLIND_DEFAULTS, ATTACK_DEFAULTS = BlindParams(), AttackParams()


@kit_asset(
    group="cinepile",
    tasks=(BlindAnswerTask, ContextAnswerTask, RewriteTask),
    version_extra=(DEFAULTS.model_dump_json(), BLIND_DEFAULTS.model_dump_json(), ATTACK_DEFAULTS.model_dump_json()),
    check_specs=(unique_ids_spec, provenance_spec,
                 named_check("every_question_concluded",
                             "every kept scene question has rounds and exactly one final row")),
    description=(
        "Every round of CinePile's adversarial refinement, one row per tested version: round 0 is the "
        f"question as written, rounds 1-{DEFAULTS.max_rounds} (config `max_rounds`) are rewrites of a degenerate "
        "one. A blind answerer (Task `cinepile_blind_answer`, question + options only; config `blind_margin`) "
        f"answers in the {N_CHOICES} cyclic rotations; at least {DEFAULTS.degenerate_at}/{N_CHOICES} correct "
        "(config `degenerate_at`) is degenerate; so is a question the learned text-only attacks (fitted on the "
        f"questions as written, cross-fitted by video in {ATTACK_DEFAULTS.folds} folds) rank the key first with "
        f"probability >= {ATTACK_DEFAULTS.flag_at} (config `flag_at`) or whose key both the learned attack and "
        "the question-option similarity pick. A rewrite (Task `cinepile_rewrite`) is "
        "settled against the video's facts (a distractor that is also true is swapped for a wrong one) and must "
        "pass both tests AND the context-aware answerer (Task `cinepile_context_answer`, full scene text). Calls "
        "that still fail after "
        "retries make the question `unverified`. `final_status` and `is_final` say how each question ended; a "
        "round's id nests its question's id, and its `models` are the writer or rewriter of the version and "
        "the answers it was judged on."
    ),
)
def refinement_rounds(context: dg.AssetExecutionContext, config: RefinementConfig, scene_questions: pl.DataFrame,
                      cinepile_scenes: pl.DataFrame, llm: LLMResource, embeddings: EmbeddingResource):
    params, blind = rules_from(config, RefinementParams), rules_from(config, BlindParams)
    attack = rules_from(config, AttackParams)
    qs = kept(scene_questions).sort("record_id")
    scenes = {r["record_id"]: r for r in cinepile_scenes.iter_rows(named=True)}
    facts = video_pools(cinepile_scenes)
    triples = []
    for r in qs.iter_rows(named=True):
        sc = scenes[r["scene_record_id"]]
        mcq = MCQ(question=r["question"], choices=r["choices"], answer_key_position=r["answer_key_position"],
                  rationale=r["rationale"], start_timestamp=r["start_timestamp"], end_timestamp=r["end_timestamp"],
                  visual_reliance=r["visual_reliance"])
        triples.append((r["record_id"], mcq, {
            "question_id": r["record_id"], "video": r["video_id"], "kind": r["kind"],
            "facts": facts[r["video_record_id"]], "scene_text": sc["scene_text"], "scene_start": sc["start_s"],
            "scene_end": sc["end_s"], "pool": r["distractor_pool"], "quote_time": r["quote_time"]}))
    encode = memoized(embeddings.encode)
    originals = question_set([(mcq, c) for _, mcq, c in triples])
    attacker = cross_fit(originals, encode, attack) if len(set(originals.group)) >= 2 else None
    roles = Roles(llm, encode, embeddings.model_name, blind, attack, attacker, context.log)
    outcomes = refine(triples, roles.blind, roles.context, roles.rewrite, params,
                      roles.attack if attacker is not None else None)
    df = round_rows(outcomes, qs, roles.rewrites, params.degenerate_at, provenance_entry(attack, embeddings.model_name))
    figures = refinement_figures(df)
    status = {s: int(n) for s, n in df.filter(pl.col("is_final")).group_by("final_status").len().rows()}
    calls = {role: {"calls": sum(r.calls for r in runs), "cache_hits": sum(r.cache_hits for r in runs),
                    "failures": sum(r.failed for r in runs)} for role, runs in roles.runs.items()}
    yield versioned(df, {
        "dagster/row_count": df.height,
        "questions": qs.height,
        **figures,
        "params": dg.MetadataValue.json({**params.model_dump(mode="json"), **blind.model_dump(mode="json"),
                                         **attack.model_dump(mode="json")}),
        "rewrites_facts_could_not_judge": sum(e["judged"] is False for e in roles.rewrites.values()),
        "rewrite_true_distractors_replaced": sum(e["replaced"] for e in roles.rewrites.values()),
        "attack_flagged_as_written": int(df.filter(pl.col("round") == 0)["attack_flagged"].fill_null(False).sum()),
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
    yield provenance_result(df)
