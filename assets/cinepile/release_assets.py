"""The CinePile release, its leaderboard table and its card (CinePile steps 4 and 5); no model runs here."""

import json

import dagster as dg
import polars as pl
from pydantic import Field

from assets.cinepile.categories import CATEGORIES, label
from assets.cinepile.dataset_card import card_data, lmms_eval_readiness, markdown
from assets.cinepile.duplicate_assets import RULES
from assets.cinepile.tables import DATASET_SCHEMA, dataset_rows, leaderboard, split_of
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import named_check, provenance_result, provenance_spec, unique_ids, unique_ids_spec
from assets.kit.hygiene_card import hygiene_markdown, hygiene_rows
from assets.kit.identity import record_id
from assets.kit.metadata import bar_chart, markdown_table, preview, uri_value
from assets.kit.provenance import declare
from assets.kit.screening import kept
from resources.storage import MediaStore


class DatasetConfig(dg.Config):
    test_share: float = Field(default=0.3, gt=0, lt=1, description="Share of videos in the test split.")


def unique_questions(refined: pl.DataFrame, duplicates: pl.DataFrame) -> pl.DataFrame:
    """The refined questions, kept only where the duplicate screen kept them too (one it has not
    judged yet is held back)."""
    passed = kept(duplicates).select("record_id") if duplicates.height else pl.DataFrame(
        schema={"record_id": pl.String})
    return refined.with_columns((pl.col("kept") & pl.col("record_id").is_in(passed["record_id"].implode()))
                                .alias("kept")) if refined.height else refined


@kit_asset(
    group="cinepile",
    check_specs=(unique_ids_spec, provenance_spec,
                 named_check("videos_in_one_split", "no video has questions in both train and test"),
                 named_check("cinepile_fields", "5 choices, key at its position, CinePile's value types and "
                                                "category strings, a videoID")),
    description=(
        "The CinePile-shaped release of the refined questions (status fine or fixed) the duplicate screen "
        "kept, in CinePile's exact "
        "fields and types (movie_name, year, genre[], yt_clip_title, yt_clip_link, movie_scene, subtitles, "
        "question, choices[5], answer_key, answer_key_position 0-4, question_category (CinePile's five strings, "
        "line breaks included), hard_split 'True'/'False', visual_reliance '0'/'1', videoID) so lmms-eval's CinePile "
        "task reads it as is, plus identity and provenance: a row's parents are its refined "
        "question and its scene, its models those of the question's final version. `split` is train/test by a "
        "salted hash of the video id (config `test_share`), except that a category the test videos lack moves the "
        "train video with the lowest hash that has it into test (lmms-eval's aggregation needs every category); "
        "within each split the key takes every slot equally often (options rotated cyclically); hard_split is 'True' when the context-aware answerer "
        "with the full scene text gets the question wrong."
    ),
)
def cinepile_dataset(config: DatasetConfig, refined_questions: pl.DataFrame, question_duplicates: pl.DataFrame,
                     cinepile_scenes: pl.DataFrame):
    df = dataset_rows(unique_questions(refined_questions, question_duplicates), cinepile_scenes, config.test_share)
    splits = {s: int(n) for s, n in df.group_by("split").len().sort("split").rows()}
    per_cat = {label(s): int(n) for s, n in df.group_by("question_category").len().sort("question_category").rows()}
    yield versioned(df, {
        "dagster/row_count": df.height,
        "splits": dg.MetadataValue.json(splits),
        "videos_per_split": dg.MetadataValue.json(
            {s: int(n) for s, n in df.group_by("split").agg(pl.col("video_id").n_unique()).sort("split").rows()}),
        "hard_split_true": int((df["hard_split"] == "True").sum()),
        "videos_moved_to_test_for_coverage": dg.MetadataValue.json(sorted(
            {v for v, s in df.select("video_id", "split").iter_rows() if s != split_of(v, config.test_share)})),
        "key_slots": dg.MetadataValue.json({s: int(n) for s, n in
                                            df.group_by("answer_key_position").len().sort("answer_key_position").rows()}),
        "visual_reliance_1": int((df["visual_reliance"] == "1").sum()),
        "by_category": dg.MetadataValue.json(per_cat),
        "category_chart": bar_chart(per_cat, "questions per category") if per_cat else "none",
        "lmms_eval": dg.MetadataValue.json(lmms_eval_readiness(df)),
        "preview": preview(df, ["movie_name", "question", "choices", "answer_key", "question_category",
                                "hard_split", "split"]),
    })
    both = df.group_by("video_id").agg(pl.col("split").n_unique()).filter(pl.col("split") > 1).height
    yield dg.AssetCheckResult(check_name="videos_in_one_split", passed=both == 0, metadata={"videos_in_both": both})
    bad = df.filter(
        (pl.col("choices").list.len() != 5) | ~pl.col("answer_key_position").is_between(0, 4)
        | (pl.col("choices").list.get(pl.col("answer_key_position"), null_on_oob=True) != pl.col("answer_key"))
        | ~pl.col("hard_split").is_in(["True", "False"]) | ~pl.col("visual_reliance").is_in(["0", "1"])
        | ~pl.col("question_category").is_in(list(CATEGORIES.values())) | pl.col("videoID").is_null()
    ).height if df.height else 0
    yield dg.AssetCheckResult(check_name="cinepile_fields", passed=bad == 0 and df.schema == pl.Schema(DATASET_SCHEMA),
                              metadata={"bad_rows": bad})
    yield unique_ids(df)
    yield provenance_result(df)


