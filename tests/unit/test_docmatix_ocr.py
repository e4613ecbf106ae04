"""The text gate and Tesseract OCR: garbled, undrawn and missing text layers, Korean sample pages."""

from __future__ import annotations

import io
import json
import random

import numpy as np
import pytest
from reportlab.pdfgen import canvas

from assets.docmatix.ocr import (
    OCR_DPI,
    OcrUnavailable,
    character_error_rate,
    engine,
    ocr_page,
    reading_order_text,
    script_lang,
)
from assets.docmatix.pdfa import page_from_lines, page_text
from assets.docmatix.reading import OCR, TEXT_LAYER, DocumentRules, read_document
from assets.docmatix.text_quality import TextGate, agreement, flags, measure
from corpus import documents as corpus_docs

try:
    engine()
    HAVE_TESSERACT = True
except OcrUnavailable:
    HAVE_TESSERACT = False
needs_ocr = pytest.mark.skipif(not HAVE_TESSERACT, reason="Tesseract is not installed (make install, as root)")
KOREAN_CER_GOAL = 0.05  # the issue's; measured pooled 2.6% (invoices 2.2%, 2.7%, 3.7%; scanned notice 0.0%)


def _pdf(draw, size=(400, 200)) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, invariant=1)
    draw(c)
    c.showPage()
    c.save()
    return buf.getvalue()


def _invisible(text: str, picture: str | None = None):
    """A page whose text layer says `text` in render mode 3 (not drawn); `picture`, when given, is
    drawn as an image of other text, as a scan under a wrong OCR layer would be."""
    def draw(c):
        if picture is not None:
            from PIL import Image, ImageDraw, ImageFont
            from reportlab.lib.utils import ImageReader

            img = Image.new("L", (800, 400), 255)
            ImageDraw.Draw(img).text((40, 150), picture, fill=0, font=ImageFont.load_default(size=40))
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            buf.seek(0)
            c.drawImage(ImageReader(buf), 0, 0, 400, 200)
        t = c.beginText(20, 100)
        t.setTextRenderMode(3)
        t.setFont("Helvetica", 14)
        t.textLine(text)
        c.drawText(t)
    return draw


def _page(words: list[tuple[str, list[float]]]):
    return page_from_lines([words])


def test_measure_counts_unprintable_symbols_and_undrawn_words():
    gray = np.full((100, 200), 255, np.uint8)
    gray[10:20, 10:50] = 0  # ink under the first word only
    page = _page([("Total", [0.05, 0.1, 0.2, 0.1]), ("\ue001\ufffd(cid:12)", [0.5, 0.1, 0.2, 0.1]),
                  ("™—", [0.5, 0.5, 0.1, 0.1])])
    m = measure(page, gray)
    # U+FFFD is both unprintable and a symbol (So), as is ™
    assert (m.chars, m.odd_chars, m.symbol_chars, m.visible_chars) == (5 + 3 + 2, 3, 2, 5)
    assert set(flags(m, TextGate())) == {"unprintable_chars", "text_not_drawn"}
    clean = measure(_page([("Total", [0.05, 0.1, 0.2, 0.1])]), gray)
    assert flags(clean, TextGate()) == [] and clean.visible_share == 1.0
    scan = measure(page_from_lines([]), gray)
    assert flags(scan, TextGate()) == ["no_text_layer"] and scan.uncovered_ink == pytest.approx(0.02)
    blank = measure(page_from_lines([]), np.full((100, 200), 255, np.uint8))
    assert flags(blank, TextGate()) == []


def test_agreement_ignores_order_and_spaces():
    assert agreement("Total due 12.00", "12.00 Total  due") == 1.0
    assert agreement("ABCあいうえお123", "ABC 123") == pytest.approx(6 / 11, abs=1e-3)
    assert agreement("", "") == 0.0


def test_script_language_and_cer():
    assert (script_lang("거래명세서 KR-1"), script_lang("あいうえお"), script_lang("Invoice")) == ("kor", "jpn", None)
    assert character_error_rate("공지 제469호", "공지제469호") == 0.0
    assert character_error_rate("abcd", "abxd") == 0.25
    page = page_from_lines([[("b", [0.5, 0.1, 0.1, 0.05]), ("a", [0.1, 0.11, 0.1, 0.05])],
                            [("c", [0.1, 0.3, 0.1, 0.05])]])
    assert reading_order_text(page) == "abc"  # rows top to bottom, words left to right


def test_without_ocr_an_undrawn_layer_is_rejected_as_garbled():
    r = read_document(_pdf(_invisible("Heisei 25 nen")), gate=TextGate(ocr=False))
    (p,) = r.page_text
    assert "text_not_drawn" in p.flags and (p.status, p.reason, p.source) == ("garbled", "text_layer_garbled", None)
    assert r.text_chars == 0 and r.text_status == "garbled"
    assert json.loads(r.page_text_json())[0]["reason"] == "text_layer_garbled"


@needs_ocr
def test_an_undrawn_layer_over_a_blank_page_is_rejected_after_ocr():
    """The issue's defect: text the page image does not show must not become training text."""
    r = read_document(_pdf(_invisible("Heisei 25 nen Tokyo")))
    (p,) = r.page_text
    assert p.flags == ["text_not_drawn"] and p.ocr_lang == "eng" and p.reason == "text_layer_garbled"
    assert r.layout[0]["words"]["text"] == [] and r.text_status == "garbled"


