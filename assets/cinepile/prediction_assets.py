"""The leaderboard's predictions (CinePile step 5): each model adapter answers the test split."""

import dagster as dg
import polars as pl

from assets.cinepile.answering import BlindAnswerTask, BlindParams, ContextAnswerTask, LetterAnswer
from assets.cinepile.mcq import LETTERS
from assets.cinepile.tables import prediction_row, predictions
from assets.cinepile.vlm import VLMAnswerTask
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.metadata import preview
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource

BLIND = "blind_baseline"
SCENE_TEXT = "scene_text_baseline"
ROLES = {BLIND: "blind_answer", SCENE_TEXT: "reader", "vlm": "vlm"}  # adapter -> provenance role
PredictionConfig = rule_config(BlindParams, "PredictionConfig")


def _reply(a: LetterAnswer, choices: list[str]) -> str:
    """`Answer: X) option` on one line: lmms-eval reads the rest of the line after the letter (and,
    past a line break, the next line) as the option's text and requires it to match the key's."""
    return f"Answer: {a.answer}) {choices[LETTERS.index(a.answer)]}"


def _items(test: pl.DataFrame, scenes: pl.DataFrame) -> list[dict]:
    text = dict(scenes.select("record_id", "scene_text").rows())
    return [{**r, "scene_text": text[r["scene_record_id"]]} for r in test.iter_rows(named=True)]


@kit_asset(
    group="cinepile",
    tasks=(BlindAnswerTask, ContextAnswerTask, VLMAnswerTask),
    version_extra=(BlindParams().model_dump_json(),),
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        "Answers of each model adapter to the test split: the offline blind baseline (question + options "
        "only; config `blind_margin`), the scene-text baseline (the offline context-aware reader) and, when the "
        "`vlm` resource has an endpoint, that model in lmms-eval's CinePile prompt layout (subtitles + question "
        "+ options). Every reply is parsed like lmms-eval (`parsed`, `correct`; an unparseable reply counts as wrong "
        "and is flagged) and leniently (`parsed_lenient`, `correct_lenient`: 'B.', '(B)', 'The answer is B', an "
        "option's text). A prediction's parent is its release row, its model the adapter's."
    ),
)
def cinepile_predictions(context: dg.AssetExecutionContext, config: PredictionConfig, cinepile_dataset: pl.DataFrame,
                         cinepile_scenes: pl.DataFrame, vlm: LLMResource, embeddings: EmbeddingResource):
    blind_params = rules_from(config, BlindParams)
    items = _items(cinepile_dataset.filter(pl.col("split") == "test").sort("record_id"), cinepile_scenes)
    offline = LLMResource(backend="offline")  # the baselines answer offline whatever `vlm` is
    rows, models, meta = [], [], {}
    blind = offline.run(BlindAnswerTask(embeddings.encode, encoder=embeddings.model_name,
                                        margin=blind_params.blind_margin),
                        [{"question": i["question"], "choices": i["choices"]} for i in items], log=context.log)
    reader = offline.run(ContextAnswerTask(), [{k: i[k] for k in ("question", "choices", "scene_text")} for i in items],
                         log=context.log)
    for adapter, run in ((BLIND, blind), (SCENE_TEXT, reader)):
        for item, res in zip(items, run.results, strict=True):
            reply = _reply(res.value, item["choices"]) if res.ok else None
            rows.append(prediction_row(item, adapter, reply, res.error))
        models += run.model_entries(ROLES[adapter])
    if vlm.backend != "offline":
        run = vlm.run(VLMAnswerTask(), [{k: i[k] for k in ("question", "choices", "subtitles", "scene_text")}
                                        for i in items], log=context.log)
        for item, res in zip(items, run.results, strict=True):
            rows.append(prediction_row(item, f"vlm:{vlm.model}", res.value.reply if res.ok else None, res.error))
        models += run.model_entries(ROLES["vlm"])
        meta = run.metadata()
    else:
        context.log.info("vlm resource is offline: only the two offline baselines answer")
    df = predictions(rows, models)
    yield versioned(df, {
        "dagster/row_count": df.height,
        "test_questions": len(items),
        "adapters": dg.MetadataValue.json(df["adapter"].unique(maintain_order=True).to_list()),
        "blind_margin": blind_params.blind_margin,
        **meta,
        "preview": preview(df, ["adapter", "question_category", "reply", "parsed", "correct", "parsed_lenient",
                                "correct_lenient"]),
    })
    yield unique_ids(df)
    yield provenance_result(df)
