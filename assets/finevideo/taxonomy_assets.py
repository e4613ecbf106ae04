"""Taxonomy, per-shard labels and the feedback on the taxonomy (RECIPES section 1, "Taxonomy")."""

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from assets.finevideo.labelling import LabelRules, TaxonomyLabelTask, confidence, video_text
from assets.finevideo.taxonomy import APPROVED_VERSION, DEFAULT_DISCARD_ONLY, load_tree, taxonomy_frame
from assets.finevideo.taxonomy_review import candidate_leaves, confused_pairs, leaf_findings, low_confidence
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, screen_check_results
from assets.kit.identity import record_id_expr
from assets.kit.metadata import bar_chart, markdown_table, preview, screen_counts
from assets.kit.partitions import video_shards
from assets.kit.provenance import declare, model_entry, models_series
from assets.kit.screening import kept, screen
from assets.kit.shard_frames import concat_shards, shard_columns
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource

PREVIEW_COLUMNS = ["record_id", "video_id", "shard", "category_path", "content_parent_category",
                   "content_fine_category", "confidence", "margin", "runner_up_path"]
# the approved file is JSON, outside the source closure: its content hash enters the code versions
TAXONOMY_FILE_VERSION = f"taxonomy={APPROVED_VERSION}"


class TaxonomyConfig(dg.Config):
    discard_only: list[str] = Field(
        default=list(DEFAULT_DISCARD_ONLY),
        description="Paths whose videos are discarded: leaves of the file, or extra leaves to add.",
    )


@kit_asset(
    group="finevideo",
    version_extra=(TAXONOMY_FILE_VERSION,),
    check_specs=(
        named_check("unique_leaf_paths", "leaves are keyed by their full path, each once"),
        provenance_spec,
    ),
    description=(
        "The FineVideo content taxonomy (finevideo_taxonomy.json, the approved source): one row per "
        "leaf, keyed by its full path because leaf names repeat; discard-only categories flagged. "
        "Versioned by a hash of its content: an edit changes the labels' code version."
    ),
)
def taxonomy(config: TaxonomyConfig):
    tree = load_tree()
    df = taxonomy_frame(tree, config.discard_only)
    version = df["taxonomy_version"][0]
    yield versioned(
        df,
        {
            "dagster/row_count": df.height,
            "taxonomy_version": version,
            "leaves": df.height,
            "top_level": df["top"].n_unique(),
            "unique_leaf_names": df["leaf"].n_unique(),
            "discard_only": dg.MetadataValue.json(df.filter("discard_only")["leaf_path"].to_list()),
            "preview": preview(df, ["leaf_path", "depth", "discard_only"]),
        },
    )
    dupes = df.height - df["leaf_path"].n_unique()
    yield dg.AssetCheckResult(check_name="unique_leaf_paths", passed=dupes == 0, metadata={"duplicates": dupes})
    yield provenance_result(df)


LABEL_SCHEMA = {"category_path": pl.String, "confidence": pl.Float64, "margin": pl.Float64,
                "runner_up_path": pl.String, "label_error": pl.String}


@kit_asset(
    group="finevideo",
    partitions_def=video_shards,
    rules=LabelRules(),
    tasks=(TaxonomyLabelTask,),
    version_extra=(TAXONOMY_FILE_VERSION,),
    screen=True,
    check_specs=(provenance_spec,),
    ins={"dynamism_screen": dg.AssetIn(), "raw_video_metadata": dg.AssetIn(), "taxonomy": dg.AssetIn()},
    description=(
        "One taxonomy leaf per dynamic video of the shard (Task `taxonomy_label`: FineVideo's prompt "
        "with title, channel and transcript, no tags; only a leaf path is accepted). Offline: the leaf "
        "most similar to title + transcript, by the configured embedding model. Confidence and margin "
        "(lead over the runner-up leaf) are measured with embeddings on every backend. Failed labels "
        "and discard-only categories are rejected with a reason; `models` names the labeller."
    ),
)
def taxonomy_labels(context: dg.AssetExecutionContext, dynamism_screen: pl.DataFrame,
                    raw_video_metadata: pl.DataFrame, taxonomy: pl.DataFrame, llm: LLMResource,
                    embeddings: EmbeddingResource):
    inputs = kept(dynamism_screen).select("record_id", "video_id", "shard").join(
        raw_video_metadata.select("record_id", "title", "channel", "text"), on="record_id", how="left")
    leaves = taxonomy["leaf_path"].to_list()
    task = TaxonomyLabelTask(leaves, embeddings.encode, encoder=embeddings.model_name)
    items = [{"title": t, "channel": c, "text": x} for t, c, x in inputs.select("title", "channel", "text").rows()]
    run = llm.run(task, items, log=context.log)
    labels = [r.value.category if r.ok else None for r in run.results]
    measured = confidence(task.similarities(items), leaves, labels)
    info = taxonomy.select("leaf_path", "top", "leaf", "discard_only")
    df = pl.concat([
        inputs.select("record_id", "video_id", "shard"),
        pl.DataFrame({
            "category_path": labels,
            "confidence": [m[0] for m in measured],
            "margin": [m[1] for m in measured],
            "runner_up_path": [m[2] for m in measured],
            "label_error": run.errors_list(),
        }, schema=LABEL_SCHEMA),
    ], how="horizontal").join(info, left_on="category_path", right_on="leaf_path", how="left").rename(
        {"top": "content_parent_category", "leaf": "content_fine_category"}
    ).with_columns(
        pl.col("discard_only").fill_null(False),  # no label, no category: the label rule decides
        pl.lit(taxonomy["taxonomy_version"][0] if taxonomy.height else None, dtype=pl.String).alias("taxonomy_version"),
    )
    rules = LabelRules()
    # the same video record, judged again: no parents; the labeller in `models`
    out = declare(screen(df, rules.rules()), models=[models_series(run.model_entries("label"))])
    counts = {str(k): int(v) for k, v in kept(out).group_by("category_path").len().sort("len").iter_rows()}
    yield versioned(
        out,
        {
            **screen_counts(out),
            **run.metadata(),
            "labeller": task.model_label(llm.backend, llm.model),
            "taxonomy_version": out["taxonomy_version"][0] if out.height else "",
            "median_margin": float(out["margin"].median() or 0.0) if out.height else 0.0,
            "labels": bar_chart(counts, "videos per category") if counts else "none",
            "preview": preview(out, [*PREVIEW_COLUMNS, "kept", "reason"]),
        },
        rules=rules,
    )
    yield from screen_check_results(out, n_inputs=inputs.height)
    yield provenance_result(out)


