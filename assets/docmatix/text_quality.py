"""Is a page's text what its picture shows? The gate between a PDF's text and the data made from it.

A text layer can lie three ways. It can be garbled: a font without a usable Unicode map yields
private-use, replacement or control characters, `(cid:N)` codes, or runs of symbols where letters
were drawn (`平成 ™—`). It can be invisible: a non-embedded CJK font with no substitute on the
rendering machine gives characters that the page image never shows, so an image of "25" would be
taught to read `™œ 日`. And it can be missing: a scan has ink but no text. All three are measured
on the page as Docmatix renders it, word by word, against the ink in each word's box:

- `odd_chars`: characters no reader can print (Unicode categories Co, Cn, Cs, Cc, U+FFFD) and
  `(cid:N)` codes; `symbol_chars`: symbols (category S*), legitimate in small numbers (●, ≥, $);
- `visible_chars`: characters of words whose box holds ink on the rendered page;
- `ink`: share of the page that is ink; `uncovered_ink`: share that is ink outside every word box
  (text the layer does not carry, or a figure, or a table's rules: only when most of the page's ink
  lies outside the words is the page taken for a scan with a partial layer).

A garbled or invisible layer, or a page with ink and no text, goes to OCR (`needs_ocr`). What the
OCR reads decides: when it agrees with the layer the layer stays (its boxes are exact), when it
reads text the layer lacks or contradicts it the OCR text replaces the layer, and when the OCR
reads nothing usable the page is rejected (`text_layer_garbled` when a layer was there,
`no_text` when not).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass

from pydantic import BaseModel, ConfigDict, Field

from assets.docmatix.pdfa import Page

GATE_DPI = 100  # enough to see a 6 pt glyph's ink inside its box, cheap enough for every page
INK_LEVEL = 200  # grey level (0-255) below which a pixel counts as ink: anti-aliased and coloured text included
_CID = re.compile(r"\(cid:\d+\)")
_ODD_CATEGORIES = {"Co", "Cn", "Cs", "Cc"}

OK, GARBLED, NONE = "ok", "garbled", "none"  # a page's `status`
TEXT_LAYER_GARBLED, NO_TEXT = "text_layer_garbled", "no_text"


class TextGate(BaseModel):
    """Thresholds of the per-page text gate (part of `DocumentRules`, so asset config)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    ocr: bool = Field(True, description="OCR pages whose text is garbled, invisible or missing.")
    max_odd_share: float = Field(0.05, ge=0, le=1, description="Unprintable characters and (cid:N) codes "
                                                               "a text layer may have, as a share of its characters.")
    max_symbol_share: float = Field(0.3, ge=0, le=1, description="Symbols (Unicode S*) a layer may have.")
    min_visible_share: float = Field(0.6, ge=0, le=1, description="Share of the layer's characters whose box "
                                                                  "must hold ink on the rendered page.")
    max_uncovered_ink: float = Field(0.02, ge=0, le=1, description="Ink outside every word box (share of the "
                                                                   "page) above which a page is OCR'd for text "
                                                                   "its layer lacks.")
    max_uncovered_share: float = Field(0.6, ge=0, le=1, description="...and above which share of all its "
                                                                     "ink (ruled tables and figures leave less "
                                                                     "outside the words than a scan does).")
    min_ocr_chars: int = Field(8, ge=1, description="Letters and digits an OCR must read for a page to be "
                                                    "kept on OCR text.")
    min_ocr_agreement: float = Field(0.6, ge=0, le=1, description="Character overlap of layer and OCR at "
                                                                  "which a flagged layer is kept after all.")
    more_text_factor: float = Field(1.5, ge=1, description="A page with a layer is switched to OCR text when "
                                                           "the OCR reads this many times more characters.")


@dataclass(frozen=True)
class Measure:
    chars: int
    odd_chars: int
    symbol_chars: int
    visible_chars: int
    ink: float
    uncovered_ink: float

    @property
    def visible_share(self) -> float:
        return self.visible_chars / self.chars if self.chars else 0.0


