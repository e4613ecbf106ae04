"""`grounding_pairs` and `page_dialogues`: what one rendered page of a kept document teaches."""

import dagster as dg
import polars as pl

from assets.docmatix.conversations import dialogue_rows, grounding_rows
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.metadata import preview
from assets.kit.partitions import document_shards
from assets.kit.screening import kept


@kit_asset(
    group="docmatix",
    partitions_def=document_shards,
    kinds=("polars", "parquet"),
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        "Grounding (where is this text? -> its [x, y, w, h] box) and referring (what does this box "
        "say? -> the text) pairs per rendered page, from PDFA's line and word boxes; only texts "
        "printed once on the page, so each question has one right box. Parents: the page image "
        "and the document."
    ),
)
def grounding_pairs(documents: pl.DataFrame, page_images: pl.DataFrame):
    df = grounding_rows(kept(documents), kept(page_images))
    yield versioned(df, {
        "dagster/row_count": df.height,
        "pages": df.select("document_id", "page").n_unique() if df.height else 0,
        "by_kind": dg.MetadataValue.json({f"{k}/{u}": int(n) for k, u, n in
                                          df.group_by("kind", "unit").len().sort("kind", "unit").iter_rows()}),
        "preview": preview(df, ["record_id", "user", "assistant"]),
    })
    yield unique_ids(df)
    yield provenance_result(df)


@kit_asset(
    group="docmatix",
    partitions_def=document_shards,
    kinds=("polars", "parquet"),
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        "Each rendered page's kept Q/A pairs (default profile, attributed to the page their answer "
        "was found on) as one multi-turn conversation, in generation order. Parents: the page image "
        "and the pairs; `models`: the calls that wrote the pairs."
    ),
)
def page_dialogues(filtered_qa: pl.DataFrame, page_images: pl.DataFrame):
    images = kept(page_images)
    df = dialogue_rows(kept(filtered_qa), images)
    yield versioned(df, {
        "dagster/row_count": df.height,
        "turns": int(df["n_turns"].sum() or 0),
        "pages_without_kept_qa": images.height - df.height,
        "preview": preview(df.with_columns(pl.col("turns").list.first().struct.field("user").alias("first_user")),
                           ["record_id", "n_turns", "first_user"]),
    })
    yield unique_ids(df)
    yield provenance_result(df)
