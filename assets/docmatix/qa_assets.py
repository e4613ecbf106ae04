"""`raw_qa` (Docmatix's generation) and `filtered_qa` (both filter profiles) per document shard."""

import json

import dagster as dg
import polars as pl

from assets.checks import screen_check_results, screen_check_specs, unique_ids, unique_ids_spec
from assets.docmatix.qa_filters import COMPAT_RULES, DEFAULT_RULES, GROUNDED_AT, PageIndex, judge
from assets.docmatix.qa_prompts import VARIANTS, parse_qa, question_form, variant_for
from assets.docmatix.qa_task import QAGenerationTask
from assets.metadata import bar_chart, markdown_table, preview, screen_counts
from assets.partitions import document_shards
from assets.screening import Rule, kept, screen
from resources.llm import LLMResource, TaskRun

RAW_SCHEMA = {
    "record_id": pl.String, "document_id": pl.String, "shard": pl.String, "variant": pl.String,
    "pair_index": pl.Int32, "question": pl.String, "answer": pl.String,
    "backend": pl.String, "model": pl.String, "task_name": pl.String, "task_version": pl.String,
    "prompt_sha": pl.String, "cached": pl.Boolean, "attempts": pl.Int32, "error": pl.String,
}


def raw_rows(docs: pl.DataFrame, variants: list[int], run: TaskRun) -> pl.DataFrame:
    """One row per parsed pair; a document whose generation failed gets one row with its error
    (and no question), so `filtered_qa` accounts for it."""
    rows = []
    for doc, variant, result in zip(docs.iter_rows(named=True), variants, run.results, strict=True):
        base = {"document_id": doc["record_id"], "shard": doc["shard"], "variant": VARIANTS[variant][0],
                **result.provenance()}
        pairs = parse_qa(result.value.text) if result.ok else []
        if not pairs:
            rows.append({**base, "record_id": f"{doc['record_id']}:failed", "pair_index": None,
                         "question": None, "answer": None,
                         "error": result.error or "no Q/A pair in the answer"})
        for i, (number, question, answer) in enumerate(pairs):
            rows.append({**base, "record_id": f"{doc['record_id']}:qa{number}", "pair_index": i,
                         "question": question, "answer": answer})
    return pl.DataFrame(rows, schema=RAW_SCHEMA)


@dg.asset(
    partitions_def=document_shards,
    group_name="docmatix",
    kinds={"llm", "polars", "parquet"},
    owners=["team:data"],
    code_version="1",
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


def verdicts(raw: pl.DataFrame, documents: pl.DataFrame) -> pl.DataFrame:
    """Both profiles' verdicts, the grounding score and the page each pair was found on."""
    pages = {r["record_id"]: PageIndex.of(["\n".join(p["lines"]["text"]) for p in
                                           json.loads(r["layout"])["pages"]])
             for r in documents.filter(pl.col("layout").is_not_null()).iter_rows(named=True)}
    seen: dict[str, set[str]] = {}
    rows = []
    for r in raw.iter_rows(named=True):
        doc = r["document_id"]
        v = judge(r["question"], r["answer"], pages.get(doc, PageIndex.of([])), seen.setdefault(doc, set()))
        rows.append({"failures": list(v.failures), "compat_reasons": list(v.compat),
                     "grounding": v.grounding, "page": v.page})
    schema = {"failures": pl.List(pl.String), "compat_reasons": pl.List(pl.String),
              "grounding": pl.Float64, "page": pl.Int32}
    out = raw.hstack(pl.DataFrame(rows, schema=schema))
    out = out.with_columns(
        (pl.col("compat_reasons").list.len() == 0).alias("compat_kept"),
        pl.col("question").map_elements(question_form, return_dtype=pl.String).alias("question_form"),
    )
    details = {
        "ungrounded_answer": (pl.col("grounding"), f"grounding >= {GROUNDED_AT}"),
        "question_length": (pl.col("question").str.split(" ").list.len(), "3-60 words"),
        "answer_length": (pl.col("answer").str.len_chars(), "1-400 chars, <= 80 words"),
    }
    rules = [Rule(name, ~pl.col("failures").list.contains(name), *details.get(name, (None, None)))
             for name in DEFAULT_RULES]
    return screen(out, rules).drop("failures")


def removal_table(df: pl.DataFrame) -> pl.DataFrame:
    """Pairs each rule removes on its own and each profile removes, as counts and rates."""
    n = df.height or 1
    rows = []
    for rule in dict.fromkeys(("generation_failed", *COMPAT_RULES, *DEFAULT_RULES)):
        compat = int(df["compat_reasons"].list.contains(rule).sum()) if rule in (
            "generation_failed", *COMPAT_RULES) else None
        default = int(df["reasons"].list.contains(rule).sum()) if rule in DEFAULT_RULES else None
        rows.append({"rule": rule, "compat": compat, "default": default})
    rows.append({"rule": "ANY (profile)", "compat": int((~df["compat_kept"]).sum()),
                 "default": int((~df["kept"]).sum())})
    table = pl.DataFrame(rows, schema={"rule": pl.String, "compat": pl.Int64, "default": pl.Int64})
    return table.with_columns(
        (pl.col("compat") / n).round(3).alias("compat_rate"),
        (pl.col("default") / n).round(3).alias("default_rate"),
    )


@dg.asset(
    partitions_def=document_shards,
    group_name="docmatix",
    kinds={"polars", "parquet"},
    owners=["team:data"],
    code_version="1",
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
