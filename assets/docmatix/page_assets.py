"""`page_images`, `grounding_pairs` and `page_dialogues`: what one page of a kept document teaches."""

import json

import dagster as dg
import polars as pl

from assets.docmatix.asset_options import PER_SHARD
from assets.docmatix.conversations import grounding_pairs as make_grounding_pairs
from assets.docmatix.rendering import DPI, MAX_SIDE, render_pages
from assets.docmatix.text_layer import open_pdf
from assets.kit.checks import screen_check_results, screen_check_specs, unique_ids, unique_ids_spec
from assets.kit.metadata import preview, screen_counts
from assets.kit.screening import kept
from resources.storage import MediaStore

IMAGE_SCHEMA = {
    "record_id": pl.String, "document_id": pl.String, "shard": pl.String, "page": pl.Int32,
    "width": pl.Int32, "height": pl.Int32, "dpi": pl.Float64, "image_uri": pl.String,
    "image_sha256": pl.String, "bytes": pl.Int64, "kept": pl.Boolean, "reason": pl.String,
    "reasons": pl.List(pl.String), "detail": pl.String,
}


def image_rows(docs: pl.DataFrame, media: MediaStore) -> pl.DataFrame:
    """One row per page of each document; a document that fails to render rejects all its pages."""
    rows = []
    for doc in docs.iter_rows(named=True):
        base = {"document_id": doc["record_id"], "shard": doc["shard"]}
        try:
            pdf = open_pdf(media.local_path(doc["pdf_uri"]).read_bytes())
            try:
                images = render_pages(pdf)
            finally:
                pdf.close()
        except Exception as e:  # one bad document must not cost the shard its other pages
            detail = f"{type(e).__name__}: {e}"
            rows += [{**base, "record_id": f"{doc['record_id']}:p{i}", "page": i, "kept": False,
                      "reason": "render_failed", "reasons": ["render_failed"], "detail": detail}
                     for i in range(doc["pages"])]
            continue
        for i, img in enumerate(images):
            ref = media.put_bytes(img.png, ".png")
            rows.append({**base, "record_id": f"{doc['record_id']}:p{i}", "page": i, "width": img.width,
                         "height": img.height, "dpi": img.dpi, "image_uri": ref.uri,
                         "image_sha256": ref.sha256, "bytes": ref.size, "kept": True, "reasons": []})
    return pl.DataFrame(rows, schema=IMAGE_SCHEMA)


@dg.asset(
    **PER_SHARD,
    code_version="1",
    kinds={"pdf", "png", "polars"},
    check_specs=screen_check_specs("page_images"),
    description=(
        f"Every page of every kept document rendered as Docmatix did: {DPI} dpi with pypdfium2, the "
        f"longest side capped at {MAX_SIDE} px, PNG, stored by content in the media store (URI + "
        "sha256). A document that fails to render has each page rejected with the error."
    ),
)
def page_images(context: dg.AssetExecutionContext, documents: pl.DataFrame, media: MediaStore):
    docs = kept(documents)
    df = image_rows(docs, media)
    ok = df.filter("kept")
    yield dg.Output(
        df,
        metadata={
            **screen_counts(df),
            "megabytes": round(float(ok["bytes"].sum() or 0) / 1e6, 2),
            "largest_side_px": int(max(ok["width"].max() or 0, ok["height"].max() or 0)),
            "preview": preview(df, ["record_id", "width", "height", "dpi", "image_sha256", "kept", "reason"]),
        },
    )
    yield from screen_check_results(df, n_inputs=int(docs["pages"].sum() or 0))


GROUNDING_SCHEMA = {
    "record_id": pl.String, "document_id": pl.String, "shard": pl.String, "page": pl.Int32,
    "image_uri": pl.String, "kind": pl.String, "unit": pl.String, "text": pl.String,
    "bbox": pl.List(pl.Float64), "user": pl.String, "assistant": pl.String,
}


@dg.asset(
    **PER_SHARD,
    code_version="1",
    kinds={"polars", "parquet"},
    check_specs=[unique_ids_spec("grounding_pairs")],
    description=(
        "Grounding (where is this text? -> its [x, y, w, h] box) and referring (what does this box "
        "say? -> the text) pairs per rendered page, from PDFA's line and word boxes; only texts "
        "printed once on the page, so each question has one right box."
    ),
)
def grounding_pairs(documents: pl.DataFrame, page_images: pl.DataFrame):
    images = {(r["document_id"], r["page"]): r["image_uri"] for r in kept(page_images).iter_rows(named=True)}
    rows = []
    for doc in kept(documents).iter_rows(named=True):
        key = doc["record_id"]
        counters: dict[tuple[int, str], int] = {}
        for g in make_grounding_pairs(json.loads(doc["layout"])["pages"], key):
            if (key, g.page) not in images:
                continue
            n = counters[(g.page, g.kind)] = counters.get((g.page, g.kind), 0) + 1
            rows.append({"record_id": f"{key}:p{g.page}:{g.kind}{n}", "document_id": key,
                         "shard": doc["shard"], "page": g.page, "image_uri": images[(key, g.page)],
                         "kind": g.kind, "unit": g.unit, "text": g.text, "bbox": g.bbox, "user": g.user,
                         "assistant": g.assistant})
    df = pl.DataFrame(rows, schema=GROUNDING_SCHEMA)
    yield dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "pages": df.select("document_id", "page").n_unique() if df.height else 0,
        "by_kind": dg.MetadataValue.json({f"{k}/{u}": int(n) for k, u, n in
                                          df.group_by("kind", "unit").len().sort("kind", "unit").iter_rows()}),
        "preview": preview(df, ["record_id", "user", "assistant"]),
    })
    yield unique_ids(df)


DIALOGUE_SCHEMA = {
    "record_id": pl.String, "document_id": pl.String, "shard": pl.String, "page": pl.Int32,
    "image_uri": pl.String, "turns": pl.List(pl.Struct({"user": pl.String, "assistant": pl.String})),
    "n_turns": pl.Int32, "qa_ids": pl.List(pl.String),
}


@dg.asset(
    **PER_SHARD,
    code_version="1",
    kinds={"polars", "parquet"},
    check_specs=[unique_ids_spec("page_dialogues")],
    description=(
        "Each rendered page's kept Q/A pairs (default profile, attributed to the page their answer "
        "was found on) as one multi-turn conversation, in generation order, with the pairs' ids."
    ),
)
def page_dialogues(filtered_qa: pl.DataFrame, page_images: pl.DataFrame):
    images = kept(page_images).select("document_id", "page", "image_uri")
    df = (
        kept(filtered_qa)
        .sort("document_id", "pair_index")
        .group_by("document_id", "page", maintain_order=True)
        .agg(
            pl.col("shard").first(),
            pl.struct(pl.col("question").alias("user"), pl.col("answer").alias("assistant")).alias("turns"),
            pl.col("record_id").alias("qa_ids"),
        )
        .join(images, on=["document_id", "page"], how="inner")
        .with_columns(
            pl.format("{}:p{}:dialogue", "document_id", "page").alias("record_id"),
            pl.col("turns").list.len().alias("n_turns"),
        )
        .select(list(DIALOGUE_SCHEMA))
        .cast(DIALOGUE_SCHEMA)
    )
    yield dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "turns": int(df["n_turns"].sum() or 0),
        "pages_without_kept_qa": images.height - df.height,
        "preview": preview(df.with_columns(pl.col("turns").list.first().struct.field("user").alias("first_user")),
                           ["record_id", "n_turns", "first_user"]),
    })
    yield unique_ids(df)
