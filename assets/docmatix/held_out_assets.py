"""`docvqa_test_split`: the release's held-out DocVQA-style questions (`held_out.py`), in an asset
module of its own so the release does not share its code version with the filter's thresholds."""

import json

import dagster as dg
import polars as pl

from assets.docmatix.held_out import TEST_ITEMS, held_out_items
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.metadata import preview
from assets.kit.shard_frames import concat_shards


@kit_asset(
    group="docmatix",
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        f"The held-out DocVQA-style test set: the first {TEST_ITEMS} answerable Q/A pairs (all, if fewer) "
        "of the release's test documents in split-hash order, each pair checked again against its page "
        "with the answerability rules (the card's `answerability_checked` / `_passed` / `_excluded` say "
        "how many were checked and why any were left out), one row per question (`docvqa_item:<qa id>`) "
        "with its page image, the page's text and its reference answers; parents: the release row "
        "and the pair. No test document has a train row."
    ),
)
def docvqa_test_split(docmatix_dataset: pl.DataFrame, documents):
    docs = concat_shards(documents, "documents")
    test_docs = docmatix_dataset.filter(pl.col("split") == "test")["document_id"]
    pages = {r["record_id"]: json.loads(r["layout"])["pages"]
             for r in docs.filter(pl.col("record_id").is_in(test_docs.implode())).iter_rows(named=True)}
    df, check = held_out_items(docmatix_dataset, pages)
    yield versioned(df, {
        "dagster/row_count": df.height,
        "documents": df["document_id"].n_unique() if df.height else 0,
        "test_documents_in_release": test_docs.len(),
        "answerability_checked": check.checked,
        "answerability_passed": check.answerable,
        "answerability_excluded": dg.MetadataValue.json(check.excluded),
        "preview": preview(df, ["record_id", "page", "question", "answers"]),
    })
    yield unique_ids(df)
    yield provenance_result(df)
