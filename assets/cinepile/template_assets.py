"""Question templates: the bank clustered and each cluster named (CinePile step 1)."""

import dagster as dg
import numpy as np
import polars as pl
from pydantic import Field

from assets.cinepile.categories import CATEGORIES
from assets.cinepile.templates import TemplateTask, cluster, distinctive_terms, medoid
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.identity import record_id
from assets.kit.metadata import bar_chart, markdown_table
from assets.kit.provenance import declare, models_series
from assets.kit.screening import kept
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource

ROLE = "template"


class TemplateConfig(dg.Config):
    k_min: int = Field(default=5, ge=2, description="Smallest number of clusters tried.")
    k_max: int = Field(default=60, ge=2, description="Largest number of clusters tried.")
    seed: int = 0


TEMPLATE_SCHEMA = {
    "record_id": pl.String, "cluster_id": pl.Int64, "name": pl.String, "prototypical_question": pl.String,
    "category": pl.String, "question_category": pl.String, "size": pl.Int64, "terms": pl.List(pl.String),
    "member_ids": pl.List(pl.String), "medoid_id": pl.String, "source_agreement": pl.Float64, "error": pl.String,
}


@kit_asset(
    group="cinepile",
    tasks=(TemplateTask,),
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        "Question templates: the kept bank questions embedded (EmbeddingResource), clustered with KMeans "
        "at the k with the best cosine silhouette, and each cluster named by Task `cinepile_template` "
        "(template name, prototypical question, category). Offline: the medoid question, the cluster's "
        "most distinctive tf-idf terms as its name, and the category whose description is closest to the "
        "cluster centroid. A template is identified by its medoid bank row and made from its members. "
        "A failed cluster is a row with its error and no category."
    ),
)
def question_templates(context: dg.AssetExecutionContext, config: TemplateConfig, question_bank: pl.DataFrame,
                       llm: LLMResource, embeddings: EmbeddingResource):
    bank = kept(question_bank).sort("source_row")
    questions = bank["question"].to_list()
    vectors = embeddings.encode(questions)
    fit = cluster(vectors, config.k_min, config.k_max, config.seed)
    members = [[i for i, lab in enumerate(fit.labels) if lab == c] for c in range(fit.k)]
    members = [m for m in members if m]
    terms = distinctive_terms([" ".join(questions[i] for i in m) for m in members]) if members else []
    items = [{"cluster_id": c, "questions": [questions[i] for i in m], "terms": t}
             for c, (m, t) in enumerate(zip(members, terms, strict=True))]
    run = llm.run(TemplateTask(embeddings.encode, encoder=embeddings.model_name), items, log=context.log)
    ids, cats = bank["record_id"].to_list(), bank["source_category"].to_list()
    rows = []
    for item, m, res in zip(items, members, run.results, strict=True):
        v = res.value
        member_ids = [ids[i] for i in m]
        centre = ids[m[medoid(vectors[np.array(m)])]]  # clusters are disjoint: one medoid each
        agree = [cats[i] == v.category for i in m if cats[i]] if v else []
        rows.append({
            "record_id": record_id("template", centre), "cluster_id": item["cluster_id"],
            "name": v.name if v else None, "prototypical_question": v.prototypical_question if v else None,
            "category": v.category if v else None, "question_category": CATEGORIES[v.category] if v else None,
            "size": len(m), "terms": item["terms"], "member_ids": member_ids, "medoid_id": centre,
            "source_agreement": round(sum(agree) / len(agree), 3) if agree else None, "error": res.error,
        })
    df = declare(pl.DataFrame(rows, schema=TEMPLATE_SCHEMA), parents=["member_ids"],
                 models=[models_series(run.model_entries(ROLE))])
    named = df.filter(pl.col("error").is_null())
    per_cat = {str(k): int(n) for k, n in named.group_by("category").len().sort("category").rows()}
    weighted = named.filter(pl.col("source_agreement").is_not_null())
    agreement = (float((weighted["source_agreement"] * weighted["size"]).sum() / weighted["size"].sum())
                 if weighted.height else None)
    yield versioned(df, {
        "dagster/row_count": df.height,
        "questions": len(questions),
        "k": fit.k,
        "silhouette_by_k": dg.MetadataValue.json({str(k): round(s, 4) for k, s in fit.silhouettes.items()}),
        "silhouette": round(fit.silhouettes.get(fit.k, 0.0), 4),
        "templates_by_category": dg.MetadataValue.json(per_cat),
        "category_agreement_with_bank_labels": round(agreement, 3) if agreement is not None else "n/a",
        "category_chart": bar_chart(per_cat, "templates per category") if per_cat else "none",
        **run.metadata(),
        "templates": dg.MetadataValue.md(markdown_table(
            df.select("name", "category", "size", "prototypical_question"), max_rows=20)),
    })
    yield unique_ids(df)
    yield provenance_result(df)
