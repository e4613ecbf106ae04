"""CinePile splits, the leaderboard and the release card (CinePile steps 4 and 5)."""

import json

import dagster as dg
import polars as pl
from pydantic import Field

from assets.cinepile.answering import BlindAnswerTask, ContextAnswerTask, LetterAnswer, VLMAnswerTask
from assets.cinepile.bank_assets import GROUP
from assets.cinepile.dataset_card import card_data, markdown
from assets.cinepile.mcq import LETTERS
from assets.cinepile.tables import (
    DATASET_SCHEMA,
    PREDICTION_SCHEMA,
    dataset_rows,
    leaderboard,
    prediction_row,
)
from assets.kit.checks import unique_ids, unique_ids_spec
from assets.kit.metadata import bar_chart, markdown_table, preview
from assets.kit.task import task_code_version
from resources.embeddings import EmbeddingResource
from resources.llm import LLMResource
from resources.storage import MediaStore

BLIND = "blind_baseline"
SCENE_TEXT = "scene_text_baseline"


class DatasetConfig(dg.Config):
    test_share: float = Field(default=0.3, gt=0, lt=1, description="Share of videos in the test split.")


@dg.asset(
    **GROUP,
    code_version="1",
    kinds={"polars", "parquet"},
    check_specs=[
        unique_ids_spec("cinepile_dataset"),
        dg.AssetCheckSpec("videos_in_one_split", asset="cinepile_dataset", blocking=True,
                          description="no video has questions in both train and test"),
        dg.AssetCheckSpec("cinepile_fields", asset="cinepile_dataset", blocking=True,
                          description="5 choices, key at its position, CinePile's value types"),
    ],
    description=(
        "The CinePile-shaped release of the refined questions (status fine or fixed), in CinePile's exact "
        "fields and types (movie_name, year, genre[], yt_clip_title, yt_clip_link, movie_scene, subtitles, "
        "question, choices[5], answer_key, answer_key_position 0-4, question_category, hard_split "
        "'True'/'False', visual_reliance '0'/'1') plus provenance. `split` is train/test by a salted hash "
        "of the video id (config `test_share`); hard_split is 'True' when the context-aware answerer with "
        "the full scene text gets the question wrong."
    ),
)
def cinepile_dataset(config: DatasetConfig, refined_questions: pl.DataFrame, cinepile_scenes: pl.DataFrame):
    df = dataset_rows(refined_questions, cinepile_scenes, config.test_share)
    splits = {s: int(n) for s, n in df.group_by("split").len().sort("split").rows()}
    per_cat = {s: int(n) for s, n in df.group_by("question_category").len().sort("question_category").rows()}
    yield dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "splits": dg.MetadataValue.json(splits),
        "videos_per_split": dg.MetadataValue.json(
            {s: int(n) for s, n in df.group_by("split").agg(pl.col("video_id").n_unique()).sort("split").rows()}),
        "hard_split_true": int((df["hard_split"] == "True").sum()),
        "visual_reliance_1": int((df["visual_reliance"] == "1").sum()),
        "by_category": dg.MetadataValue.json(per_cat),
        "category_chart": bar_chart(per_cat, "questions per category") if per_cat else "none",
        "preview": preview(df, ["movie_name", "question", "choices", "answer_key", "question_category",
                                "hard_split", "split"]),
    })
    both = df.group_by("video_id").agg(pl.col("split").n_unique()).filter(pl.col("split") > 1).height
    yield dg.AssetCheckResult(check_name="videos_in_one_split", passed=both == 0, metadata={"videos_in_both": both})
    bad = df.filter(
        (pl.col("choices").list.len() != 5) | ~pl.col("answer_key_position").is_between(0, 4)
        | (pl.col("choices").list.get(pl.col("answer_key_position"), null_on_oob=True) != pl.col("answer_key"))
        | ~pl.col("hard_split").is_in(["True", "False"]) | ~pl.col("visual_reliance").is_in(["0", "1"])
    ).height if df.height else 0
    yield dg.AssetCheckResult(check_name="cinepile_fields", passed=bad == 0 and df.schema == pl.Schema(DATASET_SCHEMA),
                              metadata={"bad_rows": bad})
    yield unique_ids(df)


def _reply(a: LetterAnswer, choices: list[str]) -> str:
    """`Answer: X) option` on one line: lmms-eval reads the rest of the line after the letter (and,
    past a line break, the next line) as the option's text and requires it to match the key's."""
    return f"Answer: {a.answer}) {choices[LETTERS.index(a.answer)]}"


def _items(test: pl.DataFrame, scenes: pl.DataFrame) -> list[dict]:
    text = dict(scenes.select("record_id", "scene_text").rows())
    return [{**r, "scene_text": text[r["scene_record_id"]]} for r in test.iter_rows(named=True)]


