"""DocVQA-style evaluation of the release: test split, predictions, LAVE judgments, the metric table."""

import json

import dagster as dg
import polars as pl

from assets.docmatix.answerers import BASELINE, BASELINE_VERSION, VLMAnswerTask, extractive_answer
from assets.docmatix.asset_options import ACROSS_SHARDS
from assets.docmatix.evaluation import evaluation_table, lave_metric
from assets.docmatix.lave import LaveJudgeTask, keep_common_references, parse_rating, rating_or_default, score
from assets.docmatix.metrics import anls_item, exact_match_item
from assets.docmatix.release import TEST_ITEMS, held_out_items
from assets.kit.checks import unique_ids, unique_ids_spec
from assets.kit.metadata import markdown_table, preview
from assets.kit.shard_frames import concat_shards
from assets.kit.task import task_code_version
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource
from resources.storage import MediaStore


@dg.asset(
    **ACROSS_SHARDS,
    code_version="1",
    kinds={"polars", "parquet"},
    check_specs=[unique_ids_spec("docvqa_test_split")],
    description=(
        f"The held-out DocVQA-style test set: the first {TEST_ITEMS} Q/A pairs (all, if fewer) of the "
        "release's test documents in split-hash order, one row per question with its page image, "
        "the page's text and its reference answers. No test document has a train row."
    ),
)
def docvqa_test_split(docmatix_dataset: pl.DataFrame, documents):
    docs = concat_shards(documents, "documents")
    test_ids = docmatix_dataset.filter(pl.col("split") == "test")["record_id"]
    texts = {r["record_id"]: ["\n".join(p["lines"]["text"]) for p in json.loads(r["layout"])["pages"]]
             for r in docs.filter(pl.col("record_id").is_in(test_ids.implode())).iter_rows(named=True)}
    df = held_out_items(docmatix_dataset, texts)
    yield dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "documents": df["document_id"].n_unique() if df.height else 0,
        "test_documents_in_release": test_ids.len(),
        "preview": preview(df, ["record_id", "page", "question", "answers"]),
    })
    yield unique_ids(df)


PREDICTION_SCHEMA = {
    "record_id": pl.String, "item_id": pl.String, "adapter": pl.String, "question": pl.String,
    "answers": pl.List(pl.String), "prediction": pl.String, "anls": pl.Float64,
    "exact_match": pl.Float64, "backend": pl.String, "model": pl.String, "task_name": pl.String,
    "task_version": pl.String, "prompt_sha": pl.String, "cached": pl.Boolean, "attempts": pl.Int32,
    "error": pl.String,
}


def _prediction_rows(split: pl.DataFrame, adapter: str, answers: list[str | None],
                     provenance: list[dict]) -> list[dict]:
    rows = []
    for item, answer, prov in zip(split.iter_rows(named=True), answers, provenance, strict=True):
        rows.append({
            "record_id": f"{item['record_id']}@{adapter}", "item_id": item["record_id"], "adapter": adapter,
            "question": item["question"], "answers": item["answers"], "prediction": answer,
            "anls": anls_item(answer or "", item["answers"]),
            "exact_match": exact_match_item(answer or "", item["answers"]), **prov,
        })
    return rows


@dg.asset(
    **ACROSS_SHARDS,
    code_version=task_code_version("1", VLMAnswerTask),
    kinds={"vlm", "polars", "parquet"},
    check_specs=[unique_ids_spec("docvqa_predictions")],
    description=(
        "Answers of each model adapter to the test questions: the extractive text baseline (always) "
        "and, when the `vlm` resource has a model endpoint, that VLM given the page image as a data "
        "URI. Per-question ANLS and exact match, with each call's provenance."
    ),
)
def docvqa_predictions(context: dg.AssetExecutionContext, docvqa_test_split: pl.DataFrame,
                       vlm: LLMResource, media: MediaStore):
    split = docvqa_test_split
    baseline = [extractive_answer(q, t) for q, t in zip(split["question"], split["page_text"], strict=True)]
    prov = {"backend": "offline", "model": BASELINE, "task_name": BASELINE, "task_version": BASELINE_VERSION,
            "prompt_sha": None, "cached": False, "attempts": 1, "error": None}
    rows = _prediction_rows(split, BASELINE, baseline, [prov] * split.height)
    meta = {}
    if vlm.backend != "offline":
        items = [{"question": r["question"], "image_path": str(media.local_path(r["image_uri"])),
                  "page_text": r["page_text"]} for r in split.iter_rows(named=True)]
        run = vlm.run(VLMAnswerTask(), items, log=context.log)
        answers = [r.value.answer if r.ok else None for r in run.results]
        rows += _prediction_rows(split, f"vlm:{vlm.model}", answers, [r.provenance() for r in run.results])
        meta = run.metadata()
    else:
        context.log.info("vlm resource is offline: only the extractive baseline answers")
    df = pl.DataFrame(rows, schema=PREDICTION_SCHEMA)
    yield dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "adapters": dg.MetadataValue.json(df["adapter"].unique(maintain_order=True).to_list()),
        **meta,
        "preview": preview(df, ["adapter", "question", "answers", "prediction", "anls"]),
    })
    yield unique_ids(df)


