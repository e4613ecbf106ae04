"""Reading PDFs into PDFA's layout: boxes, sidecars, tars, rejection reasons, rendering."""

from __future__ import annotations

import io
import json
import random
import tarfile

import numpy as np
import polars as pl
import pytest
from PIL import Image
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from assets.docmatix.pdfa import (
    LayoutError,
    clip_box,
    page_from_lines,
    parse_pdfa_json,
    union_box,
    webdataset_key,
    webdataset_samples,
)
from assets.docmatix.reading import PDFA_JSON, TEXT_LAYER, DocumentRules, read_document
from assets.docmatix.rendering import MAX_SIDE, render_pages, render_scale
from assets.docmatix.text_layer import document_layout, open_pdf
from assets.kit.screening import NOT_EVALUATED, evaluate, screen
from corpus import documents as corpus_docs


def make_pdf(pages: list[list[tuple[float, float, str]]], size=(200, 100), rotate: int = 0,
             encrypt=None, font_size: float = 10) -> bytes:
    """A PDF whose pages draw (x, baseline_y, text) in Helvetica (PDF coordinates, from the bottom)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, invariant=1, encrypt=encrypt)
    for strings in pages:
        if rotate:
            c.setPageRotation(rotate)
        c.setFont("Helvetica", font_size)
        for x, y, s in strings:
            c.drawString(x, y, s)
        c.showPage()
    c.save()
    return buf.getvalue()


def test_boxes_are_normalised_xywh_from_the_top_left():
    pdf = make_pdf([[(20, 60, "Hello world"), (150, 60, "42")]])
    (page,) = document_layout(open_pdf(pdf))
    # "42" sits 130 pt right of "Hello world"'s end: a separate line, as PDFA has table cells
    assert page["lines"]["text"] == ["Hello world", "42"]
    assert page["words"]["text"] == ["Hello", "world", "42"]
    x, y, w, h = page["lines"]["bbox"][0]
    assert x == pytest.approx(20 / 200, abs=1e-4)
    assert w == pytest.approx(stringWidth("Hello world", "Helvetica", 10) / 200, abs=1e-3)
    assert y < (100 - 60) / 100 < y + h  # the baseline (40 pt from the top) lies inside the box
    assert 0.9 * 10 / 100 < h < 1.3 * 10 / 100
    assert page["lines"]["bbox"][1][0] == pytest.approx(150 / 200, abs=1e-4)
    assert page["lines"]["word_slice"] == [[0, 2], [2, 3]]
    assert page["words"]["line_pos"] == [[0, 0], [0, 1], [1, 0]]


def _ink_box(png: bytes) -> tuple[float, float, float, float]:
    a = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    ys, xs = np.where(a < 128)
    return xs.min() / a.shape[1], ys.min() / a.shape[0], (xs.max() + 1) / a.shape[1], (ys.max() + 1) / a.shape[0]


@pytest.mark.parametrize("rotate", [0, 90, 180, 270])
def test_word_boxes_cover_the_rendered_ink_at_every_rotation(rotate):
    pdf = open_pdf(make_pdf([[(20, 60, "Hello"), (120, 20, "INV-77")]], rotate=rotate))
    (page,) = document_layout(pdf)
    (image,) = render_pages(pdf)
    x0, y0, x1, y1 = _ink_box(image.png)
    boxes = page["words"]["bbox"]
    ux0, uy0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    ux1, uy1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
    tol = 2 / min(image.width, image.height)
    assert ux0 - tol <= x0 and uy0 - tol <= y0 and x1 <= ux1 + tol and y1 <= uy1 + tol


def test_clip_and_union_boxes():
    assert clip_box([-0.1, 0.5, 0.3, 0.7]) == [0.0, 0.5, 0.2, 0.5]
    assert union_box([[0.1, 0.1, 0.2, 0.1], [0.25, 0.05, 0.1, 0.1]]) == [0.1, 0.05, 0.25, 0.15]
    page = page_from_lines([[("a", [0.1, 0.1, 0.1, 0.1]), ("b", [0.3, 0.1, 0.1, 0.1])]])
    assert page["lines"]["text"] == ["a b"] and page["lines"]["bbox"] == [[0.1, 0.1, 0.3, 0.1]]
    with pytest.raises(LayoutError):
        clip_box([0.1, 0.2])


def test_pdfa_json_is_checked():
    ok = {"pages": [{"lines": {"text": ["a b"], "bbox": [[0, 0, 0.5, 0.1]], "word_slice": [[0, 2]]},
                     "words": {"text": ["a", "b"], "bbox": [[0, 0, 0.2, 0.1], [0.3, 0, 0.2, 1.005]]},
                     "images_bbox": []}]}
    (page,) = parse_pdfa_json(json.dumps(ok))
    assert page["words"]["bbox"][1] == [0.3, 0.0, 0.2, 1.0]  # a writer's rounding past the edge: clipped
    assert page["lines"]["score"] == [1.0]
    bad_slice = json.loads(json.dumps(ok))
    bad_slice["pages"][0]["lines"]["word_slice"] = [[0, 3]]
    off_page = json.loads(json.dumps(ok))
    off_page["pages"][0]["words"]["bbox"][1] = [0.3, 0, 0.2, 1.5]  # half the box off the page: not clipped
    for bad in ("{not json", json.dumps({"pages": {}}), json.dumps(bad_slice), json.dumps(off_page),
                json.dumps({"pages": [{"lines": {"text": ["x"], "bbox": []}}]})):
        with pytest.raises(LayoutError):
            parse_pdfa_json(bad)


@pytest.fixture(scope="module")
def corpus_invoice(tmp_path_factory):
    """A corpus invoice and its PDFA sidecar (drawn geometry, not an extraction)."""
    root = tmp_path_factory.mktemp("inv")
    facts = corpus_docs.invoice(random.Random(3), root / "inv.pdf", root / "inv.json")
    return (root / "inv.pdf").read_bytes(), (root / "inv.json").read_bytes(), facts


def test_text_layer_agrees_with_the_pdfa_sidecar(corpus_invoice):
    pdf, sidecar, _ = corpus_invoice
    from_layer = read_document(pdf)
    from_json = read_document(pdf, sidecar)
    assert (from_layer.text_source, from_json.text_source) == (TEXT_LAYER, PDFA_JSON)
    a, b = from_layer.layout[0], from_json.layout[0]
    assert a["lines"]["text"] == b["lines"]["text"] and a["words"]["text"] == b["words"]["text"]
    diffs = [abs(u - v) for p, q in zip(a["words"]["bbox"], b["words"]["bbox"], strict=True)
             for u, v in zip(p, q, strict=True)]
    assert max(diffs) < 0.01


def test_sidecar_disagreements_fall_back_to_the_text_layer(corpus_invoice):
    pdf, sidecar, facts = corpus_invoice
    two_pages = json.dumps({"pages": json.loads(sidecar)["pages"] * 2}).encode()
    r = read_document(pdf, two_pages)
    assert r.text_source == TEXT_LAYER and r.sidecar_issue == "JSON has 2 pages, the PDF 1"
    empty = json.dumps({"pages": [{"lines": {"text": [], "bbox": []}, "words": {"text": [], "bbox": []}}]})
    r = read_document(pdf, empty.encode())
    assert r.text_source == TEXT_LAYER and r.sidecar_issue == "JSON has no text"
    assert facts["facts"]["total_due"] in "\n".join(r.layout[0]["lines"]["text"])
    r = read_document(pdf, b"garbage")
    assert r.text_source == TEXT_LAYER and r.sidecar_issue.startswith("not JSON")
    # a data provider's bad boxes or a bomb of nesting: the text layer, never `unreadable`, never a NaN box
    page = json.loads(sidecar)["pages"][0]
    for bad, issue in ((["a", 0, 0.1, 0.1], "must hold numbers"), ([float("nan"), 0, 0.1, 0.1], "non-finite"),
                       ([3.0, 0.1, 0.2, 0.1], "outside the page")):
        broken = json.loads(json.dumps(page))
        broken["words"]["bbox"][0] = bad
        r = read_document(pdf, json.dumps({"pages": [broken]}).encode())
        assert r.open_status == "opened" and r.text_source == TEXT_LAYER and issue in r.sidecar_issue
    r = read_document(pdf, b"[" * 100_000 + b"]" * 100_000)
    assert r.text_source == TEXT_LAYER and "nested too deeply" in r.sidecar_issue


def _screened(readings: dict[str, object], rules: DocumentRules | None = None) -> pl.DataFrame:
    df = pl.DataFrame([{
        "record_id": k, "duplicate_key": False, "open_status": r.open_status, "open_detail": r.open_detail,
        "pages": r.pages, "text_chars": r.text_chars, "text_status": r.text_status,
    } for k, r in readings.items()], schema_overrides={"pages": pl.Int32, "open_detail": pl.String,
                                                       "text_chars": pl.Int32, "text_status": pl.String})
    return screen(df, (rules or DocumentRules()).rules())


def _verdict(readings: dict[str, object], rules: DocumentRules | None = None) -> dict[str, str | None]:
    out = _screened(readings, rules)
    return dict(zip(out["record_id"], out["reason"], strict=True))


@pytest.fixture(scope="module")
def readings() -> dict[str, object]:
    text = [(20, 60, "Some text")]
    scan = io.BytesIO()
    c = canvas.Canvas(scan, pagesize=(200, 100))
    c.rect(10, 10, 100, 50, fill=1)  # ink but no text, as a scanned page
    c.showPage()
    c.save()
    return {
        "ok": read_document(make_pdf([text])),
        "four_pages": read_document(make_pdf([text] * 4)),
        "five_pages": read_document(make_pdf([text] * 5)),
        "encrypted": read_document(make_pdf([text], encrypt=StandardEncryption("user", "owner"))),
        "owner_only": read_document(make_pdf([text], encrypt=StandardEncryption("", "owner", canCopy=0))),
        "garbage": read_document(b"%PDF-1.7\n" + random.Random(0).randbytes(500)),
        "empty": read_document(b""),
        "scanned": read_document(scan.getvalue()),
    }


def test_rejection_reasons(readings):
    assert readings["encrypted"].open_status == "encrypted"
    assert readings["owner_only"].pages == 1
    assert _verdict(readings) == {
        "ok": None, "four_pages": None, "five_pages": "too_many_pages", "encrypted": "encrypted",
        "owner_only": None, "garbage": "unreadable", "empty": "unreadable", "scanned": "no_text",
    }


def test_an_unopened_pdf_stores_no_measurement_it_does_not_have(readings):
    garbage = readings["garbage"]
    assert (garbage.open_status, garbage.pages, garbage.text_chars, garbage.lines) == ("unreadable", None, None, None)
    assert readings["scanned"].text_chars == 0 and readings["ok"].open_status == "opened"


def test_a_document_over_the_page_limit_is_counted_not_read():
    import time

    long_pdf = make_pdf([[(10, 50, "Invoice number: 1234 due on delivery")]] * 300)
    start = time.perf_counter()
    r = read_document(long_pdf, max_pages=4)
    counted = time.perf_counter() - start
    assert (r.pages, r.layout, r.text_source, r.page_text) == (300, [], None, [])
    full = read_document(long_pdf)
    assert full.pages == 300 and full.text_chars > 300 * 20
    df = _screened({"long": r})
    assert df["reason"].to_list() == ["too_many_pages"]
    assert counted < 1.0  # the page tree only


def test_a_stale_password_error_does_not_make_an_unencrypted_file_encrypted(monkeypatch):
    """PDFium's last error is process-wide: a file that failed to load after an encrypted one could
    report the password error again. Only a file declaring /Encrypt is called encrypted."""
    import pypdfium2 as pdfium

    def stale(data, *a, **k):
        raise pdfium.PdfiumError("Failed to load document (PDFium: Incorrect password error).", err_code=4)

    monkeypatch.setattr(pdfium, "PdfDocument", stale)
    assert read_document(b"%PDF-1.4\n%%EOF\n").open_status == "unreadable"
    assert read_document(b"%PDF-1.4\ntrailer<</Encrypt 5 0 R>>\n%%EOF\n").open_status == "encrypted"


def test_a_flate_bomb_is_too_large_before_pdfium_opens_it(monkeypatch):
    import zlib

    import pypdfium2 as pdfium

    body = zlib.compress(bytes(8 << 20), 9)  # 8 MB of zeros in ~8 kB
    pdf = (b"%PDF-1.4\n4 0 obj\n<</Length " + str(len(body)).encode() + b"/Filter/FlateDecode>>\nstream\n"
           + body + b"\nendstream\nendobj\n")
    monkeypatch.setattr(pdfium, "PdfDocument", lambda *a, **k: pytest.fail("PDFium was asked to open a bomb"))
    reading = read_document(pdf, max_inflated_bytes=1 << 20)
    assert (reading.open_status, reading.pages) == ("too_large", None)
    assert "inflate past 1048576 bytes" in reading.open_detail


def test_thresholds_are_rule_parameters(readings):
    assert _verdict(readings, DocumentRules(max_pages=5))["five_pages"] is None
    assert _verdict(readings, DocumentRules(max_pages=3))["four_pages"] == "too_many_pages"
    assert _verdict(readings, DocumentRules(min_text_chars=10_000))["ok"] == "no_text"
    described = DocumentRules(max_pages=7).describe()
    assert "too_many_pages: keep if pages <= 7" in described and "keep if open_status != encrypted" in described


def test_audit_of_an_unreadable_pdf_stops_at_the_deciding_rule(readings):
    """The issue's audit printed `no_text: 0 (keep if text_chars > 0) -> pass` and the PDFium error
    as the `encrypted` rule's passing value; re-evaluated from the stored row it reads correctly."""
    row = _screened({"garbage": readings["garbage"]}).row(0, named=True)
    assert row["reason"] == "unreadable" and "PDFium" in row["open_detail"]
    verdicts = evaluate(row, DocumentRules().rules())
    assert [(reason, status) for reason, status, _ in verdicts] == [
        ("duplicate_key", "pass"), ("outside_landing_zone", "pass"), ("too_large", "pass"),
        ("encrypted", "pass"), ("unreadable", "FAIL"),
        ("too_many_pages", NOT_EVALUATED), ("text_layer_garbled", NOT_EVALUATED), ("no_text", NOT_EVALUATED)]
    shown = dict((reason, text) for reason, _, text in verdicts)
    assert shown["encrypted"] == "unreadable (keep if open_status != encrypted)"  # not the PDFium message
    assert shown["unreadable"] == "unreadable (keep if open_status != unreadable)"
    assert shown["no_text"] == "keep if text_chars >= 1"  # no measured value shown for a rule not run
    scanned = evaluate(_screened({"scanned": readings["scanned"]}).row(0, named=True), DocumentRules().rules())
    assert scanned[-1] == ("no_text", "FAIL", "0 (keep if text_chars >= 1)")


