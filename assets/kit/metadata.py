"""Metadata a person reads in the Dagster UI: counts, reasons, previews, small pictures.

Pictures are PNGs inlined in Markdown (the UI renders data URIs), drawn with matplotlib's Agg
backend, imported only when a picture is drawn. Text in a picture may be Korean or Japanese (a
Docmatix page's Q/A): a CJK font, where one is installed, backs up matplotlib's default font glyph by
glyph, so those characters are drawn instead of boxes and a warning per glyph.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import dagster as dg
import polars as pl

from assets.kit.links import local_path
from assets.kit.markdown import PREVIEW_ROWS, markdown_table

FINGERPRINT_EXEMPT = "what the UI shows about an output, never the output"
# fonts with Hangul and kana, as Debian's fonts-nanum and fonts-noto-cjk name them and their files,
# preferred first
CJK_FONTS = ("NanumGothic", "Noto Sans CJK JP", "Noto Sans CJK KR", "Noto Sans CJK SC")
CJK_FONT_FILES = ("NanumGothic.ttf", "NotoSansCJK-Regular.ttc")


@cache
def pyplot():
    """matplotlib.pyplot on the Agg backend, with the installed CJK_FONTS after the default font
    (matplotlib falls back font by font for each glyph); with none installed, the default alone.
    matplotlib's font list is cached when it first runs: a font installed later is added here."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed & set(CJK_FONTS):
        for path in font_manager.findSystemFonts():
            if os.path.basename(path) in CJK_FONT_FILES:
                font_manager.fontManager.addfont(path)
        installed = {f.name for f in font_manager.fontManager.ttflist}
    fallback = [name for name in CJK_FONTS if name in installed]
    families = list(matplotlib.rcParams["font.family"])
    matplotlib.rcParams["font.family"] = [*families, *(f for f in fallback if f not in families)]
    return plt

def preview(df: pl.DataFrame, columns: Sequence[str] | None = None, max_rows: int = PREVIEW_ROWS):
    cols = [c for c in (columns or df.columns) if c in df.columns]
    return dg.MetadataValue.md(markdown_table(df.select(cols), max_rows))


def screen_counts(df: pl.DataFrame) -> dict[str, Any]:
    """kept/rejected totals and rejections by reason, for any frame with `kept` and `reason`."""
    kept = int(df["kept"].sum()) if df.height else 0
    reasons = (
        df.filter(~pl.col("kept")).group_by("reason").len().sort("len", descending=True)
        if df.height else pl.DataFrame({"reason": [], "len": []})
    )
    return {
        "dagster/row_count": df.height,
        "inputs": df.height,
        "kept": kept,
        "rejected": df.height - kept,
        "rejected_by_reason": dg.MetadataValue.json(
            {str(r): int(n) for r, n in reasons.iter_rows()}
        ),
    }


def png_markdown(fig, alt: str) -> dg.MetadataValue:
    plt = pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{data})")


def bar_chart(counts: Mapping[str, float], title: str, xlabel: str = "") -> dg.MetadataValue:
    plt = pyplot()
    items = sorted(counts.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(7, max(1.5, 0.3 * len(items) + 0.8)))
    ax.barh([str(k) for k, _ in items], [v for _, v in items], color="#4C72B0")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    for i, (_, v) in enumerate(items):
        ax.text(v, i, f" {v:g}", va="center", fontsize=8)
    return png_markdown(fig, title)


def funnel_chart(stages: Sequence[tuple[str, int]], title: str = "funnel") -> dg.MetadataValue:
    """Stages in pipeline order, drawn top to bottom."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(stages) + 0.8))
    names = [s for s, _ in stages][::-1]
    values = [v for _, v in stages][::-1]
    ax.barh(names, values, color="#55A868")
    for i, v in enumerate(values):
        ax.text(v, i, f" {v}", va="center", fontsize=8)
    ax.set_title(title)
    return png_markdown(fig, title)


def uri_value(uri: str) -> dg.MetadataValue:
    """A stored file as a value the UI links: a local path, or a URL for s3://, gs://, http(s)."""
    path = local_path(uri)
    return dg.MetadataValue.path(path) if path else dg.MetadataValue.url(uri)
