"""Real PDFs: what the `documents` step reads (text layer, text gate, OCR) beside what each file's
upstream project publishes (`../shared/realdata/pdfs/*.expect.json`).

Every file is read as the pipeline reads it (`read_document`, text gate and Tesseract OCR included,
no page limit), then checked against the published values its sidecar names, never against values
written here:

- text recall: every published string (pdf.js's page text, pdfminer's `extract_text`, pypdf's
  `must_contain`, camelot's and pdfplumber's table cells, pdfplumber's quoted phrases) is looked for
  in the kept text, whitespace and case ignored (extractors differ in where they put spaces and
  line breaks, and camelot's cells keep their line breaks); a file passes at RECALL_GOAL;
- table cells: each published cell must also be found inside one line of the layout (a cell that
  only appears across lines was not read as a cell);
- orientation: pdfplumber's published character and line directions per page against the
  direction the project reads from the characters' matrices and /Rotate;
- pdf.js's find count: the pages on which "hello" is found;
- every file: opens, and no kept page has a garbled or undrawn text layer, re-measured on the final
  text; a page with no text layer yields OCR text and grounding pairs whose boxes hold ink.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tests.realdata.rowtable import Row, checked_rows, sidecar_rows

KIND = "pdfs"
RECALL_GOAL = 0.95


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


@dataclass
class Measured:
    path: Path

    @cached_property
    def reading(self):
        from assets.docmatix.reading import read_document

        return read_document(self.path.read_bytes())

    @cached_property
    def page_texts(self) -> list[str]:
        from assets.docmatix.pdfa import page_text

        return [_norm(page_text(p)) for p in self.reading.layout]

    @cached_property
    def lines(self) -> list[str]:
        return [_norm(t) for p in self.reading.layout for t in p["lines"]["text"]]

    def grays(self) -> list:
        """Each page as Docmatix renders it, grey (numpy)."""
        import numpy as np
        import pypdfium2 as pdfium

        from assets.docmatix.rendering import DPI, render_scale

        pdf = pdfium.PdfDocument(self.path.read_bytes())
        try:
            out = []
            for i in range(len(pdf)):
                page = pdf[i]
                scale = render_scale(*page.get_size(), DPI)
                out.append(np.asarray(page.render(scale=scale, grayscale=True).to_pil().convert("L")))
                page.close()
            return out
        finally:
            pdf.close()


def _published(meta: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for entry in meta.get("published") or []:
        v = entry.get("values")
        if isinstance(v, dict):
            for k, x in v.items():
                values.setdefault(k, x)
    return values


def _parts(cell: str) -> list[str]:
    """A published cell's printed pieces (camelot keeps a cell's line breaks)."""
    return [p.strip() for p in cell.split("\n") if p.strip()]


def published_strings(pub: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if isinstance(pub.get("page1_text"), str):
        out.append(pub["page1_text"])
    if isinstance(pub.get("extract_text"), str):
        out += [s for s in pub["extract_text"].split("\n") if s.strip()]
    out += [s for s in pub.get("must_contain") or [] if isinstance(s, str)]
    out += [p for c in published_cells(pub) for p in _parts(c)]
    if isinstance(pub.get("table[-2][-2]"), str):
        out.append(pub["table[-2][-2]"])
    if isinstance(pub.get("expectation"), str):
        out += re.findall(r'"([^"]+)"', pub["expectation"])
    return out


def published_cells(pub: dict[str, Any]) -> list[str]:
    cells = [c for row in pub.get("cells") or [] for c in row if isinstance(c, str) and c.strip()]
    for key in ("row0", "row1", "title_row"):
        cells += [c for c in pub.get(key) or [] if isinstance(c, str) and c.strip()]
    return cells


def _open_row(name: str, m: Measured, pub: dict, meta: dict) -> list[Row]:
    r = m.reading
    expected = (meta.get("measured") or {}).get("pages")
    got = f"{r.open_status}, {r.pages} pages, text {r.text_status}, {r.ocr_pages} OCR'd"
    ok = r.open_error is None and (expected is None or r.pages == expected)
    return [Row(name, "opens and reads", f"{expected} pages" if expected else "opens", got, ok)]


def _recall_row(name: str, check: str, wanted: list[str], missing: list[str], what: str, missing_as: str
                ) -> list[Row]:
    """One recall row: the share of `wanted` not in `missing`, against RECALL_GOAL."""
    if not wanted:
        return []
    recall = 1 - len(missing) / len(wanted)
    shown = f"{recall:.1%} ({len(wanted) - len(missing)}/{len(wanted)})"
    if missing:
        shown += f"; {missing_as}: " + ", ".join(repr(s) for s in missing[:4])
    return [Row(name, check, f">= {RECALL_GOAL:.0%} of {len(wanted)} {what}", shown, recall >= RECALL_GOAL)]


def _recall_rows(name: str, m: Measured, pub: dict, meta: dict) -> list[Row]:
    strings = published_strings(pub)
    text = "".join(m.page_texts)
    return _recall_row(name, "published text found", strings, [s for s in strings if _norm(s) not in text],
                       "strings", "missing")


def _cell_rows(name: str, m: Measured, pub: dict, meta: dict) -> list[Row]:
    parts = [p for c in published_cells(pub) for p in _parts(c)]
    missing = [p for p in parts if not any(_norm(p) in line for line in m.lines)]
    return _recall_row(name, "table cells read as cells", parts, missing, "cells", "not within one line")


def _orientation_rows(name: str, m: Measured, pub: dict, meta: dict) -> list[Row]:
    order, dirs = pub.get("page_order"), pub.get("char_dir,line_dir per page")
    if not (isinstance(order, list) and isinstance(dirs, dict)):
        return []
    expected = [",".join(dirs[str(k)]) for k in order]
    got = [p.direction for p in m.reading.page_text]
    return [Row(name, "text direction per page (char,line)", " ".join(expected), " ".join(map(str, got)),
                got == expected)]


def _find_rows(name: str, m: Measured, pub: dict, meta: dict) -> list[Row]:
    if not isinstance(pub.get("matches"), int):
        return []
    word = re.search(r'find "([^"]+)"', " ".join(e.get("what", "") for e in meta.get("published") or []))
    if not word:
        return []
    hits = sum(_norm(word.group(1)) in t for t in m.page_texts)
    return [Row(name, f'pages where "{word.group(1)}" is found (rotated pages)', str(pub["matches"]), str(hits),
                hits == pub["matches"])]


def _garbled_rows(name: str, m: Measured, pub: dict, meta: dict) -> list[Row]:
    """Not published: the kept text of every page, re-measured against its rendering."""
    from assets.docmatix.text_quality import TextGate, measure

    gate = TextGate()
    bad = []
    for i, (page, gray) in enumerate(zip(m.reading.layout, m.grays(), strict=True)):
        q = measure(page, gray)
        if q.chars and (q.odd_chars / q.chars > gate.max_odd_share or q.visible_share < gate.min_visible_share):
            bad.append(f"p{i}: {q.odd_chars} odd, {q.visible_share:.0%} drawn")
    statuses = [f"p{p.page} {p.reason}" for p in m.reading.page_text if p.reason]
    shown = "none" if not bad else "; ".join(bad[:3])
    if statuses:
        shown += f" (rejected: {', '.join(statuses[:4])})"
    return [Row(name, "no kept page with a garbled or undrawn text layer", "none", shown, not bad)]


def _scan_rows(name: str, m: Measured, pub: dict, meta: dict) -> list[Row]:
    """Not published: a page without a text layer yields OCR text and grounding pairs on its ink."""
    from assets.docmatix.conversations import grounding_pairs

    pages = [p for p in m.reading.page_text if "no_text_layer" in p.flags]
    if not pages:
        return []
    rows = []
    grays = m.grays()
    for p in pages:
        layout = m.reading.layout[p.page]
        words = len(layout["words"]["text"])
        rows.append(Row(name, f"page {p.page} without a text layer: OCR text", "words read by OCR",
                        f"{p.source}, {words} words, {p.ocr_chars} chars ({p.ocr_lang})", p.source == "ocr" and words > 0))
        pairs = [g for g in grounding_pairs(m.reading.layout, name) if g.page == p.page and g.kind == "grounding"]
        gray = grays[p.page]
        h, w = gray.shape
        on_ink = sum(bool((gray[int(g.bbox[1] * h):int((g.bbox[1] + g.bbox[3]) * h) + 1,
                               int(g.bbox[0] * w):int((g.bbox[0] + g.bbox[2]) * w) + 1] < 200).any()) for g in pairs)
        rows.append(Row(name, f"page {p.page} without a text layer: grounding boxes", "pairs whose box holds ink",
                        f"{on_ink}/{len(pairs)} pairs on ink", bool(pairs) and on_ink == len(pairs)))
    return rows


CHECKS = (_open_row, _recall_rows, _cell_rows, _orientation_rows, _find_rows, _garbled_rows, _scan_rows)


def file_rows(sidecar: Path) -> list[Row]:
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    path = sidecar.with_name(sidecar.name.removesuffix(".expect.json"))
    name, m, pub = path.name, Measured(path), _published(meta)
    return checked_rows(name, CHECKS, lambda: not m.reading.open_error, m, pub, meta)


def rows() -> list[Row]:
    return sidecar_rows(KIND, file_rows)