def test_webdataset_tar_groups_consecutive_members_by_key():
    assert webdataset_key("0001234.pdf") == ("0001234", "pdf")
    assert webdataset_key("part/0001234.json") == ("part/0001234", "json")
    assert webdataset_key("a.b.json") == ("a", "b.json")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("k1.pdf", b"P1"), ("k1.json", b"J1"), ("k2.pdf", b"P2"), ("k3.json", b"J3")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    assert list(webdataset_samples(buf)) == [
        ("k1", {"pdf": b"P1", "json": b"J1"}), ("k2", {"pdf": b"P2"}), ("k3", {"json": b"J3"}),
    ]


def test_render_scale_and_cap():
    assert render_scale(595.28, 841.89) == pytest.approx(150 / 72)
    assert render_scale(3600, 1000) == pytest.approx(MAX_SIDE / 3600)  # a 50-inch poster
    a4 = render_pages(open_pdf(make_pdf([[(20, 60, "x")]], size=(595.28, 841.89))))[0]
    assert abs(a4.width - 595.28 * 150 / 72) < 1 and abs(a4.height - 841.89 * 150 / 72) < 1  # 1240 x 1754
    assert a4.dpi == 150
    poster = render_pages(open_pdf(make_pdf([[(20, 60, "x")]], size=(3600, 1000))))[0]
    assert max(poster.width, poster.height) <= MAX_SIDE and poster.width >= MAX_SIDE - 1
    assert poster.dpi == pytest.approx(72 * MAX_SIDE / 3600, abs=0.01)
    assert Image.open(io.BytesIO(poster.png)).format == "PNG"


