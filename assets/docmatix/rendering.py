"""Page images as Docmatix made them: 150 dpi, the longest side capped at 2,940 px, PNG.

The cap scales the whole page down (it never crops), so a poster-sized page keeps its layout and
PDFA's normalised boxes stay valid on the image.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from assets.docmatix.text_quality import GARBLED, NO_TEXT, NONE, TEXT_LAYER_GARBLED
from assets.kit.screening import Rule, RuleSet

DPI = 150
MAX_SIDE = 2940
POINTS_PER_INCH = 72.0
# zlib level 3 encodes text pages about twice as fast as PIL's default 6 for ~5% more bytes
# (bench_docmatix); encoding, not rasterising, is the cost of this step
PNG_COMPRESS_LEVEL = 3


@dataclass(frozen=True)
class PageImage:
    png: bytes
    width: int
    height: int
    dpi: float  # the resolution actually used (below DPI when the cap applied)


def render_scale(width_pt: float, height_pt: float, dpi: int = DPI, max_side: int = MAX_SIDE) -> float:
    """Pixels per PDF point: `dpi`/72, lowered so the longest side fits in `max_side` pixels."""
    scale = dpi / POINTS_PER_INCH
    longest = max(width_pt, height_pt)
    if longest * scale > max_side:
        scale = max_side / longest
    return scale


def render_pages(pdf, dpi: int = DPI, max_side: int = MAX_SIDE) -> list[PageImage]:
    """Every page of an open `pypdfium2.PdfDocument` as a PNG."""
    out = []
    for i in range(len(pdf)):
        page = pdf[i]
        try:
            width, height = page.get_size()
            scale = render_scale(width, height, dpi, max_side)
            image = page.render(scale=scale).to_pil()
        finally:
            page.close()
        if max(image.size) > max_side:  # PDFium rounds sizes up; never by more than a pixel
            image.thumbnail((max_side, max_side))
        buf = io.BytesIO()
        image.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
        out.append(PageImage(buf.getvalue(), image.width, image.height, round(scale * POINTS_PER_INCH, 3)))
    return out


class RenderRules(RuleSet):
    """`page_images`' rules (no parameters): a page is kept when its document rendered and the text
    gate kept text for it (`documents`' `page_text`), so every kept image shows the text its
    questions and grounding pairs are about."""

    def rules(self) -> list[Rule]:
        return [
            Rule(reason="render_failed", column="render_error", op="is_null"),
            Rule(reason=TEXT_LAYER_GARBLED, column="text_status", op="ne", threshold=GARBLED),
            Rule(reason=NO_TEXT, column="text_status", op="ne", threshold=NONE),
        ]
