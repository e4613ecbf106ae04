"""`raw_qa`: Docmatix's Q/A generation, per document shard.

Alone in its module: its code version is this module's closure plus the generation Task's
fingerprint, so editing the prompt or the offline method marks `raw_qa` stale and nothing else.
"""

import json

import dagster as dg
import polars as pl

from assets.docmatix.qa_prompts import QA_PER_PAGE, VARIANTS, variant_for
from assets.docmatix.qa_task import QAGenerationTask, raw_rows
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.metadata import preview
from assets.kit.partitions import document_shards
from assets.kit.screening import kept
from resources.llm import LLMResource


def generation_items(docs: pl.DataFrame) -> tuple[list[int], list[dict]]:
    """(prompt variant, Task item) per kept document. Both hang on the PDFA key, not the record id,
    so the same PDF landed in two shards asks the same question (and the second is a cache hit)."""
    variants = [variant_for(k) for k in docs["doc_key"]]
    items = [{"key": r["doc_key"], "variant": v, "layout": json.loads(r["layout"])["pages"]}
             for r, v in zip(docs.iter_rows(named=True), variants, strict=True)]
    return variants, items


@kit_asset(
    group="docmatix",
    partitions_def=document_shards,
    kinds=("llm", "polars", "parquet"),
    tasks=(QAGenerationTask,),
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        f"Docmatix's Q/A generation, one model call per kept document: one of {len(VARIANTS)} system "
        "prompts (picked by a hash of the PDFA key), the pages' lines joined by newlines and pages by a "
        f"NEW PAGE line, about {QA_PER_PAGE} pairs per page answered as Q#:/A# lines and parsed. One row per pair "
        "(`qa:<document id>:<i>`, its document in `parent_ids`, the call in `models`, role `qa`); a "
        "failed document is one row carrying its error."
    ),
)
def raw_qa(context: dg.AssetExecutionContext, documents: pl.DataFrame, llm: LLMResource):
    docs = kept(documents)
    variants, items = generation_items(docs)
    run = llm.run(QAGenerationTask(), items, log=context.log)
    df = raw_rows(docs, variants, run)
    pairs = df.filter(pl.col("question").is_not_null())
    pages = int(docs["pages"].sum() or 0)
    yield versioned(
        df,
        {
            "dagster/row_count": df.height,
            "documents": docs.height,
            "documents_not_asked": dg.MetadataValue.json(  # rejected in `documents`, e.g. too long
                {str(k): int(n) for k, n in documents.filter(~pl.col("kept")).group_by("reason").len().iter_rows()}),
            "pairs": pairs.height,
            "failed_documents": df.height - pairs.height,
            "pages": pages,
            "pairs_per_page": round(pairs.height / pages, 2) if pages else 0.0,
            "variants": dg.MetadataValue.json(
                {str(k): int(n) for k, n in df.group_by("variant").len().sort("variant").iter_rows()}),
            **run.metadata(),
            "preview": preview(df, ["record_id", "variant", "question", "answer", "error"]),
        },
    )
    yield unique_ids(df)
    yield provenance_result(df)
