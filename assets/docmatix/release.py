"""The Docmatix release: its schema, its train/test split and its dataset card.

A row is a document: `images` (its pages, in order) and `texts` (`{user, assistant, source}` per
kept Q/A pair, `source` the PDFA key), as Docmatix publishes. Provenance rides along in columns the
published schema does not have: `record_id` (`docmatix:<document id>`), `parent_ids` (the document,
its pairs, its page images), `models` (the call that wrote the pairs), and `qa_ids`/`qa_pages`/
`page_ids`/`image_sha256` beside the lists they describe.

A source lands once in the release: documents sharing a `source_key` (the same PDF landed in two
shards) release the first landing (in the order the shards landed, then by shard and record id) and withhold the others as
`duplicate_source`, so no pair is trained on twice or found in both splits.

The split is by document, so no page of a test document was seen in training: a document is `test`
when a salted hash of its PDFA key falls under TEST_FRACTION. The assignment depends on the key
alone, so it never changes as shards land. When the hash sends no document of a language (read
from its pairs: Korean or English) with two or more documents to test, that language's
lowest-hash document goes there, so a small release still has a test set in each language it
trains on (a handful of Korean documents would otherwise often all land in train).

The held-out DocVQA items drawn from the test documents are `held_out.py`'s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import polars as pl

from assets.docmatix.question_forms import language
from assets.kit.identity import record_id_expr
from assets.kit.provenance import MODELS, PARENTS, declare
from assets.kit.screening import kept

TEST_FRACTION = 0.25
SPLIT_SALT = "docmatix-docvqa-test"


def split_rank(key: str) -> float:
    """A document's place in [0, 1) for the split: uniform, stable, salted."""
    return int(hashlib.sha256(f"{SPLIT_SALT}:{key}".encode()).hexdigest()[:12], 16) / 16**12


def assign_splits(keys: Iterable[str], test_fraction: float = TEST_FRACTION,
                  languages: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each key's split; `languages` (key -> language) groups the keys, one group when not given."""
    keys = sorted(set(keys))
    splits = {k: "test" if split_rank(k) < test_fraction else "train" for k in keys}
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault((languages or {}).get(k, ""), []).append(k)
    for members in groups.values():
        if len(members) >= 2 and all(splits[k] == "train" for k in members):
            splits[min(members, key=split_rank)] = "test"
    return splits


def document_language(texts: list[dict]) -> str:
    """A document's language, read from its released pairs (questions and answers)."""
    return language([f"{t['user']} {t['assistant']}" for t in texts])


RELEASE_SCHEMA = {
    "record_id": pl.String,
    "document_id": pl.String,
    "doc_key": pl.String,
    "source_key": pl.String,
    "shard": pl.String,
    "split": pl.String,
    "images": pl.List(pl.String),
    "image_sha256": pl.List(pl.String),
    "page_ids": pl.List(pl.String),
    "texts": pl.List(pl.Struct({"user": pl.String, "assistant": pl.String, "source": pl.String})),
    "qa_ids": pl.List(pl.String),
    "qa_pages": pl.List(pl.Int32),
    "parent_ids": PARENTS,
    "models": MODELS,
}


def unique_pairs(qa: pl.DataFrame, qa_duplicates: pl.DataFrame, document_duplicates: pl.DataFrame) -> pl.DataFrame:
    """The kept pairs the hygiene screens kept too: not a copy of another pair on their page, and of a
    document that is not a copy of another document. A pair or document a screen has not judged yet
    is held back until it has."""
    if not qa.height:
        return qa
    pairs = kept(qa_duplicates).select("record_id") if qa_duplicates.height else pl.DataFrame(
        schema={"record_id": pl.String})
    docs = kept(document_duplicates).select(document_id="record_id") if document_duplicates.height else \
        pl.DataFrame(schema={"document_id": pl.String})
    return qa.join(pairs, on="record_id", how="semi").join(docs, on="document_id", how="semi")


def release_rows(qa: pl.DataFrame, images: pl.DataFrame, landed: Mapping[str, int] | None = None
                 ) -> tuple[pl.DataFrame, dict[str, int]]:
    """Release rows from kept Q/A pairs and rendered pages; and the documents withheld, by reason.

    `qa`: kept rows of `filtered_qa`; `images`: rows of `page_images` (kept = rendered). A document
    is released only when every one of its pages has an image, and only once per `source_key`: the
    first landing by `landed` (shard -> position in landing order; unknown shards last), then shard
    name and document id.
    """
    pages = (
        images.sort("document_id", "page")
        .group_by("document_id", maintain_order=True)
        .agg(
            pl.col("image_uri").alias("images"), pl.col("image_sha256"), pl.col("record_id").alias("page_ids"),
            pl.col("kept").all().alias("all_rendered"),
        )
    )
    grouped = (
        qa.sort("document_id", "pair_index")
        .group_by("document_id", maintain_order=True)
        .agg(
            pl.col("doc_key").first(),
            pl.col("source_key").first().fill_null(pl.col("document_id").first()),
            pl.col("shard").first(),
            pl.struct(
                pl.col("question").alias("user"), pl.col("answer").alias("assistant"),
                pl.col("doc_key").alias("source"),
            ).alias("texts"),
            pl.col("record_id").alias("qa_ids"),
            pl.col("page").cast(pl.Int32).alias("qa_pages"),
            pl.col("models").list.explode(keep_nulls=False, empty_as_null=False).unique(maintain_order=True),
        )
        .join(pages, on="document_id", how="left")
    )
    rendered = grouped.filter(pl.col("all_rendered").fill_null(False))
    landed = dict(landed or {})
    rank = pl.col("shard").replace_strict(landed, default=len(landed), return_dtype=pl.Int64).alias("__landed")
    released = rendered.sort("source_key", rank, "shard", "document_id").unique("source_key", keep="first",
                                                                          maintain_order=True)
    withheld = {"page_not_rendered": grouped.height - rendered.height,
                "duplicate_source": rendered.height - released.height}
    languages = {k: document_language(t) for k, t in zip(released["doc_key"], released["texts"], strict=True)}
    splits = assign_splits(released["doc_key"].to_list(), languages=languages)
    out = released.with_columns(
        record_id_expr("docmatix", "document_id").alias("record_id"),
        pl.col("doc_key").replace_strict(splits, default=None).alias("split"),
    )
    out = declare(out, parents=["document_id", "qa_ids", "page_ids"], models=["models"])
    return out.select(list(RELEASE_SCHEMA)).cast(RELEASE_SCHEMA).sort("split", "record_id"), withheld
