"""Exact and near-duplicate documents across every shard, and near-duplicate Q/A pairs on a page.

Documents (a fan-in, since a copy may land in any shard, but incremental like video_duplicates: only
new or changed shards are signed and queried against the stored signatures of the others): the same
rendered pages (every page image's sha256 equal: `duplicate_pages`, e.g. a PDF saved again with other
bytes), or page text whose shingles mostly agree (MinHash-LSH, verified on the exact shingle sets:
`near_duplicate_document`). A document's source key is its file's hash, so the same bytes under two
keys are one source, and landings of one source are one document here (the release keeps their first
landing, `duplicate_source`); of a group of different sources the first landed whose pages all
rendered is kept (the release withholds a document with a page missing), then the one with more pages.

Q/A pairs (per shard: pairs are compared within their page, where a generator repeats itself):
the same normalised question and answer (`duplicate_qa`) or the same question and answer in other
words (sentence-embedding cosine, then a word check that no content word changed: `near_duplicate_qa`),
the first pair in document order kept. Thresholds: hygiene/text_duplicates.py."""

import json

import dagster as dg
import polars as pl

from assets.docmatix.pdfa import page_text
from assets.hygiene.groups import exact_pairs, kept_copies
from assets.hygiene.incremental import split
from assets.hygiene.text_duplicates import (
    DEFAULTS,
    PAIR_SCHEMA,
    SIGNATURE_SCHEMA,
    DocumentSignatures,
    TextDedupRules,
    document_pairs,
    document_signatures,
    qa_near_duplicates,
)
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.fan_in_state import previous_state, save_state, shard_digest
from assets.kit.metadata import preview, screen_counts
from assets.kit.partitions import document_shards
from assets.kit.provenance import declare
from assets.kit.screening import Rule, RuleSet, kept, screen
from assets.kit.shard_coverage import landing_order
from assets.kit.shard_frames import concat_shards
from resources.embeddings import EmbeddingResource
from resources.storage import MediaStore

BANDS = {"item": pl.String, "band": pl.Int32, "key": pl.UInt64}
STATE_SIGNATURES = {**SIGNATURE_SCHEMA, "shard": pl.String, "digest": pl.String}
STATE_BANDS = {**BANDS, "shard": pl.String, "digest": pl.String}
SIGNED = ["record_id", "layout", "sha256"]


class DocumentDuplicateRules(RuleSet):
    match: TextDedupRules = DEFAULTS

    def rules(self) -> list[Rule]:
        return [Rule(reason="duplicate_pages", column="same_pages_as", op="is_null"),
                Rule(reason="near_duplicate_document", column="duplicate_of", op="is_null")]

    def describe(self) -> str:
        return f"{super().describe()}; {self.match.describe()}; a group keeps its first landed document"


class QADuplicateRules(RuleSet):
    match: TextDedupRules = TextDedupRules(across_scopes=False)  # pairs are compared within their page

    def rules(self) -> list[Rule]:
        return [Rule(reason="duplicate_qa", column="same_as", op="is_null"),
                Rule(reason="near_duplicate_qa", column="duplicate_of", op="is_null")]

    def describe(self) -> str:
        return f"{super().describe()}; {self.match.describe()}; within a page, the first pair is kept"


DOCUMENT_RULES, QA_RULES = DocumentDuplicateRules(), QADuplicateRules()


def document_text(layout: str | None) -> str:
    """The text the Q/A generator reads: every page's lines (PDFA layout), pages apart."""
    return "\n\n".join(page_text(p) for p in json.loads(layout)["pages"]) if layout else ""


def document_records(docs: pl.DataFrame, images: pl.DataFrame, landed: dict[str, int]) -> pl.DataFrame:
    """Kept documents with their landing rank and the sha256s of their page images in page order."""
    base = kept(docs) if docs.height else pl.DataFrame(schema={c: pl.String for c in
                                                                ["record_id", "shard", "source_key", "layout",
                                                                 "sha256", "doc_key"]} | {"pages": pl.Int32})
    if images.height:
        # a page that did not render has no hash: such a document's pages cannot be compared whole
        pages = (images.sort("document_id", "page").group_by("document_id")
                 .agg(pl.when(pl.col("image_sha256").null_count() == 0).then(pl.col("image_sha256").str.join("|"))
                      .alias("page_hashes"), pl.col("kept").all().alias("rendered")))
        base = base.join(pages, left_on="record_id", right_on="document_id", how="left")
    else:
        base = base.with_columns(pl.lit(None, pl.String).alias("page_hashes"), pl.lit(False).alias("rendered"))
    rank = pl.col("shard").replace_strict(landed, default=len(landed), return_dtype=pl.Int64)
    return base.with_columns(rank.alias("landed_at"), pl.coalesce("source_key", "record_id").alias("source"))


