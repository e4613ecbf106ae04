"""DocVQA's classic metrics: ANLS, exact match and BLEU (CIDEr-D is in `cider`).

Answers are compared after lower-casing and collapsing whitespace (RECIPES section 4). ANLS is the
DocVQA definition: NL = Levenshtein(a, o) / max(|a|, |o|), s = 1 - NL when NL < 0.5 else 0, the best
over the references, the mean over questions. BLEU is sacrebleu's corpus BLEU (exp smoothing) over
all references of each question, reported in 0-1, on the Penn Treebank tokens coco-caption gives
its caption metrics (`ptb_tokens`; sacrebleu's own tokenizer is switched off).
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

from assets.docmatix.ptb_tokens import ptb_tokenize

ANLS_THRESHOLD = 0.5


def normalise_answer(text: str) -> str:
    return " ".join(text.lower().split())


def nls(prediction: str, reference: str, threshold: float = ANLS_THRESHOLD) -> float:
    """Normalised Levenshtein similarity of one pair, zeroed at or beyond the threshold."""
    p, r = normalise_answer(prediction), normalise_answer(reference)
    longest = max(len(p), len(r))
    if longest == 0:
        return 1.0
    nl = Levenshtein.distance(p, r) / longest
    return 1.0 - nl if nl < threshold else 0.0


def anls_item(prediction: str, references: Sequence[str]) -> float:
    return max((nls(prediction, r) for r in references), default=0.0)


def exact_match_item(prediction: str, references: Sequence[str]) -> float:
    p = normalise_answer(prediction)
    return float(any(p == normalise_answer(r) for r in references))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def anls(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    return _mean([anls_item(p, r) for p, r in zip(predictions, references, strict=True)])


def exact_match(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    return _mean([exact_match_item(p, r) for p, r in zip(predictions, references, strict=True)])


def bleu(predictions: Sequence[str], references: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU in 0-1; questions with fewer references than the most have their streams padded
    with None, which sacrebleu skips."""
    import sacrebleu

    if not predictions:
        return 0.0
    width = max(len(r) for r in references)
    streams = [[_ptb(r[i]) if i < len(r) else None for r in references] for i in range(width)]
    hyps = [_ptb(p) for p in predictions]
    return sacrebleu.corpus_bleu(hyps, streams, tokenize="none").score / 100


def _ptb(text: str) -> str:
    return " ".join(ptb_tokenize(text))
