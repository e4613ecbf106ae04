"""The MLLM chain's device work as one entry point, `run_job(payload, workdir, device, log)`,
shared by the in-process launch and the Pipes launch (`assets/training/pipes.py`), as the sCM
jobs are: component pretraining, base-model assembly, the two stages, the held-out evaluation.
No Dagster here.

Inputs travel as files, so the job runs the same in a GPU pod: frames as Parquet and checkpoints
as local paths (`payload`); a trained model comes back as `model.safetensors` in `workdir`,
row-shaped results as `rows.json`; the summary is plain JSON (round-tripped here, so both
launches hand the asset the same types).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

from assets.training import digit_scenes as ds
from assets.training.checkpoints import load_model
from assets.training.mllm_config import budget
from assets.training.scene_frames import conversations_from_frame, scenes_from_frame
from resources.torch_device import autocast_dtype

MODEL = "model.safetensors"
ROWS = "rows.json"


def frozen_digest(model, parts: set[str]) -> str:
    """sha256 over the bytes of every parameter in `parts` (proof that frozen weights did not move)."""
    from assets.training.mllm_components import part_of

    h = hashlib.sha256()
    for name, p in sorted(model.state_dict().items()):
        if part_of(name) in parts:
            h.update(name.encode())
            h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def plain(summary: dict) -> dict:
    """The summary as JSON gives it back (tuples become lists), whichever launch ran the job."""
    return json.loads(json.dumps(summary, default=float))


def mixture(convs: list[ds.Conversation], repeat: dict[str, int]) -> list[ds.Conversation]:
    """The stage's training set: every conversation, and each single-turn question whose type is in
    `repeat` that many times in all (a data-mixture weight: boxes need more examples than yes/no)."""
    return convs + [c for c in convs if c.kind == "qa" for _ in range(repeat.get(c.turns[0].qtype, 1) - 1)]


def run_job(payload: dict, workdir: str | Path, device="cpu", log: Callable[[str], None] = print) -> dict:
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    jobs = {"vision_encoder": _vision_encoder, "text_decoder": _text_decoder, "base_model": _base_model,
            "stage": _stage, "evaluate": _evaluate}
    if payload["job"] not in jobs:
        raise ValueError(f"unknown MLLM job {payload['job']!r}")
    return plain(jobs[payload["job"]](payload, workdir, device, log))


def _vision_encoder(p: dict, workdir: Path, device, log) -> dict:
    from assets.training import mllm_components as mc

    b = budget(p["profile"])
    images = ds.digit_images()
    sampler = mc.SceneSampler(ds.load_digit_pool(p["seed"])["train"], images, b.dims.patch_size, p["seed"])
    held_out = mc.scenes_to_tensors(scenes_from_frame(pl.read_parquet(p["scenes"]), "test"), images,
                                    b.dims.patch_size)
    log(f"vision encoder: {b.encoder_steps} steps x batch {b.encoder_batch} on random train-digit scenes")
    enc, metrics = mc.pretrain_vision_encoder(sampler, b.dims, b.encoder_steps, b.encoder_batch, b.encoder_lr,
                                              p["seed"], device, eval_set=held_out)
    mc.save_checkpoint(enc, str(workdir / MODEL), {"metrics": metrics})
    return {"parameters": sum(x.numel() for x in enc.parameters()), "metrics": metrics}


def _text_decoder(p: dict, workdir: Path, device, log) -> dict:
    from assets.training import mllm_components as mc

    b = budget(p["profile"])
    tok = mc.wrap_tokenizer(Path(p["tokenizer"]).read_text())
    scenes = {s.scene_id: s for s in scenes_from_frame(pl.read_parquet(p["scenes"]))}
    dialogues = pl.read_parquet(p["dialogues"])
    texts = mc.decoder_corpus(conversations_from_frame(dialogues, "train"), scenes)
    held_out = mc.decoder_corpus(conversations_from_frame(dialogues, "test"), scenes)[:500]
    log(f"text decoder: {b.decoder_steps} steps x batch {b.decoder_batch} on {len(texts)} dialogue texts")
    lm, metrics = mc.pretrain_text_decoder(tok, texts, b.dims, b.decoder_steps, b.decoder_batch, b.decoder_lr,
                                           p["seed"], device, eval_texts=held_out)
    mc.save_checkpoint(lm, str(workdir / MODEL), {"metrics": metrics})
    return {"architecture": type(lm).__name__, "parameters": sum(x.numel() for x in lm.parameters()),
            "metrics": metrics}


def _base_model(p: dict, workdir: Path, device, log) -> dict:
    from assets.training import mllm_components as mc

    if p.get("pretrained_path"):
        model, _ = mc.load_pretrained_llava(p["pretrained_path"])
        return {"counts": mc.parameter_counts(model)}
    b = budget(p["profile"])
    tok = mc.wrap_tokenizer(Path(p["tokenizer"]).read_text())
    enc, dec = mc.load_checkpoint(p["encoder"]), mc.load_checkpoint(p["decoder"])
    model = mc.assemble_llava(enc, dec, tok, b.dims, seed=p["seed"])
    mc.save_checkpoint(model, str(workdir / MODEL), {"dims": b.dims.as_dict()})
    return {"counts": mc.parameter_counts(model), "decoder": type(dec).__name__,
            "config": json.loads(model.config.to_json_string())}


def _stage(p: dict, workdir: Path, device, log) -> dict:
    """One training stage: the parts in `lrs` train on the train-split conversations of `kinds`
    (single-turn questions of a type in `repeat` that many times over); the digest of the parts named in
    `frozen` is taken before and after."""
    from assets.training import mllm_components as mc
    from assets.training.checkpoints import scene_pixels
    from assets.training.mllm_training import encode_set, train_llava

    model, tok, processor, n_img = load_model(p["model"], device)
    train = pl.read_parquet(p["scenes"]).filter(pl.col("split") == "train")
    index = {sid: i for i, sid in enumerate(train["record_id"].to_list())}
    convs = [c for c in conversations_from_frame(pl.read_parquet(p["dialogues"]), "train") if c.kind in p["kinds"]]
    convs = mixture(convs, p.get("repeat", {}))
    data = encode_set(tok, [[(t.question, t.answer) for t in c.turns] for c in convs],
                      [index[c.scene_id] for c in convs], n_img)
    pixels = scene_pixels(processor, train)
    frozen = set(p["frozen"])
    before = frozen_digest(model, frozen) if frozen else None
    log(f"{p['name']}: {p['steps']} steps x batch {p['batch']} on {len(data)} conversations, lrs {p['lrs']}")
    stats = train_llava(model, data, pixels, p["lrs"], p["steps"], p["batch"], p["seed"], tok.pad_token_id,
                        device, autocast_dtype(p["dtype"], device))
    mc.save_checkpoint(model, str(workdir / MODEL), {"dims": json.loads(p["model"]["dims"]) if p["model"]["dims"]
                                                     else None})
    return {**stats, "train_conversations": len(data), "frozen_sha256_before": before,
            "frozen_sha256_after": frozen_digest(model, frozen) if frozen else None}


def _evaluate(p: dict, workdir: Path, device, log) -> dict:
    """Each model in `models` (name -> model files) on the test scenes' conversations; rows per
    model in rows.json, the summary per model returned."""
    import time

    from assets.training.checkpoints import scene_pixels
    from assets.training.intervals import means, scene_bootstrap
    from assets.training.mllm_metrics import evaluate, modality_scores, summary_intervals

    test_df = pl.read_parquet(p["scenes"])
    scenes = scenes_from_frame(test_df)
    keep = set(test_df["record_id"].to_list())
    convs = [c for c in conversations_from_frame(pl.read_parquet(p["dialogues"]), "test") if c.scene_id in keep]
    summary, rows, intervals = {}, {}, {}
    for name, files in p["models"].items():
        start = time.perf_counter()
        model, tok, processor, n_img = load_model(files, device)
        pixels = scene_pixels(processor, test_df)
        summary[name], rows[name] = evaluate(model, tok, pixels, scenes, convs, n_img, device)
        modal, modal_rows = modality_scores(model, tok, pixels, scenes, convs, n_img, device)
        summary[name].update(modal)
        summary[name]["eval_seconds"] = time.perf_counter() - start
        intervals[name] = {**summary_intervals(rows[name], p["seed"]), **scene_bootstrap(modal_rows, means, seed=p["seed"])}
        log(f"{name}: QA {summary[name].get('qa_accuracy', float('nan')):.3f} on {len(convs)} conversations")
    (workdir / ROWS).write_text(json.dumps(rows))
    return {"scores": summary, "intervals": intervals}
