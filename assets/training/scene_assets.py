"""The digit-scenes world as assets: `digit_scenes` -> `digit_scene_dialogues` (RECIPES section 6).

Thin wrappers over `digit_scenes.py`. Scene images are small PNGs (72x72, ~0.3 kB) kept inline in
the `image_png` column with their sha256. The number of scenes and the caption noise come from the
training profile (config `profile`, else MMFOUNDRY_TRAINING_PROFILE): a run setting recorded in
each output's metadata, not part of the code version.

Identity and provenance: a scene is `digit_scene:<split>:<seed>:<n>` with the sklearn digits it
was drawn from as parents (`sklearn_digits:<row>`); a conversation nests its scene's id and names
the scene as its parent.
"""

import hashlib

import dagster as dg
import polars as pl
from pydantic import Field

from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec
from assets.kit.metadata import png_markdown, preview
from assets.kit.provenance import declare
from assets.training import digit_scenes as ds
from assets.training.mllm_config import budget_for
from assets.training.scene_frames import scenes_from_frame
from assets.training.training_charts import scene_grid_figure
from resources.gpu import GPUResource


class SceneConfig(dg.Config):
    profile: str = Field(default="", description="fast | default | large; empty: MMFOUNDRY_TRAINING_PROFILE.")


def _budget_meta(b) -> dict:
    return {"profile": b.profile, "budget": dg.MetadataValue.json(b.as_dict())}


@kit_asset(
    group="training", kinds={"polars", "scikit-learn"}, check_specs=(provenance_spec,),
    description=(
        "Digit scenes: 1 to 3 of scikit-learn's 8x8 handwritten digits placed in a 3x3 grid on a 36x36 "
        "canvas (random offset inside each cell), with captions, bounding boxes and reading order. Splits "
        "train (SFT), pref (preference data) and test use disjoint parts of the sklearn digits. Balanced digit "
        "counts and classes, duplicate layouts removed. Images are inline 2x PNGs (`image_png`, sha256 beside "
        "it). Each scene's parents are the sklearn digits drawn into it."
    ),
)
def digit_scenes(context: dg.AssetExecutionContext, config: SceneConfig, gpu: GPUResource):
    b = budget_for(config.profile)
    pool = ds.load_digit_pool(gpu.seed)
    images = ds.digit_images()
    rows, dropped = [], {}
    for split, n in (("train", b.train_scenes), ("pref", b.pair_scenes), ("test", b.test_scenes)):
        scenes, dropped[split] = ds.generate_scenes(n, split, pool[split], gpu.seed)
        for s in scenes:
            png = ds.png_bytes(ds.render(s, images, b.render_scale))
            rows.append({
                "record_id": s.scene_id, "split": split, "n_digits": len(s.digits),
                "digits": [p.digit for p in s.digits], "cells": [p.cell for p in s.digits],
                "positions": [p.position for p in s.digits], "xs": [p.x for p in s.digits],
                "ys": [p.y for p in s.digits], "bboxes": [list(p.bbox) for p in s.digits],
                "source_indices": [p.source_index for p in s.digits],
                "source_keys": [ds.digit_source_key(p.source_index) for p in s.digits],
                "caption": ds.caption(s), "reading": ds.read_answer(s), "grid": ds.grid_text(s),
                "image_png": png, "image_sha256": hashlib.sha256(png).hexdigest(),
                "seed": gpu.seed, "profile": b.profile,
            })
    df = declare(pl.DataFrame(rows), parents=["source_keys"]).drop("source_keys")
    train = df.filter(pl.col("split") == "train")
    classes = train.select(pl.col("digits").explode()).to_series().value_counts().sort("digits")
    sample = train.head(8)
    yield versioned(df, {
        "dagster/row_count": df.height,
        "scenes_by_split": dg.MetadataValue.json({s: int(n) for s, n in df.group_by("split").len().iter_rows()}),
        "digits_per_scene": dg.MetadataValue.json(
            {str(k): int(v) for k, v in train.group_by("n_digits").len().sort("n_digits").iter_rows()}),
        "digit_class_counts": dg.MetadataValue.json({str(k): int(v) for k, v in classes.iter_rows()}),
        "duplicate_layouts_dropped": sum(dropped.values()),
        **_budget_meta(b),
        "preview": preview(df, ["record_id", "split", "caption", "reading", "grid", "bboxes"]),
        "sample_grid": png_markdown(scene_grid_figure(sample["image_png"].to_list(), sample["caption"].to_list(),
                                                      "digit scenes"), "digit scenes"),
    })
    yield provenance_result(df)


@kit_asset(
    group="training", kinds={"polars"}, check_specs=(provenance_spec,),
    description=(
        "Conversations about each digit scene: a caption, counting, existence (half yes, half no), "
        "grounding (where is the 7 -> [x0, y0, x1, y1] in pixels of the 36x36 model input), region (what is at "
        "the center -> a digit or nothing, half empty cells), OCR (read the digits left to right), and a "
        "multi-turn dialogue of 2-3 of those. Question wording drawn from paraphrases. Captions are as "
        "collected: at the profile's `caption_noise` rate a captioner bias adds a co-occurring digit that is "
        "not there (1 with 7, 8 with 3); `caption_faithful` and each turn's `noise` mark them. One row per "
        "conversation; its parent is its scene (`scene_id`)."
    ),
)
def digit_scene_dialogues(context: dg.AssetExecutionContext, config: SceneConfig, gpu: GPUResource,
                          digit_scenes: pl.DataFrame):
    b = budget_for(config.profile)
    rows = []
    for scene in scenes_from_frame(digit_scenes):
        for c in ds.conversations(scene, gpu.seed, dialogues=b.dialogues_per_scene, caption_noise=b.caption_noise):
            rows.append({
                "record_id": c.record_id, "scene_id": c.scene_id, "split": scene.split, "kind": c.kind,
                "n_turns": len(c.turns), "qtypes": [t.qtype for t in c.turns],
                "turns": [{"qtype": t.qtype, "question": t.question, "answer": t.answer, "target": t.target,
                           "noise": t.noise} for t in c.turns],
                "caption_faithful": not any(t.noise for t in c.turns),
                "text": " | ".join(f"Q: {t.question} A: {t.answer}" for t in c.turns),
            })
    df = declare(pl.DataFrame(rows), parents=["scene_id"])
    single = df.filter(pl.col("kind") != "dialogue").with_columns(pl.col("qtypes").list.first().alias("qtype"))
    exist = df.filter(pl.col("kind") == "qa").explode("turns").unnest("turns").filter(pl.col("qtype") == "exist")
    captions = df.filter(pl.col("kind") == "caption")
    yield versioned(df, {
        "caption_noise_rate": b.caption_noise,
        "captions_with_invented_digit": int((~captions["caption_faithful"]).sum()),
        "captions_total": captions.height,
        "dagster/row_count": df.height,
        **_budget_meta(b),
        "by_kind": dg.MetadataValue.json({k: int(n) for k, n in df.group_by("kind").len().iter_rows()}),
        "single_turn_by_type": dg.MetadataValue.json(
            {k: int(n) for k, n in single.group_by("qtype").len().sort("qtype").iter_rows()}),
        "existence_answers": dg.MetadataValue.json(
            {k: int(n) for k, n in exist.group_by("answer").len().iter_rows()}),
        "preview": preview(df.filter(pl.col("kind") == "dialogue"), ["record_id", "kind", "text"]),
    })
    yield provenance_result(df)
