"""`docmatix_dataset` and `docmatix_dataset_card`: the release, over every document shard."""

import json

import dagster as dg
import polars as pl

from assets.docmatix.asset_options import ACROSS_SHARDS
from assets.docmatix.dataset_card import card_data, dataset_card
from assets.docmatix.qa_filters import removal_table
from assets.docmatix.release import release_rows
from assets.kit.checks import unique_ids, unique_ids_spec
from assets.kit.metadata import png_markdown, preview
from assets.kit.screening import kept
from assets.kit.shard_frames import concat_shards
from resources.storage import MediaStore

SAMPLES_SHOWN = 3


def sample_grid(release: pl.DataFrame, media: MediaStore) -> dg.MetadataValue:
    """The first page of a few train documents with their first Q/A pair."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

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


@dg.asset(
    **ACROSS_SHARDS,
    code_version="1",
    kinds={"polars", "parquet"},
    check_specs=[unique_ids_spec("docmatix_dataset")],
    description=(
        "The Docmatix-style release: one row per document with `images` (its rendered pages) and "
        "`texts` ([{user, assistant, source}], source = PDFA key) from the kept Q/A pairs, a "
        "document-level train/test split (a salted hash of the key), and provenance columns."
    ),
)
def docmatix_dataset(context: dg.AssetExecutionContext, filtered_qa, page_images, media: MediaStore):
    qa = kept(concat_shards(filtered_qa, "filtered_qa"))
    images = concat_shards(page_images, "page_images")
    df, withheld = release_rows(qa, images)
    counts = {s: int(n) for s, n in df.group_by("split").len().iter_rows()}
    yield dg.Output(
        df,
        metadata={
            "dagster/row_count": df.height,
            "train_documents": counts.get("train", 0),
            "test_documents": counts.get("test", 0),
            "qa_pairs": int(df["texts"].list.len().sum() or 0),
            "images": int(df["images"].list.len().sum() or 0),
            "withheld_documents": dg.MetadataValue.json(withheld),
            "samples": sample_grid(df, media) if counts.get("train") else "no train rows",
            "preview": preview(df.with_columns(pl.col("texts").list.len().alias("n_texts"),
                                               pl.col("images").list.len().alias("n_images")),
                               ["record_id", "split", "n_images", "n_texts", "backend", "model"]),
        },
    )
    yield unique_ids(df)


@dg.asset(
    **ACROSS_SHARDS,
    code_version="2",
    kinds={"markdown"},
    description=(
        "The release's dataset card (Hugging Face format Markdown + a JSON card): schema, split rule and sizes, generation "
        "models, render settings, per-rule filter removal, question forms and departures from "
        "Docmatix. Stored by content in the media store; the row holds its URI and text."
    ),
)
def docmatix_dataset_card(docmatix_dataset: pl.DataFrame, filtered_qa, media: MediaStore):
    qa = concat_shards(filtered_qa, "filtered_qa")
    forms = kept(qa).group_by("question_form").len().sort("len", descending=True)
    removal = removal_table(qa)
    card = dataset_card(docmatix_dataset, removal, forms)
    data = card_data(docmatix_dataset, removal, forms)
    ref = media.put_bytes(card.encode(), ".md")
    json_ref = media.put_bytes(json.dumps(data, ensure_ascii=False, indent=2, default=str).encode(), ".json")
    df = pl.DataFrame({"record_id": ["docmatix_dataset_card"], "card_uri": [ref.uri],
                       "card_sha256": [ref.sha256], "card_json_uri": [json_ref.uri], "markdown": [card]})
    return dg.Output(df, metadata={"dagster/row_count": 1, "card_uri": ref.uri, "card_json_uri": json_ref.uri,
                                   "card": dg.MetadataValue.md(card)})
