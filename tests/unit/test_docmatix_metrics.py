"""DocVQA metrics with hand-computed values, CIDEr-D against the reference algorithm, LAVE, adapters."""

from __future__ import annotations

import math
import random
from collections import Counter

import numpy as np
import polars as pl
import pytest

from assets.docmatix.answerers import extractive_answer
from assets.docmatix.cider import cider_d, cider_d_scores
from assets.docmatix.evaluation import evaluation_table
from assets.docmatix.metrics import anls, anls_item, bleu, exact_match, nls

# ---- ANLS and exact match --------------------------------------------------------------------------


def test_anls_by_hand():
    assert nls("abc", "abd") == pytest.approx(1 - 1 / 3)  # one substitution in three
    assert nls("hello", "hallo") == pytest.approx(0.8)
    assert nls("abcd", "abce") == pytest.approx(0.75)
    assert nls("abcd", "abef") == 0.0  # NL = 0.5 is not < 0.5
    assert nls("ab", "cd") == 0.0
    assert nls("", "") == 1.0
    assert nls("  The   Total ", "the total") == 1.0  # lower case, whitespace collapsed
    assert anls_item("abc", ["xyz", "abd", "abc"]) == 1.0  # best reference
    assert anls(["abc", "ab"], [["abd"], ["cd"]]) == pytest.approx((2 / 3 + 0) / 2)


def test_exact_match_by_hand():
    assert exact_match(["Yes", " 3,033.24 "], [["yes"], ["3,033.24"]]) == 1.0
    assert exact_match(["Yes", "3,033.2"], [["yes"], ["3,033.24"]]) == 0.5


def test_bleu_sanity():
    refs = [["the total due is three thousand pounds"], ["the invoice was paid in may"]]
    assert bleu(["the total due is three thousand pounds", "the invoice was paid in may"], refs) == pytest.approx(1.0)
    assert bleu(["nothing alike here at all", "completely different words entirely now"], refs) == 0.0
    partial = bleu(["the total due is three thousand euros", "the invoice was paid in june"], refs)
    assert 0.3 < partial < 1.0
    # a hypothesis may match any of its references (streams padded where references are fewer)
    assert bleu(["the invoice was paid in may 2024"], [["paid", "the invoice was paid in may 2024"]]) == pytest.approx(1.0)


# ---- CIDEr-D ---------------------------------------------------------------------------------------


def test_cider_d_by_hand():
    # two questions: log N = ln 2 and every n-gram has df = 1, so every weight is ln 2.
    # "a b" vs "a b": unigram and bigram cosines 1, tri/4-grams 0: 10 * (1 + 1 + 0 + 0) / 4 = 5
    assert cider_d_scores(["a b", "c"], [["a b"], ["d"]]) == pytest.approx([5.0, 0.0])
    # "a b" vs "a b c": unigram cos = 2/(sqrt2*sqrt3), bigram cos = 1/sqrt2, length penalty exp(-1/72)
    expected = 10 * math.exp(-1 / 72) * (math.sqrt(2 / 3) + 1 / math.sqrt(2)) / 4
    assert cider_d_scores(["a b", "x"], [["a b c"], ["y"]])[0] == pytest.approx(expected)
    assert cider_d(["a b", "c"], [["a b"], ["d"]]) == pytest.approx(2.5)


# Scores of pycocoevalcap 1.2 (coco-caption's CIDEr-D: `Cider().compute_score(gts, res)`, n=4,
# sigma=6), run once on these inputs when this test was written; the package needs Java-backed
# extras at install time, so the values are recorded here rather than computed in CI.
GOLDEN_CANDIDATES = ["the total is 3033.24", "north region", "30 days", "january 2024",
                     "the heading is working hours", "yes"]
GOLDEN_REFERENCES = [["3033.24", "the total due is 3033.24"], ["south"], ["30 days", "thirty days"],
                     ["9 january 2024"], ["working hours"], ["yes", "yes", "no"]]
GOLDEN_SCORES = [2.365907320993137, 0.0, 3.125, 3.7564711970301365, 2.4984712483362728, 1.6666666666666665]


def test_cider_d_matches_pycocoevalcap():
    assert cider_d_scores(GOLDEN_CANDIDATES, GOLDEN_REFERENCES) == pytest.approx(GOLDEN_SCORES, abs=1e-12)
    assert cider_d(GOLDEN_CANDIDATES, GOLDEN_REFERENCES) == pytest.approx(2.2354194055043686, abs=1e-12)


def reference_cider_d(cands: list[str], refs: list[list[str]], n_max: int = 4, sigma: float = 6.0) -> np.ndarray:
    """CIDEr-D written from the paper's formulas, one n-gram order at a time over a dense vocabulary
    (independent of the implementation under test, which works on sparse dicts)."""
    toks_c = [c.split() for c in cands]
    toks_r = [[r.split() for r in rs] for rs in refs]

    def grams(t, n):
        return Counter(tuple(t[i : i + n]) for i in range(len(t) - n + 1))

    total = np.zeros(len(cands))
    for n in range(1, n_max + 1):
        vocab = sorted({g for t in toks_c for g in grams(t, n)} | {g for rs in toks_r for t in rs for g in grams(t, n)})
        index = {g: i for i, g in enumerate(vocab)}
        df = np.zeros(len(vocab))
        for rs in toks_r:
            for g in {g for t in rs for g in grams(t, n)}:
                df[index[g]] += 1
        idf = np.log(len(cands)) - np.log(np.maximum(df, 1.0))

        def vec(t, n=n, index=index, idf=idf, size=len(vocab)):
            v = np.zeros(size)
            for g, c in grams(t, n).items():
                v[index[g]] = c
            return v * idf

        for i, (c, rs) in enumerate(zip(toks_c, toks_r, strict=True)):
            g_c = vec(c)
            sims = []
            for r in rs:
                g_r = vec(r)
                den = np.linalg.norm(g_c) * np.linalg.norm(g_r)
                sim = float(np.minimum(g_c, g_r) @ g_r / den) if den > 0 else 0.0
                sims.append(sim * math.exp(-((len(c) - len(r)) ** 2) / (2 * sigma**2)))
            total[i] += np.mean(sims) / n_max
    return 10 * total


