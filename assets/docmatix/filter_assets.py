"""`filtered_qa`: every raw pair judged by both filter profiles, per document shard."""

import dagster as dg
import polars as pl

from assets.docmatix.qa_filters import QAFilterRules, removal_table, verdicts
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import bar_chart, markdown_table, preview, screen_counts
from assets.kit.partitions import document_shards

FilteredQAConfig = rule_config(QAFilterRules, "FilteredQAConfig")


@kit_asset(
    group="docmatix",
    partitions_def=document_shards,
    kinds=("polars", "parquet"),
    rules=QAFilterRules(),
    screen=True,
    check_specs=(provenance_spec,),
    description=(
        "Every raw pair judged by two profiles. `compat`: Docmatix's regexes ({...}, [...], <...>, "
        "IPv4, \\w+\\.\\w+, blank line, 'unanswerable', leftover Q#:/A#:), each rule reported on its "
        "own. Default (`kept`): the same intent without rejecting decimals, URLs or text the page "
        "prints, plus an answer grounded in the page (fuzzy match), a pair answerable from its page "
        "(the answer printed there, OCR-tolerant; the question's words around it and nowhere better; "
        "template slots that are real headers or keys, not values, line numbers or page numbers), one "
        "copy of a repeated question per document, and sane lengths. What each rule reads is stored "
        "beside the verdict (word and character counts, `grounding`, `answer_match`, "
        "`context_support`, `context_margin`, the slot problem, the unprinted token, `repeat_of`), "
        "with the page each pair was found on; `removal_by_rule` sets each rule beside Docmatix's."
    ),
)
def filtered_qa(context: dg.AssetExecutionContext, config: FilteredQAConfig, raw_qa: pl.DataFrame,
                documents: pl.DataFrame):
    rules = rules_from(config, QAFilterRules)
    df = verdicts(raw_qa, documents, rules)
    removal = removal_table(df, rules)
    by_rule = {r: v for r, v in removal.filter(pl.col("rule") != "ANY (profile)")
               .select("rule", "default").iter_rows() if v}
    yield versioned(
        df,
        {
            **screen_counts(df),
            "compat_kept": int(df["compat_kept"].sum()),
            "removal_by_rule": dg.MetadataValue.md(markdown_table(removal, max_rows=40)),
            "default_rejections": bar_chart(by_rule, "default profile: pairs rejected by rule")
            if by_rule else "none",
            "question_forms": dg.MetadataValue.json(
                {str(k): int(n) for k, n in df.group_by("question_form").len().sort("len").iter_rows()}),
            "preview": preview(df, ["record_id", "question", "answer", "grounding", "page", "compat_kept",
                                    "kept", "reason"]),
        },
        rules=rules,
    )
    yield from screen_check_results(df, n_inputs=raw_qa.height)
    yield provenance_result(df)
