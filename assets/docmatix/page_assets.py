"""`page_images`: every page of a kept document rendered as Docmatix did, per document shard."""

import json

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
    "image_sha256": pl.String, "bytes": pl.Int64, "render_error": pl.String, "text_source": pl.String,
    "text_status": pl.String, "text_flags": pl.List(pl.String), "ocr_lang": pl.String, "text_direction": pl.String,
}


def _page_texts(doc: dict) -> list[dict]:
    """The text gate's record per page (`documents`' `page_text`); a kept document always has one."""
    if not doc.get("page_text"):
        raise ValueError(f"{doc['record_id']} has no page_text: documents must gate every kept document")
    return json.loads(doc["page_text"])


def page_record_id(document_id: str, page: int) -> str:
    """`page:<document record id>:<page index>`."""
    return record_id("page", document_id, page)


def _text_columns(texts: list[dict], page: int) -> dict:
    t = texts[page]
    return {"text_source": t["source"], "text_status": t["status"], "text_flags": t["flags"],
            "ocr_lang": t.get("ocr_lang"), "text_direction": t.get("direction")}


def image_rows(docs: pl.DataFrame, media: MediaStore, rules: RenderRules | None = None) -> pl.DataFrame:
    """One row per page of each document; a document that fails to render has each of its pages
    stored with the error (`render_error`) and rejected on it; a page whose text the gate did not
    keep is rejected on its `text_status` (garbled layer, or no text)."""
    rows = []
    for doc in docs.iter_rows(named=True):
        texts = _page_texts(doc)
        base = {"document_id": doc["record_id"], "shard": doc["shard"]}
        try:
            pdf = open_pdf(media.local_path(doc["pdf_uri"]).read_bytes())
            try:
                images = render_pages(pdf)
            finally:
                pdf.close()
        except Exception as e:  # one bad document must not cost the shard its other pages
            detail = f"{type(e).__name__}: {e}"
            rows += [{**base, **_text_columns(texts, i), "record_id": page_record_id(doc["record_id"], i),
                      "page": i, "render_error": detail} for i in range(doc["pages"])]
            continue
        for i, img in enumerate(images):
            ref = media.put_bytes(img.png, ".png")
            rows.append({**base, **_text_columns(texts, i), "record_id": page_record_id(doc["record_id"], i),
                         "page": i, "width": img.width,
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
        "document that fails to render has each page rejected with the error, and a page whose text "
        "the documents' text gate did not keep (garbled layer, or no text even after OCR) is rejected "
        "on that reason, so no kept image is paired with text it does not show. `text_source` says "
        "whether a page's text is its PDF's, the PDFA JSON's or Tesseract's OCR; `text_direction` how its text "
        "runs as shown (ltr,ttb upright; a turned page or table is rendered as it is, not turned upright)."
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
            "text_source": dg.MetadataValue.json({str(k): int(n) for k, n in
                                                  df.group_by("text_source").len().sort("text_source").iter_rows()}),
            "preview": preview(df, ["record_id", "width", "height", "dpi", "text_source", "kept", "reason"]),
        },
        rules=rules,
    )
    yield from screen_check_results(df, n_inputs=int(docs["pages"].sum() or 0))
    yield provenance_result(df)