@dg.asset(
    **GROUP,
    code_version=task_code_version("1", BlindAnswerTask, ContextAnswerTask, VLMAnswerTask),
    kinds={"polars", "parquet"},
    check_specs=[unique_ids_spec("cinepile_predictions")],
    description=(
        "Answers of each model adapter to the test split: the offline blind baseline (question + options "
        "only), the scene-text baseline (the offline context-aware reader) and, when the `vlm` resource has an "
        "endpoint, that model in lmms-eval's CinePile prompt layout (subtitles + question + options). Every "
        "reply is parsed like lmms-eval; an unparseable reply counts as wrong and is flagged."
    ),
)
def cinepile_predictions(context: dg.AssetExecutionContext, cinepile_dataset: pl.DataFrame,
                         cinepile_scenes: pl.DataFrame, vlm: LLMResource, embeddings: EmbeddingResource):
    items = _items(cinepile_dataset.filter(pl.col("split") == "test").sort("record_id"), cinepile_scenes)
    rows, meta = [], {}
    blind = BlindAnswerTask(embeddings.encode)
    answers = blind.offline_batch([{"question": i["question"], "choices": i["choices"]} for i in items])
    prov = {"backend": "offline", "model": blind.offline_model, "task_version": blind.version}
    for item, a in zip(items, answers, strict=True):
        reply = _reply(a, item["choices"]) if not isinstance(a, Exception) else None
        rows.append(prediction_row(item, BLIND, reply, {**prov, "error": str(a) if reply is None else None}))
    reader = ContextAnswerTask()
    prov = {"backend": "offline", "model": reader.offline_model, "task_version": reader.version}
    for item in items:
        a = reader.offline(item)
        rows.append(prediction_row(item, SCENE_TEXT, _reply(a, item["choices"]), prov))
    if vlm.backend != "offline":
        run = vlm.run(VLMAnswerTask(), [{k: i[k] for k in ("question", "choices", "subtitles", "scene_text")}
                                        for i in items], log=context.log)
        for item, res in zip(items, run.results, strict=True):
            rows.append(prediction_row(item, f"vlm:{vlm.model}", res.value.reply if res.ok else None,
                                       res.provenance()))
        meta = run.metadata()
    else:
        context.log.info("vlm resource is offline: only the two offline baselines answer")
    df = pl.DataFrame(rows, schema=PREDICTION_SCHEMA)
    yield dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "test_questions": len(items),
        "adapters": dg.MetadataValue.json(df["adapter"].unique(maintain_order=True).to_list()),
        **meta,
        "preview": preview(df, ["adapter", "question_category", "reply", "parsed", "correct"]),
    })
    yield unique_ids(df)


@dg.asset(
    **GROUP,
    code_version="1",
    kinds={"polars", "duckdb"},
    description=(
        "The CinePile leaderboard on the test split: micro accuracy (%) per model adapter overall, per "
        "question category and per hard split, with unparseable replies counted (as wrong). Also a "
        "warehouse view `cinepile_leaderboard`."
    ),
)
def cinepile_leaderboard(cinepile_predictions: pl.DataFrame):
    df = leaderboard(cinepile_predictions)
    wide = df.pivot(on="adapter", index=["slice", "value"], values="accuracy") if df.height else df
    return dg.Output(df, metadata={
        "dagster/row_count": df.height,
        "table": dg.MetadataValue.md(markdown_table(wide, max_rows=20)),
        "overall": dg.MetadataValue.json({a: acc for a, acc in df.filter(pl.col("slice") == "overall")
                                          .select("adapter", "accuracy").rows()}),
    })


@dg.asset(
    **GROUP,
    code_version="1",
    kinds={"markdown"},
    description=(
        "The release's dataset card, Markdown (Hugging Face format) and JSON, in the media store: questions, "
        "videos, scene hours, splits, categories, hard split, licences of the source videos, the funnel from "
        "scenes to release, the refinement outcome, models used and known limitations."
    ),
)
def cinepile_dataset_card(cinepile_dataset: pl.DataFrame, cinepile_scenes: pl.DataFrame,
                          scene_questions: pl.DataFrame, refined_questions: pl.DataFrame,
                          curated_selection: pl.DataFrame, media: MediaStore):
    licence = pl.col("license") if "license" in curated_selection.columns else pl.lit(None, pl.String)
    licences = curated_selection.select("video_id", licence.alias("license"))  # an external clip table has none
    data = card_data(cinepile_dataset, cinepile_scenes, scene_questions, refined_questions, licences)
    text = markdown(data)
    md_ref = media.put_bytes(text.encode("utf-8"), ".md")
    json_ref = media.put_bytes(json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8"), ".json")
    df = pl.DataFrame({"record_id": ["cinepile_dataset_card"], "card_uri": [md_ref.uri],
                       "card_sha256": [md_ref.sha256], "card_json_uri": [json_ref.uri], "markdown": [text]})
    return dg.Output(df, metadata={"dagster/row_count": 1, "questions": data["questions"],
                                   "card_uri": md_ref.uri, "card_json_uri": json_ref.uri,
                                   "card": dg.MetadataValue.md(text)})