@needs_ocr
def test_a_wrong_layer_over_a_picture_is_replaced_by_what_the_picture_says():
    r = read_document(_pdf(_invisible("\ue010\ue011\ue012 \ue013\ue014", picture="Delivery note DN-40417")))
    (p,) = r.page_text
    # reportlab writes the private-use characters through Helvetica's encoding: they come back as symbols
    assert {"unprintable_chars", "symbol_chars"} & set(p.flags) and p.source == OCR and p.status == "ok"
    assert "DN-40417" in page_text(r.layout[0]) and p.ocr_agreement < 0.2


@needs_ocr
def test_a_scanned_page_is_read_by_ocr_with_word_boxes(tmp_path):
    corpus_docs.scanned(random.Random(5), tmp_path / "scan.pdf", None)
    r = read_document((tmp_path / "scan.pdf").read_bytes())
    (p,) = r.page_text
    assert p.flags == ["no_text_layer"] and p.source == OCR and r.ocr_pages == 1
    text = page_text(r.layout[0])
    assert "Delivery Note" in text and "Riverside Primary School" in text
    boxes = r.layout[0]["words"]["bbox"]
    assert all(x >= 0 and y >= 0 and x + w <= 1 and y + h <= 1 and w > 0 for x, y, w, h in boxes)
    scores = r.layout[0]["words"]["score"]
    assert len(scores) == len(boxes) and all(0.3 <= s <= 1 for s in scores) and min(scores) < 1  # confidences


def test_a_clean_layer_costs_no_ocr(tmp_path):
    facts = corpus_docs.invoice(random.Random(2), tmp_path / "inv.pdf", None)
    r = read_document((tmp_path / "inv.pdf").read_bytes())
    (p,) = r.page_text
    assert p.flags == [] and p.source == TEXT_LAYER and p.ocr_lang is None and r.ocr_seconds == 0
    assert facts["facts"]["total_due"] in page_text(r.layout[0]) and p.direction == "ltr,ttb"


def test_long_documents_are_not_gated(tmp_path):
    corpus_docs.handbook(random.Random(1), tmp_path / "h.pdf", None, pages=6)
    r = read_document((tmp_path / "h.pdf").read_bytes(), max_pages=DocumentRules().max_pages)
    assert r.page_text == [] and r.pages == 6 and r.text_status == "not_checked"


@pytest.fixture(scope="module")
def korean_pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("ko")
    out = []
    for seed in range(3):
        facts = corpus_docs.korean_invoice(random.Random(seed), root / f"inv{seed}.pdf", root / f"inv{seed}.json")
        out.append(("invoice", root / f"inv{seed}.pdf", root / f"inv{seed}.json", facts))
    facts = corpus_docs.korean_scanned(random.Random(7), root / "scan.pdf", None)
    out.append(("scanned", root / "scan.pdf", None, facts))
    return out


@pytest.mark.slow  # OCR of four full pages: ~10 s on a quiet core
@needs_ocr
def test_korean_sample_pages_ocr_character_error_rate(korean_pages):
    """OCR of the Korean sample pages as the text gate renders them (OCR_DPI) against what was drawn,
    both in reading order: the pooled CER (all edits over all characters) and every page's."""
    import pypdfium2 as pdfium
    from rapidfuzz.distance import Levenshtein

    rates, edits, chars = {}, 0, 0
    for _kind, pdf_path, sidecar, facts in korean_pages:
        pdf = pdfium.PdfDocument(str(pdf_path))
        image = pdf[0].render(scale=OCR_DPI / 72, grayscale=True).to_pil().convert("L")
        ocr = ocr_page(image, "kor")
        if sidecar is not None:
            truth = reading_order_text(json.loads(sidecar.read_text())["pages"][0])
        else:
            truth = "".join(facts["printed_lines"])
        read = reading_order_text(ocr.page)
        rates[pdf_path.name] = character_error_rate(truth, read)
        truth = "".join(truth.split())
        edits, chars = edits + Levenshtein.distance(truth, read), chars + len(truth)
        assert ocr.lang == "kor+eng"
    print(f"Korean OCR CER: pooled {edits / chars:.4f};", {k: round(v, 4) for k, v in rates.items()})
    assert edits / chars <= KOREAN_CER_GOAL and max(rates.values()) <= KOREAN_CER_GOAL, rates


@needs_ocr
def test_a_korean_scan_flows_through_as_korean_text_with_boxes(korean_pages):
    _, pdf_path, _, facts = korean_pages[-1]
    r = read_document(pdf_path.read_bytes())
    (p,) = r.page_text
    assert p.source == OCR and p.ocr_lang == "kor+eng"
    text = page_text(r.layout[0])
    assert facts["facts"]["reference"] in text and facts["facts"]["place"] in text
    from assets.docmatix.conversations import grounding_pairs

    assert any(script_lang(g.text) == "kor" for g in grounding_pairs(r.layout, "ko-scan"))


def test_korean_text_layer_keeps_hangul(korean_pages):
    _, pdf_path, sidecar, facts = korean_pages[0]
    r = read_document(pdf_path.read_bytes())
    assert r.text_source == TEXT_LAYER and r.page_text[0].flags == []
    text = page_text(r.layout[0])
    assert facts["facts"]["total_due"] in text and facts["facts"]["customer"] in text


def test_missing_korean_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(corpus_docs, "KOREAN_FONT_DIRS", ("/nonexistent",))
    with pytest.raises(FileNotFoundError, match="fonts-nanum"):
        corpus_docs.korean_font_path()
