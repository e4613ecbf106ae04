"""One PDF (and its PDFA JSON, when there is one) read into what the `documents` screen judges.

The PDF is always opened, even when a JSON gives the text: an encrypted or broken file cannot be
rendered into page images, so its text alone would make a sample with no picture. A JSON is trusted
for the text only when it describes the same number of pages as the PDF; otherwise the PDF's own text
layer is used and the disagreement is recorded, never silently mixed. A JSON with no text (a failed
OCR) gives way to a text layer that has some.

Whatever the source, every page then passes the text gate (`text_quality`): a page whose text is
garbled, not drawn on its image, or missing (a scan) is OCR'd, and keeps the OCR text, its own text
(when the OCR agrees with it) or nothing, with the reason stored per page (`page_text`) for
`page_images` to reject it on. A document is text-less when no page kept any text; its reason is
`text_layer_garbled` when a layer was there but unusable.

The screen stores what it measured (`open_status`, `pages`, `text_chars`, ...) and judges those
columns with `DocumentRules`, so the audit re-evaluates a stored row against the same rules. What a
file that never opened cannot have is stored as null (no page count, no text count), never as a 0
that a later rule would read as a measurement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pydantic import Field

from assets.docmatix.inflation import inflated_bytes
from assets.docmatix.ocr import MAX_SIDE, OCR_DPI, OcrUnavailable, ocr_page, script_lang
from assets.docmatix.pdfa import LayoutError, Page, page_from_lines, page_text, parse_pdfa_json, text_chars
from assets.docmatix.text_layer import PdfOpenError, document_layout, open_pdf, text_direction
from assets.docmatix.text_quality import (
    GARBLED,
    GATE_DPI,
    NONE,
    OK,
    PageText,
    TextGate,
    agreement,
    flags,
    measure,
    readable_chars,
)
from assets.kit.screening import Rule, RuleSet
from resources.containment import OUTSIDE
from resources.limits import TOO_LARGE

TEXT_LAYER = "pdf_text_layer"
PDFA_JSON = "pdfa_json"
OCR = "ocr"
NOT_CHECKED = "not_checked"
OPENED = "opened"  # open_status of a PDF that opened; else its open_error
GARBLING_FLAGS = ("unprintable_chars", "symbol_chars", "text_not_drawn")


@dataclass
class Reading:
    pages: int | None = None
    open_error: str | None = None  # "encrypted" | "unreadable" | "too_large" | "outside_landing_zone"
    open_detail: str | None = None
    text_source: str | None = None
    layout: list[Page] = field(default_factory=list)
    sidecar_issue: str | None = None
    page_text: list[PageText] = field(default_factory=list)
    ocr_seconds: float = 0.0

    @property
    def text_status(self) -> str | None:
        """ok (some page kept text), garbled (none did, and some had an unusable layer), none, or
        not_checked (a document too long to gate, rejected for its length)."""
        if self.open_error:
            return None
        if not self.page_text:
            return NOT_CHECKED
        statuses = {p.status for p in self.page_text}
        return OK if OK in statuses and self.text_chars else GARBLED if GARBLED in statuses else NONE

    @property
    def ocr_pages(self) -> int | None:
        return None if self.open_error else sum(p.source == OCR for p in self.page_text)

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

    def page_text_json(self) -> str | None:
        return json.dumps([p.as_dict() for p in self.page_text], separators=(",", ":"),
                          ensure_ascii=False) if self.page_text else None


def read_document(pdf: bytes, sidecar: bytes | None = None, gate: TextGate | None = None,
                  max_pages: int | None = None, max_inflated_bytes: int | None = None) -> Reading:
    """Never raises for a bad file: what cannot be read is a Reading with `open_error` set. A missing
    OCR engine is not the file's fault and raises `OcrUnavailable`. A document longer than
    `max_pages` is rejected for its length anyway: its page count is all that is read (no text
    extracted, no gate, no OCR). One whose streams decode past `max_inflated_bytes` (counted first,
    assets/docmatix/inflation.py) is `too_large` and never reaches PDFium."""
    if max_inflated_bytes is not None:
        inflated = inflated_bytes(pdf, max_inflated_bytes)
        if inflated > max_inflated_bytes:
            return Reading(open_error=TOO_LARGE, open_detail=(
                f"its compressed streams inflate past {max_inflated_bytes} bytes (a decompression bomb); "
                "not opened"))
    try:
        doc = open_pdf(pdf)
    except PdfOpenError as e:
        return Reading(open_error=e.reason, open_detail=str(e))
    try:
        if max_pages is not None and len(doc) > max_pages:
            return Reading(pages=len(doc))
        reading = _read(doc, sidecar)
        _gate(doc, reading, gate or TextGate())
        return reading
    except OcrUnavailable:
        raise
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


def _gray(pdf_page, dpi: int):
    """The page as displayed, grey, at `dpi` (lower for a poster, whose longest side is capped)."""
    scale = min(dpi / 72, MAX_SIDE / max(pdf_page.get_size()))
    return pdf_page.render(scale=scale, grayscale=True).to_pil().convert("L"), scale * 72


def _gate(doc, reading: Reading, gate: TextGate) -> None:
    """Every page's text through the gate; the layout keeps only what the gate kept."""
    for i in range(len(doc)):
        pdf_page = doc[i]
        try:
            page, record = _gate_page(pdf_page, i, reading.layout[i], reading.text_source, gate)
        finally:
            pdf_page.close()
        reading.layout[i] = page
        reading.page_text.append(record)
        reading.ocr_seconds += record.ocr_seconds or 0.0