@kit_asset(
    group="cinepile",
    kinds=("polars", "duckdb"),
    check_specs=(unique_ids_spec, provenance_spec),
    description=(
        "The CinePile leaderboard on the test split: micro accuracy (%) per model adapter overall, per "
        "question category and per hard split, with unparseable replies counted (as wrong). `accuracy` reads "
        "replies exactly as lmms-eval does (the headline); `accuracy_lenient` also reads 'B.', '(B)', 'The answer "
        "is B' and an option's text. A row's parents are the predictions it counts, its models the adapter's. "
        "Also a warehouse view `cinepile_leaderboard`."
    ),
)
def cinepile_leaderboard(cinepile_predictions: pl.DataFrame):
    df = leaderboard(cinepile_predictions)
    wide = df.pivot(on="adapter", index=["slice", "value"], values="accuracy") if df.height else df
    yield versioned(df, {
        "dagster/row_count": df.height,
        "table": dg.MetadataValue.md(markdown_table(wide, max_rows=20)),
        "overall": dg.MetadataValue.json({a: acc for a, acc in df.filter(pl.col("slice") == "overall")
                                          .select("adapter", "accuracy").rows()}),
        "overall_lenient": dg.MetadataValue.json({a: acc for a, acc in df.filter(pl.col("slice") == "overall")
                                                  .select("adapter", "accuracy_lenient").rows()}),
    })
    yield unique_ids(df)
    yield provenance_result(df)


@kit_asset(
    group="cinepile",
    kinds=("markdown",),
    check_specs=(provenance_spec,),
    description=(
        "The release's dataset card, Markdown (Hugging Face format) and JSON, in the media store: questions, "
        "videos, scene hours, splits, categories, hard split, licences of the source videos, the funnel from "
        "scenes to release, the refinement outcome, what each hygiene rule removed, models used (from the rows' `models`) "
        "and known limitations."
    ),
)
def cinepile_dataset_card(cinepile_dataset: pl.DataFrame, cinepile_scenes: pl.DataFrame,
                          scene_questions: pl.DataFrame, refined_questions: pl.DataFrame,
                          question_duplicates: pl.DataFrame, curated_selection: pl.DataFrame, media: MediaStore):
    licence = pl.col("license") if "license" in curated_selection.columns else pl.lit(None, pl.String)
    licences = curated_selection.select("video_id", licence.alias("license"))  # an external clip table has none
    data = card_data(cinepile_dataset, cinepile_scenes, scene_questions, refined_questions, licences)
    data["hygiene"] = hygiene_rows({"question_duplicates": (question_duplicates, [r.reason for r in RULES.rules()])})
    text = markdown(data) + hygiene_markdown(data["hygiene"])
    md_ref = media.put_bytes(text.encode("utf-8"), ".md")
    json_ref = media.put_bytes(json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8"), ".json")
    # the card describes the release as a whole: no record is its parent
    df = declare(pl.DataFrame({"record_id": [record_id("card", "cinepile_dataset")], "card_uri": [md_ref.uri],
                               "card_sha256": [md_ref.sha256], "card_json_uri": [json_ref.uri], "markdown": [text]}))
    yield versioned(df, {"dagster/row_count": 1, "questions": data["questions"],
                         "card_uri": uri_value(md_ref.uri),
                         "card_json_uri": uri_value(json_ref.uri),
                         "card": dg.MetadataValue.md(text)})
    yield provenance_result(df)
