"""The decompression-bomb counter: every filter chain PDFium would decode is counted, stage by
stage, and counting stops just past the cap (a reviewer's nested, hex-wrapped and CR-terminated
bombs read 0 bytes with a Flate-only counter)."""

from __future__ import annotations

import base64
import random
import zlib
from pathlib import Path

import pytest

from assets.docmatix.inflation import inflated_bytes
from corpus import documents as corpus_docs

MB = 1 << 20


def pdf_with(stream: bytes, filters: str, eol: bytes = b"\n") -> bytes:
    return (b"%PDF-1.4\n4 0 obj\n<</Length " + str(len(stream)).encode() + b"/Filter " + filters.encode()
            + b">>\nstream" + eol + stream + b"\nendstream\nendobj\n")


def lzw_encode(data: bytes) -> bytes:
    """PDF LZW (EarlyChange 1, no table reset: the input stays under 3,800 new entries)."""
    table = {bytes([i]): i for i in range(256)}
    codes, widths, w, width, next_code = [256], [9], b"", 9, 258
    for byte in data:
        wc = w + bytes([byte])
        if wc in table:
            w = wc
            continue
        codes.append(table[w])
        widths.append(width)
        table[wc] = next_code
        next_code += 1
        if next_code >= 1 << width and width < 12:  # PDFium reads it (checked below)
            width += 1
        w = bytes([byte])
    assert next_code < 4000
    codes += [table[w], 257]
    widths += [width, width]
    bits = "".join(format(c, f"0{n}b") for c, n in zip(codes, widths, strict=True))
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


BOMB = bytes(64 * MB)


@pytest.mark.parametrize("name, stream, filters, eol", [
    ("flate", zlib.compress(BOMB, 9), "/FlateDecode", b"\n"),
    ("flate, CR line end", zlib.compress(BOMB, 9), "/FlateDecode", b"\r"),
    ("flate of flate", zlib.compress(zlib.compress(BOMB, 9), 9), "[/FlateDecode /FlateDecode]", b"\n"),
    ("hex of flate", zlib.compress(BOMB, 9).hex().encode(), "[/ASCIIHexDecode /FlateDecode]", b"\r\n"),
    ("ascii85 of flate", base64.a85encode(zlib.compress(BOMB, 9)), "[/A85 /Fl]", b"\n"),
    ("run length", (bytes([129, 0]) * (32 * MB // 128)) + bytes([128]), "/RunLengthDecode", b"\n"),
])
def test_every_filter_chain_is_counted_past_the_cap(name, stream, filters, eol):
    pdf = pdf_with(stream, filters, eol)
    assert len(pdf) < 200_000 or name == "run length"
    assert inflated_bytes(pdf, 16 * MB) > 16 * MB, name


def test_lzw_is_decoded_as_pdf_writes_it():
    """The encoder is checked against PDFium (it reads the page's text through it), the counter
    against the content's length."""
    import pypdfium2 as pdfium

    content = b"BT /F1 6 Tf 10 780 Td (" + " ".join(f"word{i}" for i in range(600)).encode() + b") Tj ET "
    encoded = lzw_encode(content)
    objs = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
            b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 20000 792]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>",
            b"<</Length " + str(len(encoded)).encode() + b"/Filter/LZWDecode>>\nstream\n" + encoded + b"\nendstream",
            b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    pdf = b"%PDF-1.4\n" + b"".join(f"{i} 0 obj\n".encode() + o + b"\nendobj\n" for i, o in enumerate(objs, 1))
    pdf += b"trailer<</Root 1 0 R>>\n%%EOF"
    assert "word599" in pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert inflated_bytes(pdf, 10 * MB) == len(content)
    assert inflated_bytes(pdf, len(content) - 1) == len(content)  # over a smaller cap: just past it


def test_ordinary_pdfs_count_what_they_hold(tmp_path: Path):
    corpus_docs.report(random.Random(3), tmp_path / "r.pdf", None)
    n = inflated_bytes((tmp_path / "r.pdf").read_bytes(), 512 * MB)
    assert 0 < n < 5 * MB
    assert inflated_bytes(pdf_with(b"\xff\xd8\xff not deflate", "/DCTDecode"), MB) == 0  # images: not here
