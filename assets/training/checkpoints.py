"""Trained models as one-row frames (the MLLM components and stages, the DPO model), and back.

A model asset's row holds its checkpoint in the media store (`checkpoint_uri` +
`checkpoint_sha256`, a safetensors file with the config in its header), the tokenizer and
production folder it carries over, its sizes (`dims`) and training figures (`metrics`).

Identity (assets.kit.identity): a checkpoint's record is `<component>:<sha256 of its file>`
(`stage2:9f2c…`): the same bytes are the same model, two trainings that differ are two records.
A base model taken from a local pretrained folder is `base_model:<source key of the folder>`.
`parent_ids` are the artifacts a model starts from (tokenizer, encoder and decoder, the previous
stage); the data it was trained on is the upstream split its asset names in metadata. A row that
evaluates or samples a model names it in `models` (`evaluated_by` / `model_used`), with the
checkpoint's sha256 as fingerprint.

Pure logic: polars; torch and transformers are imported inside the loaders.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from assets.kit.identity import record_id, record_id_expr, source_key
from assets.kit.provenance import declare, model_entry, models_series
from assets.training.mllm_config import ModelDims

if TYPE_CHECKING:
    from resources.storage import MediaStore

MODEL_BACKEND = "torch"


def checkpoint_id(component: str, sha256: str) -> str:
    return record_id(component, sha256)


def pretrained_source(path: str) -> str:
    """The source key of a local pretrained checkpoint folder (production `pretrained_path`)."""
    return source_key("pretrained_checkpoint", path)


def model_row(component: str, uri: str | None, sha: str | None, size: int | None, parent_row: dict | None,
              dims: ModelDims | None, profile: str, parents: list[str], metrics: dict | None = None,
              rid: str | None = None) -> pl.DataFrame:
    """One-row frame of a model asset; the tokenizer and the production checkpoint folder carry
    over from the parent row (the tokenizer asset or the model it was trained from)."""
    parent_row = parent_row or {}
    df = pl.DataFrame([{
        "record_id": rid or checkpoint_id(component, sha), "component": component, "checkpoint_uri": uri,
        "checkpoint_sha256": sha, "checkpoint_bytes": size, "tokenizer_uri": parent_row.get("tokenizer_uri"),
        "dims": json.dumps(dims.as_dict()) if dims is not None else None, "profile": profile,
        "pretrained_path": parent_row.get("pretrained_path"), "metrics": json.dumps(metrics or {}, default=float),
        "_parents": parents,
    }], schema_overrides={"checkpoint_uri": pl.String, "checkpoint_sha256": pl.String, "checkpoint_bytes": pl.Int64,
                          "tokenizer_uri": pl.String, "dims": pl.String, "pretrained_path": pl.String,
                          "_parents": pl.List(pl.String)})
    return declare(df, parents=["_parents"]).drop("_parents")


def model_used(role: str, row: dict) -> dict[str, str]:
    """The `models` entry naming a checkpoint row (role: evaluated, policy, ...)."""
    return model_entry(role, MODEL_BACKEND, row["record_id"], fingerprint=row.get("checkpoint_sha256") or "")


def evaluated_by(row: dict) -> dict[str, str]:
    return model_used("evaluated", row)


def evaluation_frame(namespace: str, rows: list[dict], variant: tuple[str, str], id_columns: list[str],
                     parent: str, model: dict, schema_overrides: dict | None = None) -> pl.DataFrame:
    """One model's evaluation rows under the contract: `variant` = (column, value) names the model
    in the asset (`stage` = stage2, `variant` = after_dpo), the record is
    `<namespace>:<id columns...>`, the parent is the test item (`parent` column) and `models` is
    the evaluated checkpoint."""
    column, value = variant
    df = pl.DataFrame(rows, infer_schema_length=None, schema_overrides=schema_overrides).with_columns(
        pl.lit(value).alias(column))
    df = df.select(record_id_expr(namespace, *id_columns).alias("record_id"), pl.all(),
                   models_series([[evaluated_by(model)]] * df.height, "_models"))
    return declare(df, parents=[parent], models=["_models"]).drop("_models")


def dims_of(row: dict) -> ModelDims | None:
    return ModelDims(**json.loads(row["dims"])) if row.get("dims") else None


def load_model_row(media: MediaStore, row: dict, device="cpu"):
    """(model, tokenizer, processor, image tokens) of a frame row written by a model asset."""
    return load_model(model_files(row, media.local_path), device)


def model_files(row: dict, local_path: Callable[[str], Path]) -> dict:
    """What a job needs to load a model row (an MLLM or DPO asset's row): local file paths."""
    return {"checkpoint": str(local_path(row["checkpoint_uri"])) if row.get("checkpoint_uri") else None,
            "tokenizer": str(local_path(row["tokenizer_uri"])) if row.get("tokenizer_uri") else None,
            "dims": row.get("dims"), "pretrained_path": row.get("pretrained_path")}


def load_model(files: dict, device="cpu"):
    """(model, tokenizer, processor, image tokens) from `model_files`."""
    from assets.training import mllm_components as mc

    if files.get("pretrained_path"):  # production: processor from the local checkpoint folder
        from transformers import AutoProcessor

        processor = AutoProcessor.from_pretrained(files["pretrained_path"], local_files_only=True)
        if files.get("checkpoint"):
            model = mc.load_checkpoint(files["checkpoint"], device)
        else:
            model, _ = mc.load_pretrained_llava(files["pretrained_path"], device)
        return model, processor.tokenizer, processor, count_image_tokens(processor)
    model = mc.load_checkpoint(files["checkpoint"], device)
    tokenizer = mc.wrap_tokenizer(Path(files["tokenizer"]).read_text())
    dims = ModelDims(**json.loads(files["dims"]))
    return model, tokenizer, mc.build_processor(tokenizer, dims), dims.image_tokens


def count_image_tokens(processor) -> int:
    from PIL import Image

    image_token = getattr(processor, "image_token", "<image>")
    out = processor(images=[Image.new("RGB", (64, 64))], text=[image_token], return_tensors="pt")
    token_id = processor.tokenizer.convert_tokens_to_ids(image_token)
    return int((out["input_ids"] == token_id).sum())


def scene_pixels(processor, df: pl.DataFrame, split: str | None = None):
    from assets.training.mllm_components import pixel_values

    rows = df if split is None else df.filter(pl.col("split") == split)
    return pixel_values(processor, rows["image_png"].to_list())
