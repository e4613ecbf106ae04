"""Docmatix throughput and yield on the small sample corpus's PDFs (built into bench/out/).

Prints pages/s for text extraction (pypdfium2 text layer, PDFA JSON), for rendering at 150 dpi (with
and without PNG encoding), and Q/A per page: raw, kept by Docmatix's regexes (`compat`) and kept by
the default profile, with the offline generator. The readable PDFs are replicated to a page count
large enough for a stable rate; timings are wall-clock on whatever else the machine is doing.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "corpus-small"
EXTRACT_PAGES = 400
RENDER_PAGES = 60


def _documents() -> list[dict]:
    from corpus.build import build_corpus

    manifest = build_corpus(OUT, seed=0, size="small")
    docs = []
    for item in manifest["items"]:
        if item["kind"] != "document" or item["case"] in ("garbage", "encrypted"):
            continue
        docs.append({
            "key": item["id"], "pages": item["pages"], "pdf": (OUT / item["path"]).read_bytes(),
            "sidecar": (OUT / item["sidecar"]).read_bytes() if item["sidecar"] else None,
            "kept": item["expected"]["kept"],
        })
    return docs


def _replicate(docs: list[dict], pages: int) -> list[dict]:
    out, n = [], 0
    while n < pages:
        for d in docs:
            out.append(d)
            n += d["pages"]
    return out


def _rate(fn, docs: list[dict]) -> tuple[int, float]:
    start = time.perf_counter()
    for d in docs:
        fn(d)
    return sum(d["pages"] for d in docs), time.perf_counter() - start


def _text_layer(d: dict) -> None:
    from assets.docmatix.text_layer import document_layout, open_pdf

    pdf = open_pdf(d["pdf"])
    try:
        document_layout(pdf)
    finally:
        pdf.close()


def _pdfa_json(d: dict) -> None:
    from assets.docmatix.pdfa import parse_pdfa_json

    parse_pdfa_json(d["sidecar"])


def _render(png: bool):
    def run(d: dict) -> None:
        from assets.docmatix.rendering import DPI, render_pages, render_scale
        from assets.docmatix.text_layer import open_pdf

        pdf = open_pdf(d["pdf"])
        try:
            if png:
                render_pages(pdf)
                return
            for i in range(len(pdf)):
                page = pdf[i]
                page.render(scale=render_scale(*page.get_size(), DPI)).to_pil()
                page.close()
        finally:
            pdf.close()

    return run


def _qa_yield(docs: list[dict]) -> dict[str, float]:
    from assets.docmatix.qa_filters import PageIndex, judge
    from assets.docmatix.qa_offline import generate_pairs
    from assets.docmatix.qa_prompts import variant_for
    from assets.docmatix.reading import read_document

    pages = raw = compat = default = 0
    for d in docs:
        if not d["kept"]:
            continue
        reading = read_document(d["pdf"], d["sidecar"])
        index = PageIndex.of(["\n".join(p["lines"]["text"]) for p in reading.layout])
        seen: set[str] = set()
        pages += reading.pages
        for pair in generate_pairs(reading.layout, d["key"], variant_for(d["key"])):
            v = judge(pair.question, pair.answer, index, seen)
            raw += 1
            compat += not v.compat
            default += not v.failures
    return {"pages": pages, "raw": raw / pages, "compat": compat / pages, "default": default / pages}


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    docs = _documents()
    readable = [d for d in docs if d["pages"]]
    with_json = [d for d in readable if d["sidecar"]]
    rows = []
    for name, fn, pool, target in (
        ("text layer (pypdfium2)", _text_layer, readable, EXTRACT_PAGES),
        ("PDFA JSON", _pdfa_json, with_json, EXTRACT_PAGES),
        ("render 150 dpi, no PNG", _render(png=False), readable, RENDER_PAGES),
        ("render 150 dpi + PNG", _render(png=True), readable, RENDER_PAGES),
    ):
        pages, seconds = _rate(fn, _replicate(pool, target))
        rows.append((name, f"{pages}", f"{seconds:.2f}", f"{pages / seconds:.1f}"))
    y = _qa_yield(docs)
    print(f"sample corpus: {len(docs)} openable PDFs ({sum(d['pages'] for d in readable)} pages), "
          f"replicated; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print()
    print(f"{'step':<26} {'pages':>6} {'seconds':>8} {'pages/s':>8}")
    for r in rows:
        print(f"{r[0]:<26} {r[1]:>6} {r[2]:>8} {r[3]:>8}")
    print()
    print(f"Q/A per page on {y['pages']} pages of kept documents (offline generator):")
    print(f"{'raw':>10} {'kept compat':>12} {'kept default':>13}")
    print(f"{y['raw']:>10.2f} {y['compat']:>12.2f} {y['default']:>13.2f}")
    print(json.dumps({"rates_pages_per_s": {r[0]: float(r[3]) for r in rows}, "qa_per_page": y}))


if __name__ == "__main__":
    main()
