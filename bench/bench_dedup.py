"""Hygiene: near-duplicate detection measured for quality on labelled real material and for cost at scale.

1. Precision and recall per kind on the labelled near-duplicate sets (`bench.dedup_videos_set`: real
   clips from ../shared/realdata/videos re-encoded, resized, letterboxed, cropped, trimmed, with
   look-alike non-duplicates; `bench.dedup_text_set`: real PDFs re-landed with edits and real NExT-QA
   questions reworded, with templated look-alikes). Their module docstrings say how each set is made.
2. Cost per 1,000 items at 1x, 10x and 100x of a sample, and the incremental cost of one new shard
   against a from-scratch run over all shards. The sample is real: the labelled videos' signatures,
   the real PDFs' page texts, the real NExT-QA questions. Scaling up is synthetic: each copy of a
   sample item is made distinct from every other (videos: FLIPPED_BITS random bits flipped in every
   still hash, past the match threshold; documents: half the words replaced from the corpus's vocabulary; Q/A: a
   copy per scope with its embedding jittered), so the work is that of a corpus of mostly distinct
   items. Q/A embeddings at scale are jittered copies of real MiniLM vectors: the encoder's own cost
   per 1,000 texts is measured once on real text and printed beside (it is linear, and the same in an
   incremental run, which encodes only the new shard). Shards are 1x each; "incremental" signs the
   last shard and queries it against the stored index of the others (what the screens do when a shard
   lands); "from scratch" signs and compares everything. CPU seconds (process_time), one process.
"""

from __future__ import annotations

import random
import time

import numpy as np
import polars as pl

from assets.hygiene.text_duplicates import (
    DEFAULTS,
    DocumentSignatures,
    document_pairs,
    document_signatures,
    qa_near_duplicates,
)
from assets.hygiene.video_fingerprints import DEFAULT_RULES, ITEM_SCHEMA, band_frame, near_duplicates

SCALES = (1, 10, 100)
FLIPPED_BITS = 24  # per still hash of a synthetic video: far past the match threshold (12), so a distinct video
SEED = 0


def _cpu(fn):
    start = time.process_time()
    out = fn()
    return out, time.process_time() - start


# --- the sample -------------------------------------------------------------------------------------------

def video_sample() -> pl.DataFrame:
    from bench.dedup_videos_set import build, items

    return items(build()).select(ITEM_SCHEMA.keys())


def document_sample() -> list[str]:
    from bench.dedup_text_set import read_pdfs

    return ["\n".join(pages) for pages in read_pdfs().values()]


def qa_sample() -> list[tuple[str, str]]:
    from bench.dedup_text_set import nextqa_rows

    return [(r["question"], r["answer"]) for r in nextqa_rows()]


# --- synthetic scale-up -------------------------------------------------------------------------------------

def _flip(h: int | None, rng: np.random.Generator) -> int | None:
    if h is None:
        return None
    mask = 0
    for bit in rng.choice(64, FLIPPED_BITS, replace=False):
        mask |= 1 << int(bit)
    return h ^ mask


def videos_at(sample: pl.DataFrame, copies: int, shard: int, rng: np.random.Generator) -> pl.DataFrame:
    rows = []
    for c in range(copies):
        for item, duration, hashes, centres in sample.iter_rows():
            rows.append((f"v{shard}-{c}-{item}", duration, [_flip(h, rng) for h in hashes],
                         [_flip(h, rng) for h in centres]))
    return pl.DataFrame(rows, schema=ITEM_SCHEMA, orient="row")


def documents_at(sample: list[str], copies: int, shard: int, rng: random.Random, vocabulary: list[str]
                 ) -> list[tuple[str, str]]:
    out = []
    for c in range(copies):
        for i, text in enumerate(sample):
            words = [w if rng.random() < 0.5 else rng.choice(vocabulary) for w in text.split()]
            out.append((f"d{shard}-{c}-{i}", " ".join(words)))
    return out


def qa_at(sample: list[tuple[str, str]], vectors: np.ndarray, copies: int, shard: int, rng: np.random.Generator,
          per_scope: int = 5) -> tuple[list[tuple[str, str, str]], np.ndarray, list[str]]:
    rows, vecs, scope = [], [], []
    for c in range(copies):
        for i, (q, a) in enumerate(sample):
            rows.append((f"q{shard}-{c}-{i}", q, a))
            v = vectors[i] + rng.normal(0, 0.05, vectors.shape[1]).astype(np.float32)
            vecs.append(v / np.linalg.norm(v))
            scope.append(f"p{shard}-{c}-{i // per_scope}")
    return rows, np.asarray(vecs, np.float32), scope


