"""CIDEr-D (Vedantam et al. 2015, the coco-caption variant), for short answers against references.

For n = 1..4, each sentence becomes a TF-IDF vector of its n-grams, with document frequencies counted
over the references of the whole evaluation set (an n-gram counts once per question that has it in
any reference) and IDF = log(questions) - log(max(1, df)). Per reference, the candidate's n-gram
weights are clipped at the reference's, the clipped dot product is divided by both norms and scaled
by the Gaussian length penalty exp(-(len_c - len_r)^2 / (2 * 6^2)). The four n-gram scores are
averaged, averaged over the references, and multiplied by 10; the set's score is the mean.

Text is tokenised as coco-caption tokenises it (`ptb_tokens`: Penn Treebank tokens, lower-cased,
punctuation tokens dropped, "$", "%", "'s" kept, "1,234.50" whole).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from assets.docmatix.ptb_tokens import ptb_tokenize

N = 4
SIGMA = 6.0


def tokenize(text: str) -> list[str]:
    return ptb_tokenize(text)


def ngram_counts(tokens: Sequence[str], n: int = N) -> Counter:
    return Counter(tuple(tokens[i : i + k]) for k in range(1, n + 1) for i in range(len(tokens) - k + 1))


def _weights(counts: Counter, idf: dict[tuple, float], default_idf: float) -> tuple[list[dict], list[float]]:
    """TF-IDF weights split by n-gram order, and the norm of each order's vector."""
    vecs: list[dict] = [{} for _ in range(N)]
    for gram, tf in counts.items():
        vecs[len(gram) - 1][gram] = tf * idf.get(gram, default_idf)
    norms = [math.sqrt(sum(w * w for w in v.values())) for v in vecs]
    return vecs, norms


def cider_d_scores(candidates: Sequence[str], references: Sequence[Sequence[str]]) -> list[float]:
    """One CIDEr-D score per candidate (each with its own references)."""
    if len(candidates) != len(references):
        raise ValueError("one list of references per candidate")
    cand_tokens = [tokenize(c) for c in candidates]
    ref_tokens = [[tokenize(r) for r in refs] for refs in references]
    df: Counter = Counter()
    for refs in ref_tokens:
        df.update({g for toks in refs for g in ngram_counts(toks)})
    log_n = math.log(len(candidates)) if candidates else 0.0
    idf = {g: log_n - math.log(max(1.0, c)) for g, c in df.items()}

    scores = []
    for cand, refs in zip(cand_tokens, ref_tokens, strict=True):
        c_vec, c_norm = _weights(ngram_counts(cand), idf, log_n)
        total = 0.0
        for ref in refs:
            r_vec, r_norm = _weights(ngram_counts(ref), idf, log_n)
            penalty = math.exp(-((len(cand) - len(ref)) ** 2) / (2 * SIGMA**2))
            per_n = []
            for k in range(N):
                dot = sum(min(w, r_vec[k].get(g, 0.0)) * r_vec[k].get(g, 0.0) for g, w in c_vec[k].items())
                if c_norm[k] and r_norm[k]:
                    dot /= c_norm[k] * r_norm[k]
                per_n.append(dot * penalty)
            total += sum(per_n) / N
        scores.append(10.0 * total / len(refs) if refs else 0.0)
    return scores


def cider_d(candidates: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    scores = cider_d_scores(candidates, references)
    return sum(scores) / len(scores) if scores else 0.0