JUDGMENT_SCHEMA = {
    "record_id": pl.String, "adapter": pl.String, "metric": pl.String, "references_used": pl.List(pl.String),
    "rating": pl.Int32, "parsed": pl.Boolean, "score": pl.Float64, "rationale": pl.String,
    "judge_backend": pl.String, "judge_model": pl.String, "task_version": pl.String,
    "prompt_sha": pl.String, "error": pl.String,
}


@dg.asset(
    **ACROSS_SHARDS,
    code_version=task_code_version("1", LaveJudgeTask),
    kinds={"llm", "polars", "parquet"},
    check_specs=[unique_ids_spec("docvqa_judgments")],
    description=(
        "A LAVE rating (1-3, rationale then 'So rating=N') of every prediction by the `judge` "
        "resource, after dropping rare references; unparseable ratings count as 2, score = (r-1)/2. "
        "With the offline judge the rows are a rubric proxy (normalised match, ANLS, embedding "
        "similarity) and are labelled `lave_proxy`, not LAVE."
    ),
)
def docvqa_judgments(context: dg.AssetExecutionContext, docvqa_predictions: pl.DataFrame,
                     judge: LLMResource, embeddings: EmbeddingResource):
    preds = docvqa_predictions
    items = [{"question": r["question"], "references": keep_common_references(r["answers"]),
              "candidate": r["prediction"] or ""} for r in preds.iter_rows(named=True)]
    task = LaveJudgeTask(encode=embeddings.encode, embedding_model=embeddings.model_name)
    run = judge.run(task, items, log=context.log)
    rows = []
    for pred, item, res in zip(preds.iter_rows(named=True), items, run.results, strict=True):
        rating = rating_or_default(res.value.reply) if res.ok else None
        rows.append({
            "record_id": pred["record_id"], "adapter": pred["adapter"], "metric": lave_metric(res.backend),
            "references_used": item["references"], "rating": rating,
            "parsed": res.ok and parse_rating(res.value.reply) is not None,
            "score": score(rating) if rating else None, "rationale": res.value.reply if res.ok else None,
            "judge_backend": res.backend, "judge_model": res.model, "task_version": res.task_version,
            "prompt_sha": res.prompt_sha, "error": res.error,
        })
    df = pl.DataFrame(rows, schema=JUDGMENT_SCHEMA)
    yield dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "metric": lave_metric(judge.backend),
        "ratings": dg.MetadataValue.json({str(k): int(n) for k, n in
                                          df.group_by("rating").len().sort("rating").iter_rows()}),
        "unparseable": int((~df["parsed"] & df["error"].is_null()).sum()),
        **run.metadata(),
        "preview": preview(df, ["record_id", "metric", "rating", "rationale"]),
    })
    yield unique_ids(df)


@dg.asset(
    **ACROSS_SHARDS,
    code_version="1",
    kinds={"polars", "parquet"},
    description=(
        "The DocVQA-style evaluation table: per model adapter, ANLS, exact match, BLEU (sacrebleu), "
        "CIDEr-D and LAVE side by side (`lave` from a judge model, `lave_proxy` from the offline "
        "rubric proxy), with the judge and failure counts."
    ),
)
def docvqa_evaluation(docvqa_predictions: pl.DataFrame, docvqa_judgments: pl.DataFrame):
    df = evaluation_table(docvqa_predictions, docvqa_judgments)
    shown = df.select([c for c in df.columns if df[c].null_count() < df.height])
    return dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "table": dg.MetadataValue.md(markdown_table(shown)),
    })