def _gate_page(pdf_page, index: int, layer: Page, source: str, gate: TextGate) -> tuple[Page, PageText]:
    """The page's kept text (its own, the OCR's, or none) and the record of why."""
    import numpy as np

    m = measure(layer, np.asarray(_gray(pdf_page, GATE_DPI)[0]))
    why = flags(m, gate)
    record = PageText(index, OK, source, why, m.chars, m.odd_chars, m.symbol_chars, round(m.visible_share, 4),
                      m.ink, m.uncovered_ink, text_direction(pdf_page))
    empty = page_from_lines([])
    garbled = any(f in GARBLING_FLAGS for f in why)
    if m.chars == 0 and not why:  # a blank page: nothing to read, nothing to OCR
        record.status, record.source = NONE, None
        return empty, record
    if not why:
        return layer, record
    if not gate.ocr:
        if m.chars == 0 or garbled:
            record.status, record.source = (GARBLED if garbled else NONE), None
            return empty, record
        return layer, record
    text = page_text(layer)
    image, dpi = _gray(pdf_page, OCR_DPI)
    ocr = ocr_page(image, script_lang(text), dpi=dpi)
    record.ocr_lang, record.ocr_chars, record.ocr_seconds, record.ocr_engine = (
        ocr.lang, ocr.chars, ocr.seconds, ocr.engine)
    usable = readable_chars(ocr.page) >= gate.min_ocr_chars
    if m.chars == 0:
        record.status, record.source = (OK, OCR) if usable else (NONE, None)
        return (ocr.page if usable else empty), record
    record.ocr_agreement = agreement(text, page_text(ocr.page))
    if garbled:
        if record.ocr_agreement >= gate.min_ocr_agreement:
            return layer, record  # the image shows what the layer says: the flags were false alarms
        record.status, record.source = (OK, OCR) if usable else (GARBLED, None)
        return (ocr.page if usable else empty), record
    if usable and ocr.chars >= gate.more_text_factor * m.chars:  # ink the layer does not transcribe
        record.source = OCR
        return ocr.page, record
    return layer, record


class DocumentRules(TextGate, RuleSet):
    """The `documents` screen's parameters (the text gate's among them); rules in the order a
    rejection's first reason is chosen."""

    max_pages: int = Field(4, ge=1, description="Docmatix skips longer PDFs before generation.")
    max_pdf_bytes: int = Field(64 << 20, ge=1, description=(
        "A PDF file (loose or a tar member) larger than this is `too_large`, never read."))
    max_sidecar_bytes: int = Field(16 << 20, ge=1, description=(
        "A PDFA JSON sidecar larger than this is ignored (a sidecar issue; the text layer is read)."))
    max_inflated_bytes: int = Field(512 << 20, ge=1, description=(
        "What a PDF's encoded streams may decode to in total (every filter stage counted); past it "
        "the PDF is `too_large` (a decompression bomb) and never opened."))
    min_text_chars: int = Field(1, ge=1, description="Characters of text the gate kept (PDFA JSON, text layer "
                                                     "or OCR) a document needs for questions to be written "
                                                     "about it.")

    def rules(self) -> list[Rule]:
        return [
            Rule(reason="duplicate_key", column="duplicate_key", op="is_false"),
            Rule(reason=OUTSIDE, column="open_status", op="ne", threshold=OUTSIDE),
            Rule(reason=TOO_LARGE, column="open_status", op="ne", threshold=TOO_LARGE),
            Rule(reason="encrypted", column="open_status", op="ne", threshold="encrypted"),
            Rule(reason="unreadable", column="open_status", op="ne", threshold="unreadable"),
            Rule(reason="too_many_pages", column="pages", op="le", threshold=self.max_pages),
            Rule(reason="text_layer_garbled", column="text_status", op="ne", threshold=GARBLED),
            Rule(reason="no_text", column="text_chars", op="ge", threshold=self.min_text_chars),
        ]