def test_cider_d_agrees_with_an_independent_implementation():
    rng = random.Random(7)
    vocab = ["the", "total", "due", "is", "invoice", "date", "north", "south", "q1", "q2", "2024", "yes",
             "no", "report", "sales", "units"]
    cands = [" ".join(rng.choices(vocab, k=rng.randint(1, 7))) for _ in range(40)]
    refs = [[" ".join(rng.choices(vocab, k=rng.randint(1, 7))) for _ in range(rng.randint(1, 3))] for _ in range(40)]
    for i in range(0, 40, 5):  # some exact and near matches, so scores are not all small
        refs[i][0] = cands[i]
    assert cider_d_scores(cands, refs) == pytest.approx(list(reference_cider_d(cands, refs)), abs=1e-9)


# ---- the extractive baseline and the table ---------------------------------------------------------

PAGE = "ACME INVOICE\nInvoice number: INV-1\nDue date: 9 May 2024\nSigned by Ada Lovelace"


def test_extractive_baseline():
    assert extractive_answer("What is the invoice number?", PAGE) == "INV-1"
    assert extractive_answer("Could you tell me the due date?", PAGE) == "9 May 2024"
    assert extractive_answer("Is the invoice number INV-1?", PAGE) == "Yes"
    assert extractive_answer("Is the invoice number INV-9?", PAGE) == "No"
    assert extractive_answer("Who signed the letter?", PAGE) == "by Ada Lovelace"  # weak on purpose
    assert extractive_answer("Anything?", "") == ""


KOREAN_PAGE = "거래명세서\n발행일: 2024년 6월 1일\n결제 기한: 2024년 7월 1일\n합계 금액: 3,674,000원"


def test_extractive_baseline_reads_korean_questions():
    assert extractive_answer("문서에 적힌 발행일은 무엇입니까?", KOREAN_PAGE) == "2024년 6월 1일"
    assert extractive_answer("문서에 적힌 합계 금액은 3,674,000원입니까?", KOREAN_PAGE) == "예"
    assert extractive_answer("문서에 적힌 발행일은 2024년 7월 1일입니까?", KOREAN_PAGE) == "아니요"


def _entry(role: str, backend: str, model: str) -> dict:
    return {"role": role, "backend": backend, "model": model, "task_version": "t@1", "prompt_sha": "",
            "fingerprint": "f"}


def test_evaluation_table_names_the_lave_column_by_its_judge():
    from assets.docmatix.evaluation import judge_of

    base, vlm = _entry("answer", "offline", "extractive_baseline"), _entry("answer", "openai", "vlm")
    proxy, judge = _entry("judge", "offline", "offline:rubric-proxy"), _entry("judge", "openai", "judge-7b")
    proxy2 = {**proxy, "prompt_sha": "another prompt"}
    preds = pl.DataFrame({
        "record_id": ["q1@a", "q2@a", "q1@b", "q2@b"], "adapter": ["a", "a", "b", "b"],
        "prediction": ["INV-1", "No", None, "Yes"], "answers": [["INV-1"], ["Yes"]] * 2,
        "error": [None, None, "APITimeoutError: x", None], "models": [[base]] * 2 + [[vlm]] * 2,
    })
    judged = pl.DataFrame({
        "record_id": ["j1a", "j2a", "j1b", "j2b"], "prediction_id": ["q1@a", "q2@a", "q1@b", "q2@b"],
        "metric": ["lave_proxy"] * 2 + ["lave"] * 2, "score": [1.0, 0.0, None, 1.0],
        "models": [[proxy], [proxy2]] + [[judge]] * 2,
    })
    out = evaluation_table(preds, judged)
    table = {r["adapter"]: r for r in out.iter_rows(named=True)}
    a, b = table["a"], table["b"]
    assert (a["anls"], a["exact_match"], a["lave_proxy"], a["lave"]) == (0.5, 0.5, 0.5, None)
    # one entry per model for the whole adapter: the per-call prompt hashes stay on the calls' rows
    assert judge_of(a) == "offline:rubric-proxy" and a["models"] == [{**base, "prompt_sha": ""},
                                                                      {**proxy, "prompt_sha": ""}]
    assert (b["exact_match"], b["lave"], b["lave_proxy"], judge_of(b)) == (0.5, 1.0, None, "openai:judge-7b")
    assert (b["prediction_failures"], b["judge_failures"], a["judge_failures"]) == (1, 1, 0)
    assert (a["record_id"], a["parent_ids"]) == ("docvqa_score:a", ["q1@a", "q2@a"])
    assert not {"backend", "model", "judge"} & set(out.columns)
