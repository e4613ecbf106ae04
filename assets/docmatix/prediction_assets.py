"""`docvqa_predictions`: each model adapter's answers to the held-out questions."""

import dagster as dg
import polars as pl

from assets.docmatix.answerers import BASELINE, VLMAnswerTask, baseline_model_entry, extractive_answer
from assets.docmatix.metrics import anls_item, exact_match_item
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.identity import record_id
from assets.kit.metadata import preview
from assets.kit.provenance import declare, models_series
from resources.llm import LLMResource
from resources.storage import MediaStore

PREDICTION_SCHEMA = {
    "record_id": pl.String, "item_id": pl.String, "adapter": pl.String, "question": pl.String,
    "answers": pl.List(pl.String), "prediction": pl.String, "anls": pl.Float64,
    "exact_match": pl.Float64, "error": pl.String,
}


def prediction_rows(split: pl.DataFrame, adapter: str, answers: list[str | None], errors: list[str | None],
                    models: list[list[dict]]) -> pl.DataFrame:
    """One row per test item: `prediction:<item id>:<adapter>`, the item as its parent, the model
    that answered in `models` (role `answer`), per-question ANLS and exact match."""
    rows = []
    for item, answer, error in zip(split.iter_rows(named=True), answers, errors, strict=True):
        rows.append({
            "record_id": record_id("prediction", item["record_id"], adapter), "item_id": item["record_id"],
            "adapter": adapter, "question": item["question"], "answers": item["answers"], "prediction": answer,
            "anls": anls_item(answer or "", item["answers"]),
            "exact_match": exact_match_item(answer or "", item["answers"]), "error": error,
        })
    df = pl.DataFrame(rows, schema=PREDICTION_SCHEMA).with_columns(models_series(models, "answer_model"))
    return declare(df, parents=["item_id"], models=["answer_model"]).drop("answer_model")


@kit_asset(
    group="docmatix",
    kinds=("vlm", "polars", "parquet"),
    tasks=(VLMAnswerTask,),
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        "Answers of each model adapter to the test questions: the extractive text baseline (always) "
        "and, when the `vlm` resource has a model endpoint, that VLM given the page image as a data "
        "URI. Per-question ANLS and exact match; the test item in `parent_ids`, the answering model "
        "in `models` (role `answer`)."
    ),
)
def docvqa_predictions(context: dg.AssetExecutionContext, docvqa_test_split: pl.DataFrame,
                       vlm: LLMResource, media: MediaStore):
    split = docvqa_test_split
    baseline = [extractive_answer(q, t) for q, t in zip(split["question"], split["page_text"], strict=True)]
    frames = [prediction_rows(split, BASELINE, baseline, [None] * split.height,
                              [[baseline_model_entry()]] * split.height)]
    meta = {}
    if vlm.backend != "offline":
        items = [{"question": r["question"], "image_path": str(media.local_path(r["image_uri"])),
                  "page_text": r["page_text"]} for r in split.iter_rows(named=True)]
        run = vlm.run(VLMAnswerTask(), items, log=context.log)
        answers = [r.value.answer if r.ok else None for r in run.results]
        frames.append(prediction_rows(split, f"vlm:{vlm.model}", answers, run.errors_list(),
                                      run.model_entries("answer")))
        meta = run.metadata()
    else:
        context.log.info("vlm resource is offline: only the extractive baseline answers")
    df = pl.concat(frames)
    yield versioned(df, {
        "dagster/row_count": df.height,
        "adapters": dg.MetadataValue.json(df["adapter"].unique(maintain_order=True).to_list()),
        **meta,
        "preview": preview(df, ["adapter", "question", "answers", "prediction", "anls"]),
    })
    yield unique_ids(df)
    yield provenance_result(df)
