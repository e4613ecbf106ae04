"""Answerability of generated Q/A pairs on real PDFs, against labels written by reading the pages.

`qa_labels.jsonl` holds one labelled pair a line (pdf, page, question, answer, label 1 = answerable
from the rendered page and correct, 0 = not, source, note). The labels were written by rendering
each page with pypdfium2 and reading it: the pairs of the previous offline generator (all of which
its filter kept), of the current generator, and of drafts in between.

Four figures come out, each a precision (labelled good / labelled kept):
- the previous generator with its filter (it kept every one of its pairs),
- Docmatix's regex profile (`compat`) judging every labelled pair,
- the default profile (answerability rules included) judging every labelled pair: the filter on
  its own, as it would judge any generator's pairs,
- the current generator with the default profile, on a fresh generation; its kept pairs must be
  labelled for the figure to mean anything, so the share that is (`coverage`) is reported too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tests.realdata.rowtable import REALDATA, Row

LABELS = Path(__file__).with_name("qa_labels.jsonl")
MAX_PAGES = 4  # Docmatix asks about documents of at most four pages; longer ones give their first four
TARGET_PRECISION = 0.9
MIN_COVERAGE = 0.9


def labels(path: Path = LABELS) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    bad = [r for r in rows if r.get("label") not in (0, 1) or not {"pdf", "question", "answer"} <= set(r)]
    if bad:
        raise ValueError(f"{len(bad)} label rows lack pdf/question/answer or a 0/1 label, e.g. {bad[0]}")
    return rows


def _key(pdf: str, question: str, answer: str) -> tuple[str, str, str]:
    return pdf, " ".join(question.split()), " ".join(answer.split())


def read_layouts(pdfs: list[str], folder: Path) -> dict[str, list[dict]]:
    """The first MAX_PAGES pages of each PDF, read as the `documents` asset reads them."""
    from assets.docmatix.reading import read_document

    out = {}
    for name in pdfs:
        reading = read_document((folder / name).read_bytes())
        if reading.open_error:
            raise ValueError(f"{name}: {reading.open_error} ({reading.open_detail})")
        out[name] = reading.layout[:MAX_PAGES]
    return out


def judge_pairs(pairs: list[dict], layouts: dict[str, list[dict]]) -> pl.DataFrame:
    """Both filter profiles' verdicts on pairs given as {pdf, question, answer}."""
    from assets.docmatix.qa_filters import verdicts

    raw = pl.DataFrame({
        "record_id": [f"{p['pdf']}:{i}" for i, p in enumerate(pairs)],
        "document_id": [p["pdf"] for p in pairs],
        "question": [p["question"] for p in pairs],
        "answer": [p["answer"] for p in pairs],
    })
    docs = pl.DataFrame({"record_id": list(layouts), "layout": [json.dumps({"pages": v}) for v in layouts.values()]})
    return verdicts(raw, docs)


def generate(layouts: dict[str, list[dict]]) -> list[dict]:
    """The current offline generator's pairs, each document asked with its hashed prompt variant."""
    from assets.docmatix.qa_offline import generate_pairs
    from assets.docmatix.qa_prompts import variant_for

    return [{"pdf": name, "question": p.question, "answer": p.answer, "page": p.page}
            for name, layout in layouts.items() if layout
            for p in generate_pairs(layout, Path(name).stem, variant_for(Path(name).stem))]


@dataclass(frozen=True)
class Precision:
    what: str
    kept: int  # pairs the profile kept
    labelled: int  # of those, pairs with a label
    good: int  # of those, labelled answerable

    @property
    def precision(self) -> float | None:
        return self.good / self.labelled if self.labelled else None

    @property
    def coverage(self) -> float:
        return self.labelled / self.kept if self.kept else 1.0


def _precision(what: str, kept: list[tuple[str, str, str]], truth: dict[tuple[str, str, str], int]) -> Precision:
    found = [truth[k] for k in kept if k in truth]
    return Precision(what, len(kept), len(found), sum(found))


def figures(folder: Path | None = None, label_path: Path = LABELS) -> list[Precision]:
    """The four precisions of the module docstring, in its order."""
    folder = folder or REALDATA / "pdfs"
    rows = labels(label_path)
    truth = {_key(r["pdf"], r["question"], r["answer"]): int(r["label"]) for r in rows}
    layouts = read_layouts(sorted({r["pdf"] for r in rows} | {p.name for p in folder.glob("*.pdf")}), folder)
    previous = [_key(r["pdf"], r["question"], r["answer"]) for r in rows if r.get("source") == "previous_generator"]
    judged = judge_pairs(rows, layouts)
    keys = [_key(r["pdf"], r["question"], r["answer"]) for r in rows]
    generated = generate(layouts)
    fresh = judge_pairs(generated, layouts) if generated else None
    fresh_kept = [_key(p["pdf"], p["question"], p["answer"]) for p, k in
                  zip(generated, fresh["kept"] if fresh is not None else [], strict=True) if k]
    return [
        _precision("previous generator + its filter (kept all)", previous, truth),
        _precision("Docmatix regex profile, all labelled pairs",
                   [k for k, ok in zip(keys, judged["compat_kept"], strict=True) if ok], truth),
        _precision("default profile (answerability), all labelled pairs",
                   [k for k, ok in zip(keys, judged["kept"], strict=True) if ok], truth),
        _precision("current generator + default profile", fresh_kept, truth),
    ]


def answerability_precision(folder: Path | None = None) -> list[Precision]:
    """What `make realdata` prints for answerability (the entry point a script calls)."""
    return figures(folder)


def rows() -> list[Row]:
    """One row per figure: the target and the measured precision (and label coverage)."""
    out = []
    for i, f in enumerate(answerability_precision()):
        measured = (f"{f.precision:.1%} ({f.good}/{f.labelled} labelled, {f.kept} kept, coverage {f.coverage:.0%})"
                    if f.precision is not None else f"no labelled pair kept ({f.kept} kept)")
        gated = i >= 2  # the first two are the baselines being beaten, reported for comparison
        passed = (not gated) or (f.precision is not None and f.precision >= TARGET_PRECISION
                                 and f.coverage >= MIN_COVERAGE)
        expected = f">= {TARGET_PRECISION:.0%}, coverage >= {MIN_COVERAGE:.0%}" if gated else "baseline"
        out.append(Row(LABELS.name, f"answerability: {f.what}", expected, measured, passed))
    return out
