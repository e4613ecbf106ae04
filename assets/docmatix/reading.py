"""One PDF (and its PDFA JSON, when there is one) read into what the `documents` screen judges.

The PDF is always opened, even when a JSON gives the text: an encrypted or broken file cannot be
rendered into page images, so its text alone would make a sample with no picture. A JSON is trusted
for the text only when it describes the same number of pages as the PDF; otherwise the PDF's own text
layer is used and the disagreement is recorded, never silently mixed. A JSON with no text (a failed
OCR) gives way to a text layer that has some; a document is text-less only when both are empty.

The screen stores what it measured (`open_status`, `pages`, `text_chars`, ...) and judges those
columns with `DocumentRules`, so the audit re-evaluates a stored row against the same rules. What a
file that never opened cannot have is stored as null (no page count, no text count), never as a 0
that a later rule would read as a measurement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pydantic import Field

from assets.docmatix.pdfa import LayoutError, Page, parse_pdfa_json, text_chars
from assets.docmatix.text_layer import PdfOpenError, document_layout, open_pdf
from assets.kit.screening import Rule, RuleSet

TEXT_LAYER = "pdf_text_layer"
PDFA_JSON = "pdfa_json"
OPENED = "opened"  # open_status of a PDF that opened; else its open_error


@dataclass
class Reading:
    pages: int | None = None
    open_error: str | None = None  # "encrypted" | "unreadable"
    open_detail: str | None = None
    text_source: str | None = None
    layout: list[Page] = field(default_factory=list)
    sidecar_issue: str | None = None

    @property
    def open_status(self) -> str:
        """"opened", or why not ("encrypted" | "unreadable"): never null, so a rule can compare it."""
        return self.open_error or OPENED

    @property
    def text_chars(self) -> int | None:
        return None if self.open_error else text_chars(self.layout)

    @property
    def lines(self) -> int | None:
        return None if self.open_error else sum(len(p["lines"]["text"]) for p in self.layout)

    @property
    def words(self) -> int | None:
        return None if self.open_error else sum(len(p["words"]["text"]) for p in self.layout)

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


class DocumentRules(RuleSet):
    """The `documents` screen's parameters; rules in the order a rejection's first reason is chosen."""

    max_pages: int = Field(4, ge=1, description="Docmatix skips longer PDFs before generation.")
    min_text_chars: int = Field(1, ge=1, description="Characters of text (PDFA JSON or text layer) a "
                                                     "document needs for questions to be written about it.")

    def rules(self) -> list[Rule]:
        return [
            Rule(reason="duplicate_key", column="duplicate_key", op="is_false"),
            Rule(reason="encrypted", column="open_status", op="ne", threshold="encrypted"),
            Rule(reason="unreadable", column="open_status", op="ne", threshold="unreadable"),
            Rule(reason="too_many_pages", column="pages", op="le", threshold=self.max_pages),
            Rule(reason="no_text", column="text_chars", op="ge", threshold=self.min_text_chars),
        ]