def test_a_pdf_that_opens_but_cannot_be_read_is_unreadable_not_a_crash(monkeypatch):
    import assets.docmatix.reading as reading

    def broken(doc):
        raise RuntimeError("bad content stream")

    monkeypatch.setattr(reading, "document_layout", broken)
    r = reading.read_document(make_pdf([[(20, 60, "x")]]))
    assert r.open_error == "unreadable" and r.open_detail == "text extraction failed: RuntimeError: bad content stream"


def test_page_images_reject_every_page_of_a_document_that_fails_to_render(tmp_path):
    from assets.docmatix.page_assets import image_rows
    from resources.storage import MediaStore

    media = MediaStore(root=str(tmp_path / "media"))
    good = media.put_bytes(make_pdf([[(20, 60, "one")], [(20, 60, "two")]]), ".pdf")
    bad = media.put_bytes(b"%PDF-1.7 truncated", ".pdf")
    ok = {"status": "ok", "source": "pdf_text_layer", "flags": [], "ocr_lang": None}
    docs = pl.DataFrame({"record_id": ["pdf:s:good", "pdf:s:bad"], "shard": ["s", "s"],
                         "pdf_uri": [good.uri, bad.uri], "pages": [2, 3],
                         "page_text": [json.dumps([ok] * 2), json.dumps([ok] * 3)]})
    rows = image_rows(docs, media)
    assert rows["record_id"].to_list() == ["page:(pdf:s:good):0", "page:(pdf:s:good):1", "page:(pdf:s:bad):0",
                                           "page:(pdf:s:bad):1", "page:(pdf:s:bad):2"]
    assert rows["parent_ids"].to_list() == [["pdf:s:good"]] * 2 + [["pdf:s:bad"]] * 3
    assert rows["kept"].to_list() == [True, True, False, False, False]
    assert set(rows.filter(~pl.col("kept"))["reason"]) == {"render_failed"}
    assert rows["render_error"][2] is not None and rows["detail"][2].endswith("(keep if render_error is null)")
    assert rows["image_sha256"][0] != rows["image_sha256"][1] and rows["width"][0] == round(200 * 150 / 72)


