"""Near-duplicate documents and questions on real text (the shared files only read): re-landed copies of
real PDFs (re-flowed, OCR-like edits, header changed, a page dropped, another key) are found, different
documents of one project and the pages of one report are not; camelot's two rotated printings of one
table are found as one document. Real NExT-QA questions re-landed with case, punctuation, tense or choice
order changed are found, and templated look-alikes (one content word swapped: boy/girl, after/before, ...;
real question pairs from different videos that differ in one word) are not; NExT-QA's templated
questions are flagged as repeats. The full labelled set and its precision and recall:
`python -m bench.dedup_text_set`."""

from __future__ import annotations

import random

import pytest

from assets.hygiene.text_duplicates import (
    QA,
    TextDedupRules,
    document_pairs,
    document_signatures,
    group,
    qa_near_duplicates,
    qa_text,
    templated_repeats,
)
from bench.dedup_text_set import (
    change_header,
    document_items,
    nextqa_rows,
    ocr_edits,
    pair_scores,
    qa_items,
    read_pdfs,
    reflow,
    run_documents,
    run_qa,
)
from tests.realdata.rowtable import REALDATA, require_realdata

PDFS = ["camelot_anticlockwise_table_1", "camelot_clockwise_table_1", "camelot_health",
        "pdfjs_bug1627427_reduced", "pdfjs_issue5010", "pdfplumber_2023-06-20-PV",
        "pdfplumber_WARN-Report-for-7-1-2015-to-03-25-2016", "pdfplumber_issue-336-example",
        "pypdf_Seige_of_Vicksburg_Sample_OCR"]


@pytest.fixture(scope="module")
def pdfs():
    folder = require_realdata("pdfs")
    missing = [n for n in PDFS if not (folder / f"{n}.pdf").is_file()]
    if missing:
        pytest.skip(f"real PDFs missing from {folder}: {missing}")
    return read_pdfs(folder, PDFS)


@pytest.fixture(scope="module")
def nextqa():
    path = REALDATA / "qa" / "nextqa_test.csv"
    require_realdata("qa")
    if not path.is_file():
        pytest.skip(f"no NExT-QA questions at {path}")
    return nextqa_rows(path)


@pytest.fixture(scope="module")
def encode():
    from resources.embeddings import EmbeddingResource

    return EmbeddingResource().encode  # loaded once for the module


def test_relanded_pdfs_are_found_and_lookalikes_are_not(pdfs):
    rng = random.Random(1)
    pages = pdfs["pypdf_Seige_of_Vicksburg_Sample_OCR"]
    chinese = "\n".join(pdfs["pdfplumber_issue-336-example"])
    french = "\n".join(pdfs["pdfplumber_2023-06-20-PV"])
    index = document_signatures([(name, "\n".join(p)) for name, p in pdfs.items()])
    shard = [
        ("vicksburg-page-dropped", "\n".join(pages[:2] + pages[3:])),
        ("vicksburg-ocr", ocr_edits("\n".join(pages), rng)),
        ("chinese-reflowed-ocr", ocr_edits(reflow(chinese, rng), rng)),
        ("french-header", change_header(french, rng)),
        ("health-other-key", "\n".join(pdfs["camelot_health"])),
    ]
    found = {(a, b) for a, b in document_pairs(shard, index).select("a", "b").iter_rows()}
    assert found == {
        ("vicksburg-page-dropped", "pypdf_Seige_of_Vicksburg_Sample_OCR"),
        ("vicksburg-ocr", "pypdf_Seige_of_Vicksburg_Sample_OCR"),
        ("chinese-reflowed-ocr", "pdfplumber_issue-336-example"),
        ("french-header", "pdfplumber_2023-06-20-PV"),
        ("health-other-key", "camelot_health"),
        ("vicksburg-ocr", "vicksburg-page-dropped"),  # two copies in one shard: a < b
    }
    # within the index: only camelot's one table printed twice (rotated), never its health table
    inside = document_pairs(index).to_dicts()
    assert inside == [{"a": "camelot_anticlockwise_table_1", "b": "camelot_clockwise_table_1",
                       "jaccard": 1.0, "exact": True}]


def test_pages_of_one_report_are_not_duplicates_of_each_other(pdfs):
    for name in ("pdfplumber_WARN-Report-for-7-1-2015-to-03-25-2016", "pypdf_Seige_of_Vicksburg_Sample_OCR"):
        pages = [(f"{name}#{i}", p) for i, p in enumerate(pdfs[name])]
        assert len(pages) >= 6
        assert document_pairs(pages).height == 0, name


def test_labelled_document_pools_are_scored_perfectly(pdfs):
    for pool, items in document_items(pdfs, seed=0).items():
        scores = pair_scores({it.id: it.origin for it in items}, run_documents(items))
        assert scores["precision"] == 1.0 and scores["recall"] == 1.0, (pool, scores)


def test_relanded_questions_are_found_and_templated_lookalikes_are_not(nextqa, encode):
    items = qa_items(nextqa, seed=3, videos=40, lookalikes=40)
    kept, _ = run_qa(items, encode)
    source = {it.qa.id: it.qa.id.split("~")[0] for it in items}
    same = {v: [kept[it.qa.id] == kept[source[it.qa.id]] for it in items if it.variant == v]
            for v in ("case_punct", "tense", "choices", "relanded", "swap_other_video", "swap_same_video")}
    assert all(len(v) >= 5 for v in same.values()), {k: len(v) for k, v in same.items()}
    for variant in ("case_punct", "tense", "choices", "relanded"):
        assert all(same[variant]), variant
    for variant in ("swap_other_video", "swap_same_video"):
        assert not any(same[variant]), variant
    # all pairs, the real questions and real look-alike pairs included
    scores = pair_scores({it.qa.id: it.origin for it in items}, kept)
    assert scores["precision"] >= 0.95 and scores["recall"] >= 0.9, scores


def test_boy_and_girl_are_not_one_question(encode):
    rows = [QA("v/0", "why did the boy in the red shirt fall down near the swing at the end of the video", "slipped"),
            QA("v/1", "why did the girl in the red shirt fall down near the swing at the end of the video", "slipped"),
            QA("v/2", "Why does the boy in the red shirt fall down near the swing at the end of the video?",
               "slipped"),
            QA("v/3", "what did the lady in black do after picking up the toy from the floor", "put it down"),
            QA("v/4", "what did the woman in black do after picking up the toy from the floor", "put it down"),
            QA("v/5", "what did the lady in black do before picking up the toy from the floor", "put it down")]
    vectors = encode([qa_text(r) for r in rows])
    for a, b in ((0, 1), (3, 5)):  # the embedding alone would pair them: the word check does not
        assert float(vectors[a] @ vectors[b]) >= TextDedupRules().qa_cosine, (rows[a], rows[b])
    found = qa_near_duplicates(rows, vectors, ["v"] * len(rows), encode=encode)
    kept = group([r.id for r in rows], found)
    assert kept == {"v/0": "v/0", "v/1": "v/1", "v/2": "v/0", "v/3": "v/3", "v/4": "v/3", "v/5": "v/5"}


def test_nextqa_templated_questions_are_repeats_not_duplicates(nextqa):
    rows = [(f"{r['video']}/{r['qid']}", r["video"], r["question"]) for r in nextqa]
    flags = templated_repeats(rows)
    top = flags.filter(flags["template"] == "where is this video taken")
    assert top["scopes"].max() >= 100
    assert top["repeat"].to_list() == (top["scope_rank"] >= 3).to_list()
    one_video = flags.filter(flags["scopes"] == 1)
    assert not one_video["repeat"].any() and one_video.height > 0.8 * flags.height