# --- runs ---------------------------------------------------------------------------------------------------

def run_videos(shards: list[pl.DataFrame]) -> tuple[float, float]:
    everything = pl.concat(shards)
    _, scratch = _cpu(lambda: near_duplicates(everything, None, DEFAULT_RULES))
    index = pl.concat(shards[:-1]) if len(shards) > 1 else None
    stored = band_frame(index, with_hash=True) if index is not None else None  # the index's keys, as stored
    _, incremental = _cpu(lambda: near_duplicates(shards[-1], index, DEFAULT_RULES, index_bands=stored))
    return scratch, incremental


def run_documents(shards: list[list[tuple[str, str]]]) -> tuple[float, float]:
    def scratch():
        return document_pairs(document_signatures([d for s in shards for d in s]), None, DEFAULTS)

    stored = sum((document_signatures(s) for s in shards[:-1]), DocumentSignatures.empty())  # the index, as stored

    def incremental():
        return document_pairs(document_signatures(shards[-1]), stored, DEFAULTS)

    return _cpu(scratch)[1], _cpu(incremental)[1]


def run_qa(shards: list[tuple[list, np.ndarray, list[str]]]) -> tuple[float, float]:
    """Q/A pairs are compared within their page (per shard: qa_duplicates is partitioned), so a new shard
    costs its own pages; from scratch every shard is judged again."""
    def judge(shard):
        rows, vecs, scope = shard
        return qa_near_duplicates(rows, vecs, scope, DEFAULTS.model_copy(update={"across_scopes": False}))

    _, scratch = _cpu(lambda: [judge(s) for s in shards])
    _, incremental = _cpu(lambda: judge(shards[-1]))
    return scratch, incremental


def quality() -> list[tuple[str, str, str]]:
    from bench.dedup_text_set import evaluate as text_evaluate
    from bench.dedup_videos_set import evaluate as video_evaluate

    videos = video_evaluate(show=False)
    text = text_evaluate(verbose=False)
    return [("videos", f"{videos['precision']:.3f}", f"{videos['recall']:.3f}"),
            ("documents", f"{text['documents']['precision']:.3f}", f"{text['documents']['recall']:.3f}"),
            ("Q/A", f"{text['qa']['precision']:.3f}", f"{text['qa']['recall']:.3f}")]


def _table(header: tuple[str, ...], rows: list[tuple]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


def main() -> None:
    print("Near-duplicate detection on the labelled sets (real material; precision and recall over labelled pairs)")
    _table(("kind", "precision", "recall"), quality())

    rng, prng = np.random.default_rng(SEED), random.Random(SEED)
    videos, documents, questions = video_sample(), document_sample(), qa_sample()
    from resources.embeddings import EmbeddingResource

    encode = EmbeddingResource().encode
    texts = [f"{q}\n{a}" for q, a in questions[:1000]]
    vectors, encode_s = _cpu(lambda: encode(texts))
    vocabulary = sorted({w for d in documents for w in d.split()})
    print(f"\nSample (1x): {videos.height} videos, {len(documents)} documents, {len(texts)} Q/A pairs; "
          f"MiniLM encodes 1,000 Q/A texts in {encode_s:.1f} CPU s (linear; not in the Q/A figures below)")
    qvec = np.asarray(vectors, np.float32)
    sample_qa = questions[:len(qvec)]
    header = ("kind", "scale", "items", "from scratch s", "s per 1,000 items", "one new shard s",
              "new shard / from scratch")
    print("\nCost at scale (CPU s; shards of 1x each; incremental = the last shard against the stored index)")
    print(" | ".join(header), flush=True)
    rows = []
    for scale in SCALES:
        shards_v = [videos_at(videos, 1, s, rng) for s in range(scale)]
        shards_d = [documents_at(documents, 1, s, prng, vocabulary) for s in range(scale)]
        shards_q = [qa_at(sample_qa, qvec, 1, s, rng) for s in range(scale)]
        for kind, shards, run, count in (
                ("videos", shards_v, run_videos, lambda s: s.height),
                ("documents", shards_d, run_documents, len),
                ("Q/A", shards_q, run_qa, lambda s: len(s[0]))):
            n = sum(count(s) for s in shards)
            scratch, incremental = run(shards)
            rows.append((kind, f"{scale}x", f"{n:,}", f"{scratch:.2f}", f"{1000 * scratch / n:.3f}",
                         f"{incremental:.2f}", f"{incremental / scratch:.3f}" if scratch else "-"))
            print(" | ".join(rows[-1]), flush=True)
    print()
    _table(header, rows)


if __name__ == "__main__":
    main()