def _odd(text: str) -> tuple[int, int, str]:
    """(odd characters, symbols, the text with `(cid:N)` codes removed)."""
    cids = len(_CID.findall(text))
    rest = _CID.sub("", text)
    odd = sum(1 for ch in rest if ch == "\ufffd" or unicodedata.category(ch) in _ODD_CATEGORIES)
    symbols = sum(1 for ch in rest if unicodedata.category(ch).startswith("S"))
    return cids + odd, symbols, rest


def measure(page: Page, gray) -> Measure:
    """The page's text (PDFA layout) against its rendering (`gray`: a 2-D uint8 numpy array)."""
    import numpy as np

    ink = gray < INK_LEVEL
    height, width = ink.shape
    covered = np.zeros_like(ink)
    chars = odd = symbols = visible = 0
    for text, (x, y, w, h) in zip(page["words"]["text"], page["words"]["bbox"], strict=True):
        n_odd, n_sym, rest = _odd(text)
        n = len("".join(rest.split())) + len(_CID.findall(text))  # a (cid:N) code stands for one glyph
        chars, odd, symbols = chars + n, odd + n_odd, symbols + n_sym
        x0, y0 = max(int(x * width) - 1, 0), max(int(y * height) - 1, 0)
        x1, y1 = min(int((x + w) * width) + 2, width), min(int((y + h) * height) + 2, height)
        if x1 > x0 and y1 > y0:
            covered[y0:y1, x0:x1] = True
            if ink[y0:y1, x0:x1].any():
                visible += n
    area = float(ink.size) or 1.0
    return Measure(chars, odd, symbols, visible, round(float(ink.sum()) / area, 5),
                   round(float((ink & ~covered).sum()) / area, 5))


def flags(m: Measure, gate: TextGate) -> list[str]:
    """Why a page's text cannot be taken as it is (empty: it can)."""
    if m.chars == 0:
        return ["no_text_layer"] if m.ink > 0 else []
    out = []
    if m.odd_chars / m.chars > gate.max_odd_share:
        out.append("unprintable_chars")
    if m.symbol_chars / m.chars > gate.max_symbol_share:
        out.append("symbol_chars")
    if m.visible_share < gate.min_visible_share:
        out.append("text_not_drawn")
    if m.uncovered_ink > gate.max_uncovered_ink and m.uncovered_ink > gate.max_uncovered_share * m.ink:
        out.append("ink_without_text")
    return out


def readable_chars(page: Page) -> int:
    """Letters and digits of a page's words (what an OCR must find for the page to be kept)."""
    return sum(1 for t in page["words"]["text"] for ch in t if ch.isalnum())


def agreement(a: str, b: str) -> float:
    """Character overlap of two texts, whitespace ignored and order-free (a layer and an OCR of the
    same page list columns and table cells in different orders): shared characters over the longer."""
    ca, cb = Counter("".join(a.split()).casefold()), Counter("".join(b.split()).casefold())
    longest = max(sum(ca.values()), sum(cb.values()))
    return round(sum((ca & cb).values()) / longest, 4) if longest else 0.0


@dataclass
class PageText:
    """What the gate decided for one page; stored per page with the document (`page_text`)."""

    page: int
    status: str  # ok | garbled | none
    source: str | None  # where the kept text came from: pdf_text_layer | pdfa_json | ocr; None if rejected
    flags: list[str]
    chars: int
    odd_chars: int
    symbol_chars: int
    visible_share: float
    ink: float
    uncovered_ink: float
    direction: str | None = None  # the text layer's "<char>,<line>" direction as displayed (text_layer)
    ocr_lang: str | None = None
    ocr_chars: int | None = None
    ocr_agreement: float | None = None
    ocr_seconds: float | None = None
    ocr_engine: str | None = None

    @property
    def reason(self) -> str | None:
        return {GARBLED: TEXT_LAYER_GARBLED, NONE: NO_TEXT}.get(self.status)

    def as_dict(self) -> dict:
        """Stored form: what OCR cost (seconds) is left out, so the same page stores the same record."""
        return {k: v for k, v in asdict(self).items() if k != "ocr_seconds"} | {"reason": self.reason}