def test_the_same_pdf_in_two_shards_is_two_records_with_one_source_key(tmp_path):
    from assets.docmatix.document_assets import Source, document_rows
    from assets.kit.identity import parse_record_id
    from resources.storage import MediaStore

    media = MediaStore(root=str(tmp_path / "media"))
    pdf, other = make_pdf([[(20, 60, "Invoice INV-1")]]), make_pdf([[(20, 60, "Invoice INV-2")]])

    def src(key: str, data: bytes) -> Source:
        return Source(key, f"file:///landing/{key}.pdf", data, None, None)

    s1 = document_rows([src("0000001", pdf), src("0000002", other), src("0000001", other)], "s1", media)
    s2 = document_rows([src("0000001", pdf)], "s2", media)
    both = pl.concat([s1, s2])
    assert both["record_id"].to_list() == ["pdf:s1:0000001", "pdf:s1:0000002", "pdf:s1:0000001:2", "pdf:s2:0000001"]
    assert both["record_id"].n_unique() == both.height  # unique by construction, shards included
    assert parse_record_id(both["record_id"][3]) == ("pdf", ("s2", "0000001"))
    landed_twice = both.filter(pl.col("doc_key") == "0000001")
    # the same bytes in s1 and s2 share a source key; the same key with other bytes does not
    assert landed_twice["source_key"][0] == landed_twice["source_key"][2] == f"pdf:{landed_twice['sha256'][0]}"
    assert landed_twice["source_key"][1] == both["source_key"][1] != landed_twice["source_key"][0]
    assert both["reason"].to_list() == [None, None, "duplicate_key", None]
    assert both["parent_ids"].to_list() == [[]] * 4 and both["models"].to_list() == [[]] * 4