class FeedbackConfig(dg.Config):
    low_margin: float = Field(default=0.03, description="A label whose lead over the runner-up leaf "
                                                        "is below this is low-confidence.")


def finding_ids(findings: pl.DataFrame) -> pl.Expr:
    """`finding:<kind>:<leaf>:<related>:<n>`, n counting findings that share the rest."""
    key = ["kind", pl.col("leaf_path").fill_null(""), pl.col("related_path").fill_null("")]
    nth = pl.int_range(pl.len()).over(key)
    return record_id_expr("finding", *key, nth).alias("record_id")


@kit_asset(
    group="finevideo",
    kinds=("polars", "parquet", "scikitlearn"),
    check_specs=(provenance_spec,),
    ins={"taxonomy_labels": dg.AssetIn(), "raw_video_metadata": dg.AssetIn(), "taxonomy": dg.AssetIn()},
    description=(
        "Evidence for revising the taxonomy, from all shards' labels: low-confidence leaves, leaf "
        "pairs that low-margin videos hesitate between, and candidate new leaves (clusters of "
        "low-margin videos named by their distinctive words). The taxonomy file stays the approved "
        "source: a person edits it, and the edit re-labels through the labels' code version. Each "
        "finding's parents are the videos it is drawn from."
    ),
)
def taxonomy_feedback(config: FeedbackConfig, taxonomy_labels: dict[str, pl.DataFrame],
                      raw_video_metadata: dict[str, pl.LazyFrame], taxonomy: pl.DataFrame,
                      embeddings: EmbeddingResource):
    labels = concat_shards(taxonomy_labels)
    labelled = labels.filter(pl.col("category_path").is_not_null()).join(
        shard_columns(raw_video_metadata, ["record_id", "title"], "raw_video_metadata"), on="record_id", how="left")
    low = labelled.filter(low_confidence(config.low_margin))
    # transcripts are read for the low-margin videos only: the rest of the shards' text is never loaded
    low = low.join(shard_columns(raw_video_metadata, ["record_id", "text"], "raw_video_metadata",
                                 ids=low["record_id"]),
                   on="record_id", how="left")
    texts = [video_text({"title": t, "text": x}) for t, x in low.select("title", "text").rows()]
    vectors = embeddings.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    findings = pl.concat([
        leaf_findings(labelled, taxonomy.filter(~pl.col("discard_only"))["leaf_path"].to_list(), config.low_margin),
        confused_pairs(labelled, config.low_margin),
        candidate_leaves(low, vectors, texts),
    ], how="vertical")
    clustered = model_entry("clustering", "offline", embeddings.model_name)
    findings = declare(
        findings.select(finding_ids(findings), pl.all()),
        parents=[pl.col("record_ids").fill_null(pl.lit([], dtype=pl.List(pl.String)))],
        models=[models_series([[clustered] if k == "candidate_leaf" else [] for k in findings["kind"]])],
    )
    by_kind = {str(k): int(v) for k, v in findings.group_by("kind").len().sort("kind").iter_rows()}
    show = ["leaf_path", "related_path", "videos", "mean_margin", "suggestion"]

    def table(kind: str) -> dg.MetadataValue:
        return dg.MetadataValue.md(markdown_table(findings.filter(pl.col("kind") == kind).select(show)))

    yield versioned(findings, {
        "dagster/row_count": findings.height,
        "labelled_videos": labelled.height,
        "low_margin": config.low_margin,
        "low_confidence_videos": low.height,
        "findings": dg.MetadataValue.json(by_kind),
        "confused_pairs": table("confused_pair"),
        "candidate_leaves": table("candidate_leaf"),
        "low_confidence_leaves": table("low_confidence_leaf"),
    })
    yield provenance_result(findings)
