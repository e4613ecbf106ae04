"""Tesseract OCR of a rendered page, as a PDFA-layout page with word and line boxes.

A scanned page has no text layer and a broken one cannot be trusted; what such a page says is read
from its picture. Tesseract (Debian's `tesseract-ocr` with the `-kor` and `-jpn` models) is run
through pytesseract, which keeps each word's box and confidence, so the OCR'd page feeds grounding
pairs exactly as a text layer does: boxes are normalised to the image, which is the page as shown
(any /Rotate already applied by the renderer).

The language is chosen per page, from the scripts of the text the page claims to carry or, with no
text at all, from Tesseract's script detection (OSD): English is always added, since Korean and
Japanese documents mix in Latin letters and digits, and asking every model for every page would
triple the time and confuse similar glyphs across scripts.
"""

from __future__ import annotations

import shutil
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from assets.docmatix.pdfa import Page, page_from_lines

# Tesseract's own resolution. On the Korean sample invoices, with table rules removed (below), 300 dpi
# reads with a CER of 2.2-3.7% where 150 dpi gives 2.5-5.6%; scans are read as well either way
OCR_DPI = 300
MAX_SIDE = 2940 * 2  # twice Docmatix's cap on a page image's longest side: a poster is scaled down

# "one column of text of variable sizes": the automatic layout analysis (3) cut a Korean notice's
# syllables into one-character blocks and lost its title, and read tables cell by cell out of order
PSM = 4
# a straight run of ink half an inch long is a table rule, not a glyph's stroke (a 40 pt headline's
# stems are shorter); the vertical rules of a three-row table are an inch long
RULE_POINTS = 36
RULE_INK = 160
DEFAULT_LANG = "eng"
# Tesseract's OSD script names -> the models this project installs (Han alone is read as Japanese:
# the Japanese model carries the kanji, and no Chinese model is installed)
SCRIPT_LANG = {"Korean": "kor", "Hangul": "kor", "Japanese": "jpn", "Katakana": "jpn", "Hiragana": "jpn", "Han": "jpn"}
INSTALL_HINT = ("install Tesseract and its models: apt-get install tesseract-ocr tesseract-ocr-kor "
                "tesseract-ocr-jpn (`make install` does this when run as root)")


class OcrUnavailable(RuntimeError):
    """Tesseract or one of its language models is not installed: a set-up problem, never a page's fault."""


@dataclass(frozen=True)
class OcrResult:
    page: Page
    lang: str
    seconds: float
    engine: str
    mean_confidence: float | None  # over the words kept, 0-100

    @property
    def chars(self) -> int:
        return sum(len(w) for w in self.page["words"]["text"])


@lru_cache(maxsize=1)
def engine() -> tuple[str, frozenset[str]]:
    """(Tesseract's version, its installed languages), or OcrUnavailable saying what to install."""
    if shutil.which("tesseract") is None:
        raise OcrUnavailable(f"the `tesseract` program is not on PATH; {INSTALL_HINT}")
    import pytesseract

    return f"tesseract {pytesseract.get_tesseract_version()}", frozenset(pytesseract.get_languages(config=""))


def require_languages(lang: str) -> None:
    """OcrUnavailable unless every model of `lang` ("kor+eng") is installed."""
    _, installed = engine()
    missing = [code for code in lang.split("+") if code not in installed]
    if missing:
        raise OcrUnavailable(f"Tesseract has no model for {', '.join(missing)}; {INSTALL_HINT}")


