"""The preference chain's device work as one entry point, `run_job(payload, workdir, device, log)`,
shared by the in-process and the Pipes launch (`assets/training/pipes.py`): on-policy caption
sampling for the pairs, DPO itself, and the AMBER-style evaluation. No Dagster here.

Files in, files out, as in `mllm_jobs`: frames as Parquet, models as local paths; the DPO model
comes back as `model.safetensors`, evaluation rows as `rows.json`, and the summary is plain JSON.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

from assets.training import digit_scenes as ds
from assets.training.checkpoints import load_model, scene_pixels
from assets.training.mllm_config import budget
from assets.training.mllm_jobs import MODEL, ROWS, plain
from assets.training.scene_frames import scenes_from_frame
from resources.torch_device import resolve_dtype

CAPTION_QUESTION = ds.CAPTION_PROMPTS[0]


def run_job(payload: dict, workdir: str | Path, device="cpu", log: Callable[[str], None] = print) -> dict:
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    jobs = {"sample_captions": _sample_captions, "dpo": _dpo, "amber": _amber}
    if payload["job"] not in jobs:
        raise ValueError(f"unknown preference job {payload['job']!r}")
    return plain(jobs[payload["job"]](payload, workdir, device, log))


def _sample_captions(p: dict, workdir: Path, device, log) -> dict:
    """`samples` captions per scene from the policy at `temperature`, scene by scene."""
    import time

    from assets.training.mllm_training import answer_questions

    model, tok, processor, n_img = load_model(p["policy"], device)
    frame = pl.read_parquet(p["scenes"])
    pixels = scene_pixels(processor, frame)
    k = p["samples"]
    reps = [i for i in range(frame.height) for _ in range(k)]
    log(f"sampling {k} captions for each of {frame.height} scenes at temperature {p['temperature']}")
    start = time.perf_counter()
    samples = answer_questions(model, tok, pixels[reps], [CAPTION_QUESTION] * len(reps), n_img, max_new_tokens=40,
                               temperature=p["temperature"], seed=p["seed"], device=device)
    return {"samples": [samples[i * k:(i + 1) * k] for i in range(frame.height)],
            "sampling_seconds": time.perf_counter() - start}


def pairs_of(pairs: pl.DataFrame, labels: str) -> pl.DataFrame:
    """The rows that make a pair under `labels`: `labeler` (chosen / rejected) or `oracle`
    (the same samples ranked by the annotation: oracle_chosen / oracle_rejected)."""
    if labels == "oracle":
        pairs = pairs.drop("chosen", "rejected").rename({"oracle_chosen": "chosen", "oracle_rejected": "rejected"})
    elif labels != "labeler":
        raise ValueError(f"unknown preference labels {labels!r}")
    return pairs.filter(pl.col("chosen").is_not_null() & pl.col("rejected").is_not_null())


def _dpo(p: dict, workdir: Path, device, log) -> dict:
    """TRL's DPOTrainer on the `pref` pairs (`labels`: labeler or oracle) with the plan's batch and
    checkpointing and the loss's SFT weight (`sft_weight`, 0 = pure sigmoid DPO), then the implicit
    reward of the merged policy against the starting one on the held-out pairs."""
    import torch

    from assets.training import dpo
    from assets.training.mllm_components import pixel_values, save_checkpoint
    from assets.training.prompt_format import answer_text, prompt_text

    b = budget(p["profile"])
    device = torch.device(device)
    model, tok, processor, n_img = load_model(p["policy"], device)
    # bf16 where the plan needs it or the settings ask for it (auto: bf16 on a CUDA card that has it).
    bf16 = device.type == "cuda" and (p["precision"] == "bf16" or resolve_dtype(p["dtype"], device) == torch.bfloat16)
    if bf16:
        model = model.to(torch.bfloat16)
    pairs = pairs_of(pl.read_parquet(p["pairs"]), p["labels"])
    sft_weight = p["sft_weight"]
    train_rows = pairs.filter(pl.col("origin_split") == "pref").to_dicts()
    if not train_rows:
        raise ValueError(f"no {p['labels']} preference pair to train on")
    log(f"DPO: {b.dpo_steps} steps x batch {p['batch']} (x{p['accumulation']}) on {len(train_rows)} {p['labels']} "
        f"pairs, {dpo.loss_name(sft_weight)}")
    with tempfile.TemporaryDirectory() as trainer_dir:
        merged, logs, summary = dpo.train_dpo(
            model, processor, train_rows, steps=b.dpo_steps, batch_size=p["batch"], grad_accumulation=p["accumulation"],
            lr=b.dpo_lr, beta=b.dpo_beta, lora=dpo.lora_config(b.lora_rank, b.lora_alpha), seed=p["seed"],
            workdir=trainer_dir, bf16=bf16, gradient_checkpointing=p["gradient_checkpointing"],
            use_cpu=device.type == "cpu", logging_steps=max(1, b.dpo_steps // 20), sft_weight=sft_weight)
    merged = merged.float().eval()
    test_rows = pairs.filter(pl.col("origin_split") == "test")
    held_out = {}
    if test_rows.height:
        reference, *_ = load_model(p["policy"], device)
        px = pixel_values(processor, test_rows["image"].to_list())
        prompts = [prompt_text(q, True) for q in test_rows["question"]]
        chosen = [answer_text(c) for c in test_rows["chosen"]]
        rejected = [answer_text(r) for r in test_rows["rejected"]]
        logps = {name: dpo.completion_logps(m, tok, px, prompts, comp, n_img, device=device)
                 for name, m, comp in (("pc", merged, chosen), ("pr", merged, rejected),
                                       ("rc", reference, chosen), ("rr", reference, rejected))}
        held_out = dpo.dpo_terms(logps["pc"], logps["pr"], logps["rc"], logps["rr"], b.dpo_beta)
    dims = p["policy"]["dims"]
    save_checkpoint(merged, str(workdir / MODEL), {"dims": json.loads(dims) if dims else None, "dpo": summary})
    return {"summary": summary, "held_out": held_out, "logs": logs, "bf16": bf16, "train_pairs": len(train_rows),
            "held_out_pairs": test_rows.height, "loss": dpo.loss_name(sft_weight), "labels": p["labels"]}


def amber_scores(model, tok, processor, n_img: int, scenes: list[ds.Scene], test_df: pl.DataFrame, seed: int,
                 device) -> tuple[dict, list[dict]]:
    """AMBER's scores and one row per item: a caption per scene (`item` 0) and the scene's yes/no
    existence probes (`item` 0, 1, ... in the order `existence_probes` draws them)."""
    from assets.training import hallucination as hl
    from assets.training.mllm_metrics import caption_correct
    from assets.training.mllm_training import answer_questions

    pixels = scene_pixels(processor, test_df)
    captions = answer_questions(model, tok, pixels, [CAPTION_QUESTION] * len(scenes), n_img, max_new_tokens=40,
                                device=device)
    objects = hl.chair_scores([hl.caption_objects(c) for c in captions], [s.classes for s in scenes])
    located = hl.chair_scores([set(ds.parse_caption(c)) for c in captions],
                              [{(p.digit, p.position) for p in s.digits} for s in scenes])
    probes = hl.existence_probes(scenes, seed)
    answers = answer_questions(model, tok, pixels[[i for i, _, _ in probes]], [q for _, q, _ in probes], n_img,
                               max_new_tokens=4, device=device)
    yn = hl.yes_no_scores(answers, [t for _, _, t in probes])
    scores = {"CHAIR": objects.chair, "Cover": objects.cover, "Hal": objects.hal,
              "CHAIR_loc": located.chair, "position_error_rate": hl.position_error_rate(captions, scenes),
              "caption_accuracy": sum(caption_correct(c, s) for c, s in zip(captions, scenes, strict=True)) / len(scenes),
              "yes_no_accuracy": yn.accuracy, "yes_no_f1_no": yn.f1_no, "yes_no_unparsed": yn.unparsed,
              "mentions": objects.mentions, "hallucinated_mentions": objects.hallucinated}
    rows = [{"task": "caption", "scene_id": s.scene_id, "item": 0, "question": CAPTION_QUESTION,
             "truth": ds.caption(s), "prediction": c, "hallucinated": sorted(hl.caption_objects(c) - s.classes)}
            for s, c in zip(scenes, captions, strict=True)]
    seen: dict[int, int] = {}
    for (i, q, t), a in zip(probes, answers, strict=True):
        item = seen[i] = seen.get(i, -1) + 1
        rows.append({"task": "yes_no", "scene_id": scenes[i].scene_id, "item": item, "question": q, "truth": t,
                     "prediction": a, "hallucinated": []})
    return scores, rows


def _amber(p: dict, workdir: Path, device, log) -> dict:
    """AMBER-style scores of each model in `models` on the test scenes; rows per model in rows.json."""
    test_df = pl.read_parquet(p["scenes"])
    scenes = scenes_from_frame(test_df)
    scores, rows = {}, {}
    for name, files in p["models"].items():
        model, tok, processor, n_img = load_model(files, device)
        scores[name], rows[name] = amber_scores(model, tok, processor, n_img, scenes, test_df, p["seed"], device)
        log(f"{name}: CHAIR {scores[name]['CHAIR']:.3f}, Cover {scores[name]['Cover']:.3f}")
    (workdir / ROWS).write_text(json.dumps(rows))
    return {"scores": scores}
