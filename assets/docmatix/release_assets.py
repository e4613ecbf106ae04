"""`docmatix_dataset`: the release, over every document shard, split by `release.py`'s rule."""

import dagster as dg
import polars as pl

from assets.docmatix.release import release_rows, unique_pairs
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.metadata import png_markdown, preview, pyplot
from assets.kit.partitions import document_shards
from assets.kit.screening import kept
from assets.kit.shard_coverage import coverage, coverage_metadata, landing_order
from assets.kit.shard_frames import concat_shards
from resources.storage import MediaStore

SAMPLES_SHOWN = 3


def sample_grid(release: pl.DataFrame, media: MediaStore) -> dg.MetadataValue:
    """The first page of a few train documents with their first Q/A pair."""
    from PIL import Image

    plt = pyplot()
    rows = release.filter(pl.col("split") == "train").head(SAMPLES_SHOWN).to_dicts()
    fig, axes = plt.subplots(1, max(1, len(rows)), figsize=(4 * max(1, len(rows)), 5.2))
    for ax, row in zip(axes if len(rows) > 1 else [axes], rows, strict=False):
        with Image.open(media.local_path(row["images"][0])) as im:
            im.thumbnail((400, 400))
            ax.imshow(im)
        turn = row["texts"][0]
        ax.set_title(f"Q: {turn['user'][:48]}\nA: {turn['assistant'][:48]}", fontsize=7, loc="left")
        ax.axis("off")
    return png_markdown(fig, "release samples")


@kit_asset(
    group="docmatix",
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        "The Docmatix-style release: one row per document (`docmatix:<document id>`) with `images` "
        "(its rendered pages) and `texts` ([{user, assistant, source}], source = PDFA key) from the "
        "kept Q/A pairs that `qa_duplicates` kept, of documents `document_duplicates` kept, a document-level "
        "train/test split (a salted hash of the key), each source "
        "(`source_key`) released once, its first landing; shards left out (no output, unreadable, "
        "withdrawn) are named in `excluded_shards`; parents: the document, its pairs and its page images."
    ),
)
def docmatix_dataset(context: dg.AssetExecutionContext, filtered_qa: dict[str, pl.DataFrame],
                     qa_duplicates: dict[str, pl.DataFrame], document_duplicates: pl.DataFrame,
                     page_images: dict[str, pl.DataFrame], media: MediaStore):
    passed = kept(concat_shards(filtered_qa, "filtered_qa"))
    qa = unique_pairs(passed, concat_shards(qa_duplicates, "qa_duplicates"), document_duplicates)
    judged = document_duplicates["record_id"] if document_duplicates.height else pl.Series([], dtype=pl.String)
    awaiting = passed.filter(~pl.col("document_id").is_in(judged.implode()))["document_id"].n_unique() \
        if passed.height else 0
    images = concat_shards(page_images, "page_images")
    shards = coverage(context, {"filtered_qa": filtered_qa, "page_images": page_images},
                      dg.AssetKey("documents"), document_shards)
    df, withheld = release_rows(qa, images, landing_order(context.instance, document_shards))
    counts = {s: int(n) for s, n in df.group_by("split").len().iter_rows()}
    yield versioned(
        df,
        {
            "dagster/row_count": df.height,
            **coverage_metadata(shards),
            "train_documents": counts.get("train", 0),
            "test_documents": counts.get("test", 0),
            "qa_pairs": int(df["texts"].list.len().sum() or 0),
            "images": int(df["images"].list.len().sum() or 0),
            "withheld_documents": dg.MetadataValue.json(withheld),
            # documents of a shard the duplicate screen has not judged yet: released once it has
            "awaiting_duplicate_screen": awaiting,
            "samples": sample_grid(df, media) if counts.get("train") else "no train rows",
            "preview": preview(df.with_columns(pl.col("texts").list.len().alias("n_texts"),
                                               pl.col("images").list.len().alias("n_images")),
                               ["record_id", "split", "n_images", "n_texts", "source_key"]),
        },
    )
    yield unique_ids(df)
    yield provenance_result(df)