def script_lang(text: str) -> str | None:
    """The model for the non-Latin script that dominates `text` (kor, jpn), or None."""
    counts = {"kor": 0, "jpn": 0}
    for ch in text:
        if "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f":
            counts["kor"] += 1
        elif "\u3040" <= ch <= "\u30ff" or unicodedata.name(ch, "").startswith("CJK UNIFIED"):
            counts["jpn"] += 1
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def detect_lang(image) -> str:
    """The page's language from Tesseract's script detection; English when it cannot tell (too little
    text for OSD is common on sparse pages and is not an error)."""
    import pytesseract

    try:
        osd = pytesseract.image_to_osd(image, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError:
        return DEFAULT_LANG
    return SCRIPT_LANG.get(str(osd.get("script")), DEFAULT_LANG)


def with_english(lang: str) -> str:
    return lang if DEFAULT_LANG in lang.split("+") else f"{lang}+{DEFAULT_LANG}"


def remove_rules(image, dpi: float = OCR_DPI):
    """The page with its long horizontal and vertical lines whitened: Tesseract takes a table's rules
    for text lines and drops the rows between them (the Korean invoices lost whole rows at 300 dpi)."""
    import numpy as np
    from PIL import Image
    from scipy.ndimage import maximum_filter1d, minimum_filter1d

    a = np.asarray(image.convert("L"))
    ink = (a < RULE_INK).view(np.uint8)
    length = max(round(RULE_POINTS * dpi / 72), 2) | 1  # odd: the window is centred on its pixel
    # a morphological opening with a straight line, as running min/max filters (O(pixels), where
    # scipy's binary_opening with a 300-pixel element took 6.7 s a page)
    rules = np.zeros(a.shape, bool)
    for axis in (0, 1):
        rules |= maximum_filter1d(minimum_filter1d(ink, length, axis=axis), length, axis=axis).astype(bool)
    if not rules.any():
        return image
    out = a.copy()
    out[rules] = 255
    return Image.fromarray(out)


GHOST_OVERLAP = 0.5


def _ghosts(data: dict) -> set[int]:
    """Words Tesseract reports twice: a word whose box lies mostly (GHOST_OVERLAP of its area) inside
    a more confident word's box at least twice its height is a second, smaller reading of the same
    ink (a "22" inside a Korean title's first syllables). Neighbours of one line overlap too, but at
    the same height."""
    import numpy as np

    idx = [i for i, t in enumerate(data["text"]) if t.strip()]
    if len(idx) < 2:
        return set()
    b = np.array([[data["left"][i], data["top"][i], data["width"][i], data["height"][i]] for i in idx], float)
    conf = np.array([float(data["conf"][i]) for i in idx])
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    area = np.maximum(b[:, 2] * b[:, 3], 1.0)
    out = set()
    for k in range(len(idx)):
        w = np.clip(np.minimum(x1[k], x1) - np.maximum(x0[k], x0), 0, None)
        h = np.clip(np.minimum(y1[k], y1) - np.maximum(y0[k], y0), 0, None)
        inside = (w * h / area[k] >= GHOST_OVERLAP) & (conf > conf[k]) & (b[:, 3] >= 2 * b[k, 3])
        inside[k] = False
        if inside.any():
            out.add(idx[k])
    return out


def ocr_page(image, lang: str | None = None, min_confidence: float = 30.0, dpi: float = OCR_DPI) -> OcrResult:
    """OCR of one page image (PIL, the page as displayed, at `dpi`); table rules are removed first.
    Words below `min_confidence` (Tesseract's 0-100) are dropped: on an illustration Tesseract reports
    strokes as low-confidence 'words' that no page says; so are words it reads twice (`_ghosts`)."""
    import pytesseract

    version, _ = engine()
    started = time.perf_counter()
    image = remove_rules(image, dpi)
    lang = with_english(lang or detect_lang(image))
    require_languages(lang)
    data = pytesseract.image_to_data(image, lang=lang, config=f"--psm {PSM}",
                                     output_type=pytesseract.Output.DICT)
    width, height = image.size
    lines: dict[tuple[int, int, int], list[tuple[str, list[int], float]]] = {}
    scores: list[float] = []
    ghosts = _ghosts(data)
    for i, text in enumerate(data["text"]):
        text, conf = text.strip(), float(data["conf"][i])
        if not text or conf < min_confidence or i in ghosts:
            continue
        box = [data["left"][i], data["top"][i], data["width"][i], data["height"][i]]  # pixels
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        lines.setdefault(key, []).append((text, box, conf))
        scores.append(conf)
    joined = [_join_cjk(words) for words in lines.values()]
    page = page_from_lines([[(t, [b[0] / width, b[1] / height, b[2] / width, b[3] / height])
                             for t, b, _ in words] for words in joined])
    # PDFA's word score: the OCR's confidence in 0-1 (a joined word's lowest)
    page["words"]["score"] = [round(c / 100, 4) for words in joined for _, _, c in words]
    mean = round(sum(scores) / len(scores), 2) if scores else None
    return OcrResult(page, lang, round(time.perf_counter() - started, 3), version, mean)


CJK_JOIN_GAP = 0.3  # a gap under 0.3 of the line's median word height is inside a word, not a space


def _cjk(text: str) -> bool:
    return script_lang(text) is not None


def _join_cjk(words: list[tuple[str, list[int], float]]) -> list[tuple[str, list[int], float]]:
    """Tesseract's Korean and Japanese models cut words at every script change and often between
    syllables ("제 469 호", "운 행 이"); neighbours closer than a space (CJK_JOIN_GAP) are one word
    again, so questions and grounding pairs quote the page's own words. Latin words are left as cut.
    Boxes are in pixels here (a gap and a height compare only in one unit)."""
    if len(words) < 2:
        return words
    heights = sorted(b[3] for _, b, _ in words)
    gap_limit = CJK_JOIN_GAP * heights[len(heights) // 2]
    out = [words[0]]
    for text, box, conf in words[1:]:
        prev_text, prev, prev_conf = out[-1]
        if (_cjk(prev_text) or _cjk(text)) and box[0] - (prev[0] + prev[2]) < gap_limit:
            x0, y0 = min(prev[0], box[0]), min(prev[1], box[1])
            x1, y1 = max(prev[0] + prev[2], box[0] + box[2]), max(prev[1] + prev[3], box[1] + box[3])
            out[-1] = (prev_text + text, [x0, y0, x1 - x0, y1 - y0], min(prev_conf, conf))
        else:
            out.append((text, box, conf))
    return out


def reading_order_text(page: Page) -> str:
    """A page's words top to bottom, left to right, with no whitespace: the form two readings of one
    page (a text layer's content order and an OCR's block order) are compared in. Words whose
    vertical centres lie within half the median word height are one row."""
    words = [(t, b) for t, b in zip(page["words"]["text"], page["words"]["bbox"], strict=True) if t.strip()]
    if not words:
        return ""
    heights = sorted(b[3] for _, b in words)
    tol = max(heights[len(heights) // 2] / 2, 1e-6)
    rows: list[tuple[float, list[tuple[float, str]]]] = []
    for text, (x, y, _, h) in sorted(words, key=lambda wb: wb[1][1] + wb[1][3] / 2):
        centre = y + h / 2
        if rows and abs(centre - rows[-1][0]) <= tol:
            rows[-1][1].append((x, text))
        else:
            rows.append((centre, [(x, text)]))
    return "".join("".join(t for _, t in sorted(r)) for _, r in rows).replace(" ", "")


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Levenshtein edits (rapidfuzz) over the reference's length, whitespace ignored."""
    from rapidfuzz.distance import Levenshtein

    ref, hyp = "".join(reference.split()), "".join(hypothesis.split())
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)
