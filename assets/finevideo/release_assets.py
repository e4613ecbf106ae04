"""The released dataset and its card (RECIPES section 1, the end of the funnel)."""

import json
import tempfile
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from assets.finevideo.annotation_assets import schema_check, schema_spec
from assets.finevideo.caption_review import REJECTIONS as CAPTION_REJECTIONS
from assets.finevideo.dataset_card import FUNNEL_COLUMNS, card, funnel, markdown, models_by_role
from assets.finevideo.release import release_rows, sample_json, write_tar
from assets.finevideo.video_duplicates import RULES as DUPLICATE_RULES
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.hygiene_card import hygiene_markdown, hygiene_rows
from assets.kit.metadata import bar_chart, funnel_chart, preview, uri_value
from assets.kit.partitions import video_shards
from assets.kit.shard_coverage import coverage, coverage_metadata
from assets.kit.shard_frames import by_shard, shard_columns
from resources.landing import safe_id
from resources.storage import MediaStore


class ReleaseConfig(dg.Config):
    webdataset: bool = Field(default=True, description="Also write webdataset tar shards to the media store.")
    shard_size: int = Field(default=100, gt=0, description="Videos per tar shard.")


@kit_asset(
    group="finevideo",
    ins={"aligned_annotations": dg.AssetIn(), "caption_review": dg.AssetIn(), "video_annotations": dg.AssetIn(),
         "curated_selection": dg.AssetIn()},
    check_specs=(
        unique_ids_spec,
        schema_spec,
        named_check("complete", "every aligned annotation was reviewed, and every one the caption review kept "
                              "is released with its video's URI and sha256"),
        provenance_spec,
    ),
    description=(
        "The FineVideo release: one row per aligned annotation with the video's URI and sha256, its "
        "YouTube metadata and licence, content_parent_category, content_fine_category, "
        "content_metadata (FineVideo's schema as JSON, its prose as the caption review left it; "
        "`caption_original` holds rewritten prose as written) and, in `models`, the model of every model "
        "step (label, description, annotation, caption review); optionally the same samples as webdataset tar shards "
        "(<key>.mp4 + <key>.json) in the media store."
    ),
)
def finevideo_dataset(context: dg.AssetExecutionContext, config: ReleaseConfig, aligned_annotations: pl.DataFrame,
                      caption_review: pl.DataFrame, video_annotations: pl.DataFrame, curated_selection: pl.DataFrame,
                      media: MediaStore):
    df = release_rows(aligned_annotations, video_annotations, curated_selection, caption_review)
    shard_uris: list[str | None] = [None] * df.height
    keys = [safe_id(v) for v in df["video_id"].to_list()] if df.height else []
    if config.webdataset and df.height:
        rows = df.to_dicts()
        with tempfile.TemporaryDirectory(prefix="finevideo-wds-") as tmp:
            for start in range(0, len(rows), config.shard_size):
                chunk = range(start, min(start + config.shard_size, len(rows)))
                path = Path(tmp) / f"shard-{start // config.shard_size:05d}.tar"
                write_tar([(keys[i], media.local_path(rows[i]["video_uri"]), sample_json(rows[i])) for i in chunk], path)
                ref = media.put_file(path, suffix=".tar")
                for i in chunk:
                    shard_uris[i] = ref.uri
    df = df.with_columns(pl.Series("wds_key", keys, dtype=pl.String),
                         pl.Series("wds_shard_uri", shard_uris, dtype=pl.String))
    df = df.select(pl.exclude("parent_ids", "models"), "parent_ids", "models")  # the contract last
    expected = int(caption_review["kept"].sum()) if caption_review.height else 0
    reviewed = caption_review["record_id"] if caption_review.height else pl.Series([], dtype=pl.String)
    unreviewed = aligned_annotations.filter(pl.col("kept") & ~pl.col("record_id").is_in(reviewed.implode())).height \
        if aligned_annotations.height else 0
    missing = df.filter(pl.col("video_uri").is_null() | pl.col("video_sha256").is_null()).height
    hours = round(float(df["duration_seconds"].sum() or 0.0) / 3600, 4) if df.height else 0.0
    context.log.info(f"released {df.height} videos ({hours} h)")
    yield versioned(df, {
        "dagster/row_count": df.height,
        "hours": hours,
        "webdataset_shards": dg.MetadataValue.json(sorted({u for u in shard_uris if u})),
        **models_by_role(df),
        "preview": preview(df, ["record_id", "youtube_title", "content_parent_category", "content_fine_category",
                                "duration_seconds", "license"]),
    })
    yield unique_ids(df)
    yield provenance_result(df)
    yield schema_check(df.rename({"duration_seconds": "duration_s"}).with_columns(pl.lit(True).alias("kept")))
    yield dg.AssetCheckResult(check_name="complete", passed=df.height == expected and not missing and not unreviewed,
                              metadata={"review_kept": expected, "released": df.height,
                                        "without_uri_or_sha": missing, "aligned_not_reviewed": unreviewed})