@pytest.mark.parametrize("rotate,direction", [(0, "ltr,ttb"), (90, "ttb,rtl"), (180, "rtl,btt"), (270, "btt,ltr")])
def test_text_direction_follows_the_page_rotation(rotate, direction):
    from assets.docmatix.text_layer import text_direction

    pdf = open_pdf(make_pdf([[(20, 60, "Hello world")]], rotate=rotate))
    assert text_direction(pdf[0]) == direction


def test_page_images_reject_pages_whose_text_the_gate_did_not_keep(tmp_path):
    from assets.docmatix.page_assets import image_rows
    from resources.storage import MediaStore

    media = MediaStore(root=str(tmp_path / "media"))
    pdf = media.put_bytes(make_pdf([[(20, 60, "one")], [(20, 60, "two")], [(20, 60, "three")]]), ".pdf")
    texts = [{"status": "ok", "source": "ocr", "flags": ["no_text_layer"], "ocr_lang": "kor+eng"},
             {"status": "garbled", "source": None, "flags": ["text_not_drawn"], "ocr_lang": "eng"},
             {"status": "none", "source": None, "flags": [], "ocr_lang": None}]
    docs = pl.DataFrame({"record_id": ["pdf:s:d"], "shard": ["s"], "pdf_uri": [pdf.uri], "pages": [3],
                         "page_text": [json.dumps(texts)]})
    rows = image_rows(docs, media)
    assert rows["reason"].to_list() == [None, "text_layer_garbled", "no_text"]
    assert rows["text_source"].to_list() == ["ocr", None, None] and rows["ocr_lang"][0] == "kor+eng"
    with pytest.raises(ValueError, match="no page_text"):
        image_rows(docs.with_columns(pl.lit(None, pl.String).alias("page_text")), media)
