"""The refined question table (CinePile step 3's result): one row per question, how it ended.

Apart from `refinement_assets.py` so that it depends on the rounds' rows, not on how the loop or
its answerers work: editing an answerer marks the rounds stale, and this table follows through
the rounds' data version. The set-level gates (`gates.py`) run here, on the final versions."""

import dagster as dg
import polars as pl

from assets.cinepile.attacks import AttackParams, provenance_entry
from assets.cinepile.gates import gate
from assets.cinepile.priors import PriorParams
from assets.cinepile.tables import STATUSES, final_rows, refinement_figures
from assets.cinepile.vectors import memoized
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import markdown_table, preview, screen_counts
from assets.kit.screening import kept
from resources.embeddings import EmbeddingResource

GateConfig = rule_config(PriorParams, "GateConfig", **{f: (i.annotation, i) for f, i in AttackParams.model_fields.items()})
ATTACK_DEFAULTS, PRIOR_DEFAULTS = AttackParams(), PriorParams()


@kit_asset(
    group="cinepile",
    screen=True,
    version_extra=(ATTACK_DEFAULTS.model_dump_json(), PRIOR_DEFAULTS.model_dump_json()),
    check_specs=(provenance_spec,),
    description=(
        "One row per kept scene question after refinement: the final version (the rewrite for `fixed`, "
        "else the question as written), `status` fine / fixed / still_degenerate / unanswerable / "
        "unverified with its reason, blind correct counts before and after with the threshold they were "
        "judged on (`degenerate_at`), whether the context-aware answerer got it right, and the rounds used. "
        "kept = fine or fixed, and through two set-level gates on the final versions: `blind_attack` (the "
        "learned text-only attacks, refitted and cross-fitted by video, rank the key first with probability "
        f">= {ATTACK_DEFAULTS.flag_at}, config `flag_at`, or the learned attack and the question-option similarity "
        "both pick it) and `key_prior` (a key text that is the key more than "
        f"{PRIOR_DEFAULTS.max_key_ratio}x as often as chance among its kind, config `max_key_ratio`). A refined "
        "question is a record of its own made from its question and the round it keeps."
    ),
)
def refined_questions(config: GateConfig, scene_questions: pl.DataFrame, refinement_rounds: pl.DataFrame,
                      embeddings: EmbeddingResource):
    attack, priors = rules_from(config, AttackParams), rules_from(config, PriorParams)
    qs = kept(scene_questions)
    df = final_rows(refinement_rounds, qs)
    judged = df.filter(pl.col("kept"))
    gated = gate(judged, memoized(embeddings.encode), attack, priors)
    entry = provenance_entry(attack, embeddings.model_name)
    at = pl.col("record_id").is_in(list(gated))
    df = df.with_columns(
        kept=pl.col("kept") & ~at,
        reason=pl.when(at).then(pl.col("record_id").replace_strict({k: g.reason for k, g in gated.items()},
                                                                   default=None)).otherwise(pl.col("reason")),
        detail=pl.when(at).then(pl.col("record_id").replace_strict({k: g.detail for k, g in gated.items()},
                                                                   default=None)).otherwise(pl.col("detail")),
        models=pl.when(pl.col("record_id").is_in(judged["record_id"].implode()))
        .then(pl.col("models").list.concat(pl.lit([entry], dtype=df.schema["models"])))
        .otherwise(pl.col("models")),
    )
    by_status = {s: int(n) for s, n in df.group_by("status").len().rows()}
    figures = refinement_figures(refinement_rounds)
    yield versioned(df, {
        **screen_counts(df),
        "params": dg.MetadataValue.json({**attack.model_dump(mode="json"), **priors.model_dump(mode="json")}),
        "by_status": dg.MetadataValue.json({s: by_status.get(s, 0) for s in STATUSES}),
        "gated": dg.MetadataValue.json({r: sum(g.reason == r for g in gated.values())
                                        for r in ("blind_attack", "key_prior")}),
        "figures": dg.MetadataValue.md(markdown_table(pl.DataFrame(
            {"figure": list(figures), "value": [str(v) for v in figures.values()]}), max_rows=20)),
        "preview": preview(df, ["question", "choices", "answer_key", "status", "rounds", "blind_correct_before",
                                "blind_correct_after"]),
    })
    yield from screen_check_results(df, n_inputs=qs.height)
    yield provenance_result(df)