SHARD_STAGES = ("raw_video_metadata", "language_screen", "video_files", "word_density_screen", "dynamism_screen",
                "taxonomy_labels")
STAGES = (*SHARD_STAGES, "video_duplicates", "curated_selection", "video_annotations", "aligned_annotations",
          "caption_review", "finevideo_dataset")


@kit_asset(
    group="finevideo",
    kinds=("polars", "parquet", "markdown"),
    # the per-shard stages as lazy scans: the funnel reads a few columns of each, not every transcript
    ins={name: dg.AssetIn(dagster_type=dict[str, pl.LazyFrame] if name in SHARD_STAGES else None) for name in STAGES},
    description=(
        "The dataset card (Markdown + JSON in the media store, and shown here): the funnel across every "
        "FineVideo stage computed from the stages' own verdicts, hours, categories and licences, and "
        "what each hygiene rule removed (duplicate videos, unusable captions), "
        "every landed shard with whether it is in the release (a shard without output, unreadable or "
        "withdrawn is named with its reason). "
        "The table is the funnel."
    ),
)
def finevideo_dataset_card(context: dg.AssetExecutionContext, media: MediaStore, **stages):
    frames = {name: shard_columns(v, FUNNEL_COLUMNS, name) if name in SHARD_STAGES else v
              for name, v in stages.items()}
    funnel_df = funnel([(name, frames[name]) for name in STAGES])
    shards = coverage(context, {name: by_shard(context, name, stages[name]) for name in SHARD_STAGES},
                      dg.AssetKey("raw_video_metadata"), video_shards)
    dataset = frames["finevideo_dataset"]
    extra = {
        "taxonomy_version": ", ".join(sorted(set(dataset["taxonomy_version"].drop_nulls().to_list())))
        if "taxonomy_version" in dataset.columns else "",
        **models_by_role(dataset),
        "source_shards": frames["raw_video_metadata"]["shard"].n_unique() if frames["raw_video_metadata"].height else 0,
        "shards": shards.to_dicts(),
    }
    data = card(dataset, funnel_df, extra)
    data["hygiene"] = hygiene_rows({
        "video_duplicates": (frames["video_duplicates"], [r.reason for r in DUPLICATE_RULES.rules()]),
        "caption_review": (frames["caption_review"], list(CAPTION_REJECTIONS))})
    text = markdown(data) + hygiene_markdown(data["hygiene"])
    md_ref = media.put_bytes(text.encode("utf-8"), ".md")
    json_ref = media.put_bytes(json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8"), ".json")
    categories = {r["name"]: r["hours"] for r in data["parent_categories"]}
    return versioned(funnel_df, {
        "dagster/row_count": funnel_df.height,
        "videos": data["videos"],
        "hours": data["hours"],
        **coverage_metadata(shards),
        "card_uri": uri_value(md_ref.uri),
        "card_json_uri": uri_value(json_ref.uri),
        "funnel": funnel_chart(list(zip(funnel_df["stage"].to_list(), funnel_df["kept"].to_list(), strict=True)),
                               "FineVideo funnel (kept per stage)"),
        "category_hours": bar_chart(categories, "released hours by top-level category", "hours")
        if categories else "none",
        "card": dg.MetadataValue.md(text),
    })
