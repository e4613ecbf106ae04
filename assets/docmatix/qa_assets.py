"""`raw_qa` (Docmatix's generation) and `filtered_qa` (both filter profiles) per document shard."""

import json

import dagster as dg
import polars as pl

from assets.docmatix.asset_options import PER_SHARD
from assets.docmatix.qa_filters import removal_table, verdicts
from assets.docmatix.qa_prompts import variant_for
from assets.docmatix.qa_task import QAGenerationTask, raw_rows
from assets.kit.checks import screen_check_results, screen_check_specs, unique_ids, unique_ids_spec
from assets.kit.metadata import bar_chart, markdown_table, preview, screen_counts
from assets.kit.screening import kept
from assets.kit.task import task_code_version
from resources.llm import LLMResource


@dg.asset(
    **PER_SHARD,
    code_version=task_code_version("1", QAGenerationTask),
    kinds={"llm", "polars", "parquet"},
    check_specs=[unique_ids_spec("raw_qa")],
    description=(
        "Docmatix's Q/A generation, one model call per kept document: one of five system prompts "
        "(picked by a hash of the PDFA key), the pages' lines joined by newlines and pages by a "
        "NEW PAGE line, about 4 pairs per page answered as Q#:/A# lines and parsed. One row per pair "
        "with the call's provenance; a failed document is one row carrying its error."
    ),
)
def raw_qa(context: dg.AssetExecutionContext, documents: pl.DataFrame, llm: LLMResource):
    docs = kept(documents)
    variants = [variant_for(k) for k in docs["record_id"]]
    items = [{"key": r["record_id"], "variant": v, "layout": json.loads(r["layout"])["pages"]}
             for r, v in zip(docs.iter_rows(named=True), variants, strict=True)]
    run = llm.run(QAGenerationTask(), items, log=context.log)
    df = raw_rows(docs, variants, run)
    pairs = df.filter(pl.col("question").is_not_null())
    pages = int(docs["pages"].sum() or 0)
    yield dg.Output(
        df,
        metadata={
            "dagster/row_count": df.height,
            "documents": docs.height,
            "documents_not_asked": dg.MetadataValue.json(  # rejected in `documents`, e.g. > 4 pages
                {str(k): int(n) for k, n in documents.filter(~pl.col("kept")).group_by("reason").len().iter_rows()}),
            "pairs": pairs.height,
            "failed_documents": df.height - pairs.height,
            "pages": pages,
            "pairs_per_page": round(pairs.height / pages, 2) if pages else 0.0,
            "variants": dg.MetadataValue.json(
                {str(k): int(n) for k, n in df.group_by("variant").len().sort("variant").iter_rows()}),
            **run.metadata(),
            "preview": preview(df, ["record_id", "variant", "question", "answer", "backend", "error"]),
        },
    )
    yield unique_ids(df)


@dg.asset(
    **PER_SHARD,
    code_version="1",
    kinds={"polars", "parquet"},
    check_specs=screen_check_specs("filtered_qa"),
    description=(
        "Every raw pair judged by two profiles. `compat`: Docmatix's regexes ({...}, [...], <...>, "
        "IPv4, \\w+\\.\\w+, blank line, 'unanswerable', leftover Q#:/A#:), each rule reported on its "
        "own. Default (`kept`): the same intent without rejecting decimals, URLs or text the page "
        "prints, plus an answer grounded in the page (fuzzy match), one copy of a repeated question "
        "per document, and sane lengths. Each pair also gets the page it was found on."
    ),
)
def filtered_qa(context: dg.AssetExecutionContext, raw_qa: pl.DataFrame, documents: pl.DataFrame):
    df = verdicts(raw_qa, documents)
    removal = removal_table(df)
    by_rule = {r: v for r, v in removal.filter(pl.col("rule") != "ANY (profile)")
               .select("rule", "default").iter_rows() if v}
    yield dg.Output(
        df,
        metadata={
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
    )
    yield from screen_check_results(df, n_inputs=raw_qa.height)
