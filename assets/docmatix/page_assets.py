"""`page_images`: every page of a kept document rendered as Docmatix did, per document shard."""

import dagster as dg
import polars as pl

from assets.docmatix.rendering import DPI, MAX_SIDE, RenderRules, render_pages
from assets.docmatix.text_layer import open_pdf
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.identity import record_id
from assets.kit.metadata import preview, screen_counts
from assets.kit.partitions import document_shards
from assets.kit.provenance import declare
from assets.kit.screening import kept, screen
from resources.storage import MediaStore

IMAGE_SCHEMA = {
    "record_id": pl.String, "document_id": pl.String, "shard": pl.String, "page": pl.Int32,
    "width": pl.Int32, "height": pl.Int32, "dpi": pl.Float64, "image_uri": pl.String,
    "image_sha256": pl.String, "bytes": pl.Int64, "render_error": pl.String,
}


def page_record_id(document_id: str, page: int) -> str:
    """`page:<document record id>:<page index>`."""
    return record_id("page", document_id, page)


def image_rows(docs: pl.DataFrame, media: MediaStore, rules: RenderRules | None = None) -> pl.DataFrame:
    """One row per page of each document; a document that fails to render has each of its pages
    stored with the error (`render_error`) and rejected on it."""
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
            rows += [{**base, "record_id": page_record_id(doc["record_id"], i), "page": i, "render_error": detail}
                     for i in range(doc["pages"])]
            continue
        for i, img in enumerate(images):
            ref = media.put_bytes(img.png, ".png")
            rows.append({**base, "record_id": page_record_id(doc["record_id"], i), "page": i, "width": img.width,
                         "height": img.height, "dpi": img.dpi, "image_uri": ref.uri,
                         "image_sha256": ref.sha256, "bytes": ref.size})
    df = declare(pl.DataFrame(rows, schema=IMAGE_SCHEMA), parents=["document_id"])
    return screen(df, (rules or RenderRules()).rules())


@kit_asset(
    group="docmatix",
    partitions_def=document_shards,
    kinds=("pdf", "png", "polars"),
    rules=RenderRules(),
    screen=True,
    check_specs=(provenance_spec,),
    description=(
        f"Every page of every kept document rendered as Docmatix did: {DPI} dpi with pypdfium2, the "
        f"longest side capped at {MAX_SIDE} px, PNG, stored by content in the media store (URI + "
        "sha256). One row per page (`page:<document id>:<i>`, its document in `parent_ids`); a "
        "document that fails to render has each page rejected with the error."
    ),
)
def page_images(context: dg.AssetExecutionContext, documents: pl.DataFrame, media: MediaStore):
    rules = RenderRules()
    docs = kept(documents)
    df = image_rows(docs, media, rules)
    ok = df.filter("kept")
    yield versioned(
        df,
        {
            **screen_counts(df),
            "megabytes": round(float(ok["bytes"].sum() or 0) / 1e6, 2),
            "largest_side_px": int(max(ok["width"].max() or 0, ok["height"].max() or 0)),
            "preview": preview(df, ["record_id", "width", "height", "dpi", "image_sha256", "kept", "reason"]),
        },
        rules=rules,
    )
    yield from screen_check_results(df, n_inputs=int(docs["pages"].sum() or 0))
    yield provenance_result(df)
