"""A PDF's text layer as PDFA-layout pages, read with pypdfium2.

PDFium reports characters in content order with generated line breaks; words are the runs between
whitespace, each boxed by the union of its characters' loose boxes (font ascent to descent, as
PDFA's boxes are). A line is cut where PDFium breaks it and also where the gap to the next word is
wider than 0.8 of the line height: table cells and form values drawn on one baseline are separate
strings in the PDF, and PDFA's layout has them as separate lines too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assets.docmatix.pdfa import Box, Page, page_from_lines

GAP_OVER_HEIGHT = 0.8

# pypdfium2's error codes (FPDF_ERR_*) for documents that are locked rather than broken
_PASSWORD, _SECURITY = 4, 5


class PdfOpenError(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason  # "encrypted" | "unreadable"


def open_pdf(data: bytes):
    """A `pypdfium2.PdfDocument`, or PdfOpenError saying whether it is locked or broken."""
    import pypdfium2 as pdfium

    if not data:
        raise PdfOpenError("unreadable", "empty file")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        # PDFium's last error is process-wide and some failures do not reset it: a 0-page file read
        # after an encrypted one reports the password error again. Only a file that declares
        # encryption (an /Encrypt entry) is called encrypted.
        code = getattr(e, "err_code", None)
        reason = "encrypted" if code in (_PASSWORD, _SECURITY) and b"/Encrypt" in data else "unreadable"
        raise PdfOpenError(reason, str(e)) from None


@dataclass
class _Word:
    chars: list[str] = field(default_factory=list)
    box: list[float] = field(default_factory=list)  # left, bottom, right, top in PDF units
    newline_before: bool = False

    def add(self, ch: str, box: tuple[float, float, float, float]) -> None:
        self.chars.append(ch)
        if not self.box:
            self.box = list(box)
        else:
            self.box = [min(self.box[0], box[0]), min(self.box[1], box[1]),
                        max(self.box[2], box[2]), max(self.box[3], box[3])]


def _codepoints(textpage, n: int) -> list[str]:
    """Characters by index; UTF-16 surrogate pairs are joined (the second becomes empty)."""
    import pypdfium2.raw as raw

    units = [raw.FPDFText_GetUnicode(textpage.raw, i) for i in range(n)]
    out = []
    i = 0
    while i < n:
        u = units[i]
        if 0xD800 <= u < 0xDC00 and i + 1 < n and 0xDC00 <= units[i + 1] < 0xE000:
            out += [chr(0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00)), ""]
            i += 2
            continue
        out.append("" if 0xD800 <= u < 0xE000 else chr(u))
        i += 1
    return out


def _words(textpage) -> list[_Word]:
    n = textpage.count_chars()
    words: list[_Word] = []
    cur: _Word | None = None
    newline = False
    for i, ch in enumerate(_codepoints(textpage, n)):
        if ch in ("\r", "\n") or ch.isspace() or ch in ("", "\x00", "\ufffe", "\x02"):
            if cur is not None:
                words.append(cur)
                cur = None
            newline = newline or ch in ("\r", "\n")
            continue
        if cur is None:
            cur = _Word(newline_before=newline)
            newline = False
        cur.add(ch, textpage.get_charbox(i, loose=True))
    if cur is not None:
        words.append(cur)
    return words


def _normaliser(page):
    """Maps a PDF-space box to PDFA's [x, y, w, h] in 0-1 from the displayed page's top left."""
    left, bottom, right, top = page.get_bbox()
    width, height = (right - left) or 1.0, (top - bottom) or 1.0
    rotation = page.get_rotation() % 360

    def norm(b: list[float]) -> Box:
        x, y = (b[0] - left) / width, (top - b[3]) / height
        w, h = (b[2] - b[0]) / width, (b[3] - b[1]) / height
        if rotation == 90:
            return [1 - y - h, x, h, w]
        if rotation == 180:
            return [1 - x - w, 1 - y - h, w, h]
        if rotation == 270:
            return [y, 1 - x - w, h, w]
        return [x, y, w, h]

    return norm


def _split_lines(words: list[_Word]) -> list[list[_Word]]:
    lines: list[list[_Word]] = []
    for w in words:
        if not lines or w.newline_before:
            lines.append([w])
            continue
        prev = lines[-1][-1]
        height = max(prev.box[3] - prev.box[1], w.box[3] - w.box[1])
        gap = w.box[0] - prev.box[2]
        if gap > GAP_OVER_HEIGHT * height or w.box[2] < prev.box[0]:
            lines.append([w])
        else:
            lines[-1].append(w)
    return lines


def page_layout(page) -> Page:
    """One pypdfium2 page as a PDFA-layout page (no `images_bbox`: the text layer has no images)."""
    textpage = page.get_textpage()
    try:
        norm = _normaliser(page)
        lines = _split_lines(_words(textpage))
        return page_from_lines([[("".join(w.chars), norm(w.box)) for w in line] for line in lines])
    finally:
        textpage.close()


def document_layout(pdf) -> list[Page]:
    pages = []
    for i in range(len(pdf)):
        page = pdf[i]
        try:
            pages.append(page_layout(page))
        finally:
            page.close()
    return pages


DIRECTIONS = {0: "ltr", 90: "ttb", 180: "rtl", 270: "btt"}


def text_direction(page) -> str | None:
    """How the page's text runs as displayed: "<char direction>,<line direction>" ("ltr,ttb" for
    ordinary text, "ttb,rtl" for a page turned 90 degrees clockwise), by majority over its characters'
    matrices and the page's /Rotate, the quarter turn nearest each; None without text.

    A character's matrix gives its baseline (a, b) and its up vector (c, d) in PDF space (y up);
    characters advance along the baseline and lines along the opposite of up. A mirrored matrix turns
    one but not the other, so both are read from the matrix, not from one angle."""
    import math
    from collections import Counter

    import pypdfium2.raw as raw

    rotation = page.get_rotation() % 360

    def quarter(x: float, y: float) -> int:  # clockwise display angle of a PDF-space vector
        return (round(math.degrees(math.atan2(-y, x)) / 90) * 90 + rotation) % 360

    textpage = page.get_textpage()
    try:
        votes: Counter = Counter()
        m = raw.FS_MATRIX()
        for i in range(textpage.count_chars()):
            if chr(raw.FPDFText_GetUnicode(textpage.raw, i)).isspace() or not raw.FPDFText_GetMatrix(
                    textpage.raw, i, m):
                continue
            votes[(quarter(m.a, m.b), quarter(-m.c, -m.d))] += 1
    finally:
        textpage.close()
    if not votes:
        return None
    chars, lines = votes.most_common(1)[0][0]
    return f"{DIRECTIONS[chars]},{DIRECTIONS[lines]}"
