"""`docvqa_judgments`: a LAVE rating of every prediction (or its labelled rubric proxy offline)."""

import dagster as dg
import polars as pl

from assets.docmatix.evaluation import lave_metric
from assets.docmatix.lave import LaveJudgeTask, keep_common_references, parse_rating, rating_or_default, score
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.identity import record_id
from assets.kit.metadata import preview
from assets.kit.provenance import declare, models_series
from assets.kit.task import TaskRun
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource

JUDGMENT_SCHEMA = {
    "record_id": pl.String, "prediction_id": pl.String, "adapter": pl.String, "metric": pl.String,
    "references_used": pl.List(pl.String), "rating": pl.Int32, "parsed": pl.Boolean, "score": pl.Float64,
    "rationale": pl.String, "error": pl.String,
}


def judgment_rows(preds: pl.DataFrame, items: list[dict], run: TaskRun) -> pl.DataFrame:
    """One row per prediction: `judgment:<prediction id>`, the prediction as its parent, the judge
    in `models` (role `judge`)."""
    rows = []
    for pred, item, res in zip(preds.iter_rows(named=True), items, run.results, strict=True):
        rating = rating_or_default(res.value.reply) if res.ok else None
        rows.append({
            "record_id": record_id("judgment", pred["record_id"]), "prediction_id": pred["record_id"],
            "adapter": pred["adapter"], "metric": lave_metric(res.backend), "references_used": item["references"],
            "rating": rating, "parsed": res.ok and parse_rating(res.value.reply) is not None,
            "score": score(rating) if rating else None, "rationale": res.value.reply if res.ok else None,
            "error": res.error,
        })
    df = pl.DataFrame(rows, schema=JUDGMENT_SCHEMA).with_columns(models_series(run.model_entries("judge"),
                                                                               "judge_model"))
    return declare(df, parents=["prediction_id"], models=["judge_model"]).drop("judge_model")


@kit_asset(
    group="docmatix",
    kinds=("llm", "polars", "parquet"),
    tasks=(LaveJudgeTask,),
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        "A LAVE rating (1-3, rationale then 'So rating=N') of every prediction by the `judge` "
        "resource with LAVE's prompt: rare references dropped, the rest sorted with their duplicates, "
        "the yes/no rule, demos in LAVE's format; unparseable ratings count as 2, score = (r-1)/2. "
        "With the offline judge the rows are a rule-based proxy of LAVE's rubric (split references "
        "give 2, synonyms and broader terms count, embedding similarity for paraphrases) labelled "
        "`lave_proxy`, not LAVE. The prediction in `parent_ids`, the judge in `models` (role `judge`)."
    ),
)
def docvqa_judgments(context: dg.AssetExecutionContext, docvqa_predictions: pl.DataFrame,
                     judge: LLMResource, embeddings: EmbeddingResource):
    preds = docvqa_predictions
    items = [{"question": r["question"], "references": keep_common_references(r["answers"]),
              "candidate": r["prediction"] or ""} for r in preds.iter_rows(named=True)]
    task = LaveJudgeTask(encode=embeddings.encode, embedding_model=embeddings.model_name)
    run = judge.run(task, items, log=context.log)
    df = judgment_rows(preds, items, run)
    yield versioned(df, {
        "dagster/row_count": df.height,
        "metric": lave_metric(judge.backend),
        "ratings": dg.MetadataValue.json({str(k): int(n) for k, n in
                                          df.group_by("rating").len().sort("rating").iter_rows()}),
        "unparseable": int((~df["parsed"] & df["error"].is_null()).sum()),
        **run.metadata(),
        "preview": preview(df, ["record_id", "metric", "rating", "rationale"]),
    })
    yield unique_ids(df)
    yield provenance_result(df)
