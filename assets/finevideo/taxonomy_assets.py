"""Taxonomy, per-shard labels and the feedback on the taxonomy (RECIPES section 1, "Taxonomy")."""

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from assets.finevideo.labelling import TaxonomyLabelTask, confidence, video_text
from assets.finevideo.taxonomy import APPROVED_VERSION, DEFAULT_DISCARD_ONLY, load_tree, taxonomy_frame
from assets.finevideo.taxonomy_review import candidate_leaves, confused_pairs, leaf_findings, low_confidence
from assets.kit.checks import screen_check_results, screen_check_specs
from assets.kit.metadata import bar_chart, markdown_table, preview, screen_counts
from assets.kit.partitions import video_shards
from assets.kit.screening import Rule, kept, screen
from assets.kit.shard_frames import concat_shards
from assets.kit.task import task_code_version
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource

PREVIEW_COLUMNS = ["record_id", "video_id", "shard", "category_path", "content_parent_category",
                 "content_fine_category", "confidence", "margin", "runner_up_path"]


class TaxonomyConfig(dg.Config):
    discard_only: list[str] = Field(
        default=list(DEFAULT_DISCARD_ONLY),
        description="Paths whose videos are discarded: leaves of the file, or extra leaves to add.",
    )


@dg.asset(
    group_name="finevideo",
    kinds={"polars", "parquet"},
    owners=["team:data"],
    code_version=f"1-{APPROVED_VERSION}",
    check_specs=[dg.AssetCheckSpec("unique_leaf_paths", asset="taxonomy", blocking=True,
                                   description="leaves are keyed by their full path, each once")],
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
    yield dg.Output(
        df,
        metadata={
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


@dg.asset(
    partitions_def=video_shards,
    group_name="finevideo",
    kinds={"polars", "parquet"},
    owners=["team:data"],
    code_version=task_code_version(f"1-{APPROVED_VERSION}", TaxonomyLabelTask),
    ins={"dynamism_screen": dg.AssetIn(), "raw_video_metadata": dg.AssetIn(), "taxonomy": dg.AssetIn()},
    check_specs=screen_check_specs("taxonomy_labels"),
    description=(
        "One taxonomy leaf per dynamic video of the shard (Task `taxonomy_label`: FineVideo's prompt "
        "with title, channel and transcript, no tags; only a leaf path is accepted). Offline: the leaf "
        "most similar to title + transcript. Confidence and margin (lead over the runner-up leaf) are "
        "measured with embeddings on every backend. Failed labels and discard-only categories are "
        "rejected with a reason."
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
        }, schema={"category_path": pl.String, "confidence": pl.Float64, "margin": pl.Float64,
                   "runner_up_path": pl.String}),
        run.provenance_frame().rename({"error": "label_error"}),
    ], how="horizontal").join(info, left_on="category_path", right_on="leaf_path", how="left").rename(
        {"top": "content_parent_category", "leaf": "content_fine_category"}
    ).with_columns(pl.lit(taxonomy["taxonomy_version"][0] if taxonomy.height else None).alias("taxonomy_version"))
    out = screen(df, [
        Rule("label_failed", pl.col("category_path").is_not_null(), value=pl.col("label_error")),
        Rule("discard_only_category", ~pl.col("discard_only").fill_null(False), value=pl.col("category_path"),
             threshold="not a discard-only category"),
    ]).drop("discard_only")
    counts = {str(k): int(v) for k, v in kept(out).group_by("category_path").len().sort("len").iter_rows()}
    yield dg.Output(
        out,
        metadata={
            **screen_counts(out),
            **run.metadata(),
            "taxonomy_version": out["taxonomy_version"][0] if out.height else "",
            "median_margin": float(out["margin"].median() or 0.0) if out.height else 0.0,
            "labels": bar_chart(counts, "videos per category") if counts else "none",
            "preview": preview(out, [*PREVIEW_COLUMNS, "kept", "reason", "backend"]),
        },
    )
    yield from screen_check_results(out, n_inputs=inputs.height)


class FeedbackConfig(dg.Config):
    low_margin: float = Field(default=0.03, description="A label whose lead over the runner-up leaf "
                                                        "is below this is low-confidence.")


@dg.asset(
    group_name="finevideo",
    kinds={"polars", "parquet", "scikitlearn"},
    owners=["team:data"],
    code_version="1",
    ins={"taxonomy_labels": dg.AssetIn(), "raw_video_metadata": dg.AssetIn(), "taxonomy": dg.AssetIn()},
    description=(
        "Evidence for revising the taxonomy, from all shards' labels: low-confidence leaves, leaf "
        "pairs that low-margin videos hesitate between, and candidate new leaves (clusters of "
        "low-margin videos named by their distinctive words). The taxonomy file stays the approved "
        "source: a person edits it, and the edit re-labels through the labels' code version."
    ),
)
def taxonomy_feedback(config: FeedbackConfig, taxonomy_labels: dict[str, pl.DataFrame],
                      raw_video_metadata: dict[str, pl.DataFrame], taxonomy: pl.DataFrame,
                      embeddings: EmbeddingResource):
    raw = concat_shards(raw_video_metadata)
    labels = concat_shards(taxonomy_labels)
    labelled = labels.filter(pl.col("category_path").is_not_null()).join(
        raw.select("record_id", "shard", "title", "text"), on=["record_id", "shard"], how="left")
    low = labelled.filter(low_confidence(config.low_margin))
    texts = [video_text({"title": t, "text": x}) for t, x in low.select("title", "text").rows()]
    vectors = embeddings.encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    findings = pl.concat([
        leaf_findings(labelled, taxonomy.filter(~pl.col("discard_only"))["leaf_path"].to_list(), config.low_margin),
        confused_pairs(labelled, config.low_margin),
        candidate_leaves(low, vectors, texts),
    ], how="vertical")
    by_kind = {str(k): int(v) for k, v in findings.group_by("kind").len().sort("kind").iter_rows()}
    show = ["leaf_path", "related_path", "videos", "mean_margin", "suggestion"]

    def table(kind: str) -> dg.MetadataValue:
        return dg.MetadataValue.md(markdown_table(findings.filter(pl.col("kind") == kind).select(show)))

    return dg.Output(findings, metadata={
        "dagster/row_count": findings.height,
        "labelled_videos": labelled.height,
        "low_margin": config.low_margin,
        "low_confidence_videos": low.height,
        "findings": dg.MetadataValue.json(by_kind),
        "confused_pairs": table("confused_pair"),
        "candidate_leaves": table("candidate_leaf"),
        "low_confidence_leaves": table("low_confidence_leaf"),
    })
