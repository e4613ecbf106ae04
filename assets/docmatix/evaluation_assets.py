"""`docvqa_evaluation`: the DocVQA-style metric table, one row per model adapter."""

import dagster as dg
import polars as pl

from assets.docmatix.evaluation import evaluation_table, judge_of, model_label
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.metadata import markdown_table


@kit_asset(
    group="docmatix",
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        "The DocVQA-style evaluation table: per model adapter, ANLS, exact match, BLEU (sacrebleu), "
        "CIDEr-D and LAVE side by side (`lave` from a judge model, `lave_proxy` from the offline "
        "rubric proxy), with failure counts; the adapter's predictions in `parent_ids`, the answering "
        "model and the judge in `models`."
    ),
)
def docvqa_evaluation(docvqa_predictions: pl.DataFrame, docvqa_judgments: pl.DataFrame):
    df = evaluation_table(docvqa_predictions, docvqa_judgments)
    shown = df.drop("parent_ids", "models").with_columns(
        pl.Series("answered_by", [", ".join(model_label(e) for e in r["models"] if e["role"] == "answer")
                                  for r in df.iter_rows(named=True)], dtype=pl.String),
        pl.Series("judge", [judge_of(r) for r in df.iter_rows(named=True)], dtype=pl.String),
    )
    shown = shown.select([c for c in shown.columns if shown[c].null_count() < shown.height])
    yield versioned(df, {
        "dagster/row_count": df.height,
        "table": dg.MetadataValue.md(markdown_table(shown)),
    })
    yield unique_ids(df)
    yield provenance_result(df)
