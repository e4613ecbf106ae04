"""One PDF (and its PDFA JSON, when there is one) read into what the `documents` screen judges.

The PDF is always opened, even when a JSON gives the text: an encrypted or broken file cannot be
rendered into page images, so its text alone would make a sample with no picture. A JSON is trusted
for the text only when it describes the same number of pages as the PDF; otherwise the PDF's own text
layer is used and the disagreement is recorded, never silently mixed. A JSON with no text (a failed
OCR) gives way to a text layer that has some; a document is text-less only when both are empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

from assets.docmatix.pdfa import LayoutError, Page, parse_pdfa_json, text_chars
from assets.docmatix.text_layer import PdfOpenError, document_layout, open_pdf
from assets.kit.screening import Rule

TEXT_LAYER = "pdf_text_layer"
PDFA_JSON = "pdfa_json"


@dataclass
class Reading:
    pages: int | None = None
    open_error: str | None = None  # "encrypted" | "unreadable"
    open_detail: str | None = None
    text_source: str | None = None
    layout: list[Page] = field(default_factory=list)
    sidecar_issue: str | None = None

    @property
    def text_chars(self) -> int:
        return text_chars(self.layout)

    @property
    def lines(self) -> int:
        return sum(len(p["lines"]["text"]) for p in self.layout)

    @property
    def words(self) -> int:
        return sum(len(p["words"]["text"]) for p in self.layout)

    def layout_json(self) -> str | None:
        return json.dumps({"pages": self.layout}, separators=(",", ":")) if self.layout else None


def read_document(pdf: bytes, sidecar: bytes | None = None) -> Reading:
    """Never raises for a bad file: what cannot be read is a Reading with `open_error` set."""
    try:
        doc = open_pdf(pdf)
    except PdfOpenError as e:
        return Reading(open_error=e.reason, open_detail=str(e))
    try:
        return _read(doc, sidecar)
    except Exception as e:  # PDFium can open some damaged files it then cannot read
        return Reading(open_error="unreadable", open_detail=f"text extraction failed: {type(e).__name__}: {e}")
    finally:
        doc.close()


def _read(doc, sidecar: bytes | None) -> Reading:
    reading = Reading(pages=len(doc))
    if sidecar is not None:
        try:
            layout = parse_pdfa_json(sidecar)
            if len(layout) != reading.pages:
                reading.sidecar_issue = f"JSON has {len(layout)} pages, the PDF {reading.pages}"
            elif text_chars(layout) == 0:
                reading.sidecar_issue = "JSON has no text"
                reading.layout, reading.text_source = layout, PDFA_JSON
            else:
                reading.layout, reading.text_source = layout, PDFA_JSON
                return reading
        except LayoutError as e:
            reading.sidecar_issue = str(e)
    layout = document_layout(doc)
    if reading.text_source is None or text_chars(layout) > 0:
        reading.layout, reading.text_source = layout, TEXT_LAYER
    return reading


MAX_PAGES = 4  # Docmatix skips longer PDFs before generation


def document_rules() -> list[Rule]:
    """The `documents` screen, in the order a rejection's first reason is chosen."""
    opened = pl.col("open_error").is_null()
    return [
        Rule("duplicate_key", ~pl.col("duplicate_key")),
        Rule("encrypted", pl.col("open_error").ne_missing("encrypted"), pl.col("open_detail")),
        Rule("unreadable", pl.col("open_error").ne_missing("unreadable"), pl.col("open_detail")),
        Rule("too_many_pages", pl.col("pages").fill_null(0) <= MAX_PAGES, pl.col("pages"),
             f"pages <= {MAX_PAGES}"),
        Rule("no_text", ~opened | (pl.col("text_chars") > 0), pl.col("text_chars"), "text_chars > 0"),
    ]
