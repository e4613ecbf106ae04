"""The refined question table (CinePile step 3's result): one row per question, how it ended.

Apart from `refinement_assets.py` so that it depends on the rounds' rows, not on how the loop or
its answerers work: editing an answerer marks the rounds stale, and this table follows through
the rounds' data version."""

import dagster as dg
import polars as pl

from assets.cinepile.tables import STATUSES, final_rows, refinement_figures
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import markdown_table, preview, screen_counts
from assets.kit.screening import kept


@kit_asset(
    group="cinepile",
    screen=True,
    check_specs=(provenance_spec,),
    description=(
        "One row per kept scene question after refinement: the final version (the rewrite for `fixed`, "
        "else the question as written), `status` fine / fixed / still_degenerate / unanswerable / "
        "unverified with its reason, blind correct counts before and after with the threshold they were "
        "judged on (`degenerate_at`), whether the context-aware answerer got it right, and the rounds used. "
        "kept = fine or fixed. A refined question is a record of its own made from its question and the "
        "round it keeps."
    ),
)
def refined_questions(scene_questions: pl.DataFrame, refinement_rounds: pl.DataFrame):
    qs = kept(scene_questions)
    df = final_rows(refinement_rounds, qs)
    by_status = {s: int(n) for s, n in df.group_by("status").len().rows()}
    figures = refinement_figures(refinement_rounds)
    yield versioned(df, {
        **screen_counts(df),
        "by_status": dg.MetadataValue.json({s: by_status.get(s, 0) for s in STATUSES}),
        "figures": dg.MetadataValue.md(markdown_table(pl.DataFrame(
            {"figure": list(figures), "value": [str(v) for v in figures.values()]}), max_rows=20)),
        "preview": preview(df, ["question", "choices", "answer_key", "status", "rounds", "blind_correct_before",
                                "blind_correct_after"]),
    })
    yield from screen_check_results(df, n_inputs=qs.height)
    yield provenance_result(df)