def document_verdicts(recs: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Each record with the kept copy's id under the rule that joined it (same pages, near text), its group's size and the measured Jaccard where paired directly. One source is one
    document: its first landing stands for it and the others share its verdict."""
    first = recs.sort("landed_at", "shard", "record_id").unique("source", keep="first", maintain_order=True)
    reps = first.select("source", "landed_at", "sha256", "page_hashes", item="record_id",
                        pages=pl.col("pages").cast(pl.Int64), unrendered=~pl.col("rendered").fill_null(False))
    ids = reps["item"]
    near = pairs.filter(pl.col("a").is_in(ids) & pl.col("b").is_in(ids))
    links = pl.concat([near.select("a", "b"), exact_pairs(reps, "page_hashes")])
    groups = kept_copies(reps, links, ["unrendered", "landed_at", "pages"], [False, False, True])
    both = pl.concat([near, near.rename({"a": "b", "b": "a"}).select(near.columns)])
    measured = both.select(item="a", duplicate_of="b", jaccard="jaccard")
    keep = reps.select(duplicate_of="item", kept_pages="page_hashes")
    out = groups.join(keep, on="duplicate_of", how="left").join(measured, on=["item", "duplicate_of"], how="left")
    copy = pl.col("duplicate_of").is_not_null()
    same_pages = copy & (pl.col("page_hashes") == pl.col("kept_pages")).fill_null(False)
    per_source = out.select(
        "source", pl.when(same_pages).then("duplicate_of").alias("same_pages_as"),
        pl.when(copy & ~same_pages).then("duplicate_of").alias("duplicate_of"), "group_size", "jaccard")
    return recs.join(per_source, on="source", how="left")


@kit_asset(
    group="docmatix",
    screen=True,
    rules=DOCUMENT_RULES,
    check_specs=(provenance_spec,),
    ins={"documents": dg.AssetIn(), "page_images": dg.AssetIn()},
    description=(
        "Exact and near-duplicate documents across all shards (the same bytes are one source already): the "
        "same rendered pages (page-image sha256s), or near-identical page text (MinHash-LSH over word or "
        "CJK-character shingles, verified on the exact shingle sets). Every kept document is a row; a copy is rejected naming the "
        "document kept in its place. Incremental: only new or changed shards are signed and queried against "
        "the stored signatures of the others (`state_*` metadata)."
    ),
)
def document_duplicates(context: dg.AssetExecutionContext, documents: dict[str, pl.DataFrame],
                        page_images: dict[str, pl.DataFrame], media: MediaStore):
    docs = concat_shards(documents, "documents")
    recs = document_records(docs, concat_shards(page_images, "page_images"),
                            landing_order(context.instance, document_shards))
    digests = {s: shard_digest(g, SIGNED) for (s,), g in recs.group_by("shard")} if recs.height else {}
    # MinHash values are datasketch's: another version may sign differently, so its state is not reused
    import datasketch  # lazily: the code location loads without it

    version = f"{context.assets_def.code_versions_by_key[context.asset_key]}:datasketch-{datasketch.__version__}"
    state = previous_state(context, media, version, ["signatures", "bands", "pairs"])
    parts = split(digests, state and {"items": state["signatures"], "pairs": state["pairs"]}, STATE_SIGNATURES,
                  PAIR_SCHEMA)
    reused_ids = parts.reused_items["item"]
    reused_bands = state["bands"].filter(pl.col("item").is_in(reused_ids)) if state else pl.DataFrame(
        schema=STATE_BANDS)
    fresh_rows = recs.filter(pl.col("shard").is_in(parts.fresh_shards))
    fresh = document_signatures([(r, document_text(layout)) for r, layout in
                                 fresh_rows.select("record_id", "layout").iter_rows()], DOCUMENT_RULES.match)
    owner = fresh_rows.select(item="record_id", shard="shard").with_columns(
        pl.col("shard").replace_strict(digests, return_dtype=pl.String).alias("digest"))
    index = DocumentSignatures(reused_bands.select(BANDS.keys()), parts.reused_items.select(SIGNATURE_SCHEMA.keys()))
    new_pairs = document_pairs(fresh, index, DOCUMENT_RULES.match)
    signatures = pl.concat([parts.reused_items.select(STATE_SIGNATURES.keys()),
                            fresh.signatures.join(owner, on="item").select(STATE_SIGNATURES.keys())])
    bands = pl.concat([reused_bands.select(STATE_BANDS.keys()),
                       fresh.bands.join(owner, on="item").select(STATE_BANDS.keys())])
    pairs = pl.concat([parts.reused_pairs, new_pairs]).unique(["a", "b"]).sort("a", "b")
    # the same document records, judged again: no parents, no model
    out = declare(screen(document_verdicts(recs, pairs), DOCUMENT_RULES.rules()))
    out = out.select("record_id", "shard", "doc_key", "source_key", "pages", "sha256", "group_size", "jaccard",
                     "same_pages_as", "duplicate_of", "kept", "reason", "reasons", "detail",
                     "parent_ids", "models")
    yield versioned(out, {
        **screen_counts(out),
        **save_state(media, version, {"signatures": signatures, "bands": bands, "pairs": pairs}),
        "signed_now": fresh_rows.height,
        "reused_signatures": parts.reused_items.height,
        "shards_signed_now": dg.MetadataValue.json(parts.fresh_shards),
        "pairs": pairs.height,
        "preview": preview(out.filter(~pl.col("kept")) if out.height else out,
                           ["record_id", "reason", "same_pages_as", "duplicate_of", "jaccard"]),
    }, rules=DOCUMENT_RULES)
    yield from screen_check_results(out, n_inputs=kept(docs).height if docs.height else 0)
    yield provenance_result(out)


def qa_verdicts(qa: pl.DataFrame, encode) -> pl.DataFrame:
    """Kept Q/A pairs with `same_as` / `duplicate_of` (the pair kept in their place on their page)
    and the measured cosine."""
    rows = qa.sort("document_id", "page", "pair_index")
    scope = [f"{d}#{p}" for d, p in rows.select("document_id", "page").iter_rows()]
    items = list(rows.select("record_id", "question", "answer").iter_rows())
    texts = [f"{q}\n{a}" for _, q, a in items]
    vectors = encode(texts) if texts else None
    pairs = qa_near_duplicates(items, vectors, scope, QA_RULES.match, encode=encode) if texts else pl.DataFrame(
        schema={"a": pl.String, "b": pl.String, "cosine": pl.Float64, "exact": pl.Boolean})
    order = rows.select(item="record_id").with_row_index("position")
    groups = kept_copies(order, pairs, ["position"]).select(record_id="item", duplicate="duplicate_of")
    both = pl.concat([pairs.select("a", "b", "cosine", "exact"),
                      pairs.select(a="b", b="a", cosine="cosine", exact="exact")])
    out = rows.join(groups, on="record_id", how="left").join(
        both.rename({"a": "record_id", "b": "duplicate"}), on=["record_id", "duplicate"], how="left")
    return out.with_columns(
        pl.when(pl.col("exact").fill_null(False)).then("duplicate").alias("same_as"),
        pl.when(~pl.col("exact").fill_null(False)).then("duplicate").alias("duplicate_of"),
    ).drop("duplicate", "exact")


@kit_asset(
    group="docmatix",
    screen=True,
    rules=QA_RULES,
    partitions_def=document_shards,
    check_specs=(provenance_spec,),
    ins={"filtered_qa": dg.AssetIn()},
    description=(
        "Near-duplicate Q/A pairs on a page: the same normalised question and answer, or the same question "
        "and answer in other words (sentence-embedding cosine, then no content word changed), the first pair "
        "of the page kept. Every pair the filter kept is a row; a copy names the pair kept in its place."
    ),
)
def qa_duplicates(context: dg.AssetExecutionContext, filtered_qa: pl.DataFrame, embeddings: EmbeddingResource):
    qa = kept(filtered_qa) if filtered_qa.height else filtered_qa
    if qa.height:
        judged = qa_verdicts(qa.select("record_id", "shard", "document_id", "page", "pair_index", "question",
                                       "answer"), embeddings.encode)
    else:
        judged = pl.DataFrame(schema={"record_id": pl.String, "shard": pl.String, "document_id": pl.String,
                                      "page": pl.Int64, "question": pl.String, "answer": pl.String,
                                      "cosine": pl.Float64, "same_as": pl.String, "duplicate_of": pl.String})
    # the same Q/A records, judged again: no parents, no model
    out = declare(screen(judged, QA_RULES.rules())).select(
        "record_id", "shard", "document_id", "page", "question", "answer", "cosine", "same_as", "duplicate_of",
        "kept", "reason", "reasons", "detail", "parent_ids", "models")
    yield versioned(out, {
        **screen_counts(out),
        "preview": preview(out.filter(~pl.col("kept")) if out.height else out,
                           ["record_id", "question", "reason", "same_as", "duplicate_of", "cosine"]),
    }, rules=QA_RULES)
    yield from screen_check_results(out, n_inputs=qa.height)
    yield provenance_result(out)
