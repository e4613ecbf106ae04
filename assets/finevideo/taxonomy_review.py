"""What the labels say about the taxonomy: weak leaves, confused pairs, missing categories.

FineVideo revised its taxonomy from what the annotations showed. Here the evidence is computed and
shown; a person edits `finevideo_taxonomy.json` (the approved source), and the edit re-labels
through the labels' code version. Findings:
- `low_confidence_leaf`: a leaf whose videos are mostly labelled with a small margin;
- `confused_pair`: two leaves that low-margin videos keep hesitating between (merge or reword);
- `candidate_leaf`: a cluster of low-margin videos that no leaf fits well, named by its distinctive
  title words (a leaf to add);
- `unused_leaf`: a leaf no video landed in (only meaningful on a large sample).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

FINDING_SCHEMA = {
    "kind": pl.String, "leaf_path": pl.String, "related_path": pl.String, "videos": pl.Int64,
    "mean_confidence": pl.Float64, "mean_margin": pl.Float64, "suggestion": pl.String,
    "example_titles": pl.List(pl.String), "record_ids": pl.List(pl.String),
}
LOW_SHARE = 0.5
CLUSTER_DISTANCE = 0.55  # cosine distance under which low-margin videos are one topic
MIN_CLUSTER = 2
EXAMPLES = 3


def low_confidence(low_margin: float) -> pl.Expr:
    return pl.col("margin").is_null() | (pl.col("margin") < low_margin)


def leaf_findings(labels: pl.DataFrame, leaf_paths: Sequence[str], low_margin: float) -> pl.DataFrame:
    """Low-confidence leaves and unused leaves. `labels` has category_path, confidence, margin,
    runner_up_path, title, record_id for every labelled video."""
    stats = labels.group_by("category_path", maintain_order=True).agg(
        pl.len().alias("videos"),
        pl.col("confidence").mean().alias("mean_confidence"),
        pl.col("margin").mean().alias("mean_margin"),
        low_confidence(low_margin).mean().alias("low_share"),
        pl.col("runner_up_path").mode().first().alias("related_path"),
        pl.col("title").head(EXAMPLES).alias("example_titles"),
        pl.col("record_id").alias("record_ids"),
    )
    weak = stats.filter(pl.col("low_share") >= LOW_SHARE).with_columns(
        pl.lit("low_confidence_leaf").alias("kind"),
        pl.col("category_path").alias("leaf_path"),
        pl.format("{}% of its videos have a margin under {}; most often confused with {}: reword it or "
                  "add examples", (pl.col("low_share") * 100).round(0).cast(pl.Int64), pl.lit(low_margin),
                  pl.col("related_path")).alias("suggestion"),
    )
    used = set(labels["category_path"].drop_nulls().to_list())
    unused = pl.DataFrame(
        {"kind": "unused_leaf", "leaf_path": [p for p in leaf_paths if p not in used], "videos": 0,
         "suggestion": "no video was labelled here"},
    )
    return pl.concat([_shape(weak), _shape(unused)], how="vertical")


def confused_pairs(labels: pl.DataFrame, low_margin: float, min_videos: int = 1) -> pl.DataFrame:
    """Leaf pairs (unordered) that low-margin videos hesitate between."""
    low = labels.filter(low_confidence(low_margin) & pl.col("runner_up_path").is_not_null())
    pairs = low.with_columns(
        pl.min_horizontal("category_path", "runner_up_path").alias("leaf_path"),
        pl.max_horizontal("category_path", "runner_up_path").alias("related_path"),
    ).group_by("leaf_path", "related_path").agg(
        pl.len().alias("videos"),
        pl.col("confidence").mean().alias("mean_confidence"),
        pl.col("margin").mean().alias("mean_margin"),
        pl.col("title").head(EXAMPLES).alias("example_titles"),
        pl.col("record_id").alias("record_ids"),
    ).filter(pl.col("videos") >= min_videos)
    return _shape(pairs.with_columns(
        pl.lit("confused_pair").alias("kind"),
        pl.format("{} low-margin videos sit between these leaves: merge them or sharpen their names",
                  pl.col("videos")).alias("suggestion"),
    ).sort("videos", "leaf_path", descending=[True, False]))


def candidate_leaves(low: pl.DataFrame, vectors: np.ndarray, texts: Sequence[str]) -> pl.DataFrame:
    """Clusters of low-margin videos (rows of `low`, embedded as `vectors`), each named by the
    words that set its texts apart, under the top-level category most of them were given."""
    if low.height < MIN_CLUSTER:
        return _shape(pl.DataFrame())
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    clusters = AgglomerativeClustering(n_clusters=None, distance_threshold=CLUSTER_DISTANCE,
                                       metric="cosine", linkage="average").fit_predict(vectors)
    tfidf = TfidfVectorizer(stop_words="english", max_features=5000, ngram_range=(1, 2), min_df=1)
    weights = tfidf.fit_transform(list(texts))
    terms = np.array(tfidf.get_feature_names_out())
    rows = []
    for c in sorted(set(clusters)):
        members = np.flatnonzero(clusters == c)
        if len(members) < MIN_CLUSTER:
            continue
        centre = np.asarray(weights[clusters == c].mean(axis=0)).ravel()
        name = " ".join(t.title() for t in terms[np.argsort(-centre)[:2]])
        sub = low[members.tolist()]
        top = sub["category_path"].str.split(" > ").list.first().mode().sort()[0]
        rows.append({
            "kind": "candidate_leaf", "leaf_path": f"{top} > {name}",
            "related_path": sub["category_path"].mode().sort()[0], "videos": len(members),
            "mean_confidence": sub["confidence"].mean(), "mean_margin": sub["margin"].mean(),
            "suggestion": f"{len(members)} low-margin videos share a topic no leaf names; consider adding it",
            "example_titles": sub["title"].head(EXAMPLES).to_list(), "record_ids": sub["record_id"].to_list(),
        })
    return _shape(pl.DataFrame(rows) if rows else pl.DataFrame())


def _shape(df: pl.DataFrame) -> pl.DataFrame:
    """Any finding frame in FINDING_SCHEMA's columns and order (missing columns null)."""
    return pl.DataFrame(
        [df[c].cast(t) if c in df.columns else pl.Series(c, [None] * df.height, dtype=t)
         for c, t in FINDING_SCHEMA.items()],
    ).select(list(FINDING_SCHEMA))
