"""MLLM two-stage training, DPO and hallucination figures: materializes the training chain (default
profile unless MMFOUNDRY_BENCH_PROFILE says otherwise) into a temporary storage root with a
temporary instance, then prints what the assets measured.

    .venv/bin/python -m bench.run_all mllm
    MMFOUNDRY_BENCH_PROFILE=fast .venv/bin/python -m bench.bench_mllm

Tables: caption / QA / bbox / dialogue figures of the assembled model, stage 1 and stage 2 on
held-out scenes; the independent labeler's error and its agreement with the annotation on the
sampled claims, and the pairs it made; DPO rewards (TRL's training log and held-out pairs);
AMBER-style CHAIR, Cover, Hal and yes/no accuracy and F1 before and after DPO; the ablation (oracle
pairs, pure sigmoid DPO) beside it; 95% intervals from resampling whole held-out scenes (paired where
two models are compared); each goal met or not; wall-clock seconds per asset. Figures
only: no assertion, no timing threshold.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time

CHAIN = ["digit_scenes", "digit_scene_dialogues", "mllm_tokenizer", "mllm_vision_encoder", "mllm_text_decoder",
         "mllm_base_model", "mllm_stage1", "mllm_stage2", "mllm_eval", "preference_labeler", "preference_pairs",
         "memory_plan", "dpo_model", "hallucination_eval", "dpo_ablation"]
EVAL_ROWS = ("caption_accuracy", "caption_claim_f1", "qa_accuracy", "count_accuracy", "exist_accuracy", "what_at_accuracy",
             "read_accuracy", "bbox_iou", "bbox_acc50", "dialogue_turn_accuracy", "dialogue_all_correct",
             "text_only_qa_accuracy", "text_only_caption_accuracy", "image_only_caption_accuracy")
DPO_KEYS = ("loss", "rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected")
AMBER_ROWS = ("CHAIR", "Cover", "Hal", "CHAIR_loc", "position_error_rate", "caption_accuracy", "yes_no_accuracy",
              "yes_no_f1_no")


def _table(header: tuple[str, ...], rows: list[tuple]) -> None:
    cells = [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print()


def _step_seconds(instance, run_ids: list[str]) -> dict[str, float]:
    import dagster as dg

    out: dict[str, float] = {}
    for run_id in run_ids:
        for rec in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS):
            ev = rec.dagster_event
            out[ev.step_key] = ev.event_specific_data.duration_ms / 1000.0
    return out


def run(profile: str) -> dict:
    """Materialize the chain; return metadata per asset and seconds per step."""
    import dagster as dg

    with tempfile.TemporaryDirectory(prefix="bench_mllm_") as tmp:
        os.environ.update({"MMFOUNDRY_DEPLOYMENT": "local", "MMFOUNDRY_DATA": f"{tmp}/data",
                           "MMFOUNDRY_LANDING": f"{tmp}/landing", "MMFOUNDRY_TRAINING_PROFILE": profile})
        os.environ.pop("MMFOUNDRY_WAREHOUSE", None)
        os.environ.pop("MMFOUNDRY_CACHE", None)
        from definitions import build_definitions
        from scripts.materialize import materialize_graph

        defs = build_definitions()
        with dg.instance_for_test() as instance:
            start = time.perf_counter()
            result = materialize_graph(defs, instance, selection=[dg.AssetKey(n) for n in CHAIN])
            total = time.perf_counter() - start
            if not result.success:
                raise SystemExit(f"bench_mllm: chain failed: {result.runs[-1].error}")
            meta = {}
            for name in CHAIN:
                rec = instance.fetch_materializations(dg.AssetKey(name), limit=1).records[0]
                meta[name] = {k: getattr(v, "value", v) for k, v in rec.asset_materialization.metadata.items()}
            seconds = _step_seconds(instance, [r.run_id for r in result.runs])
    return {"meta": meta, "seconds": seconds, "total": total}


def main() -> None:
    profile = os.environ.get("MMFOUNDRY_BENCH_PROFILE", "default")
    load = os.getloadavg()
    print(f"profile {profile}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"MMFOUNDRY_TORCH_THREADS={os.environ.get('MMFOUNDRY_TORCH_THREADS', '0 (all)')}; "
          f"load average at start {load[0]:.1f} (a shared machine makes every time longer)")
    out = run(profile)
    meta, seconds = out["meta"], out["seconds"]

    enc, dec = meta["mllm_vision_encoder"], meta["mllm_text_decoder"]
    print(f"\ncomponents: vision encoder digit-patch accuracy {enc['digit_patch_accuracy']:.3f} "
          f"(held-out), decoder {dec['architecture']} held-out perplexity {dec['eval_perplexity']:.3f}\n")

    from assets.training.intervals import formatted

    ev = meta["mllm_eval"]
    ci = ev["intervals"]
    print(f"MLLM on {ev['eval_scenes']} held-out scenes (95% intervals: 1,000 resamplings of whole scenes)")
    _table(("metric", "assembled", "stage 1", "stage 2"),
           [(m, *(formatted(ev.get(f"{s}/{m}", float("nan")), ci[s].get(m)) for s in ("base", "stage1", "stage2")))
            for m in EVAL_ROWS])

    dpo = meta["dpo_model"]
    print(f"DPO ({dpo['trainer']}, peft {dpo['peft']}, LoRA r={dpo['lora_rank']}, beta {dpo['beta']}, "
          f"sft weight {dpo['sft_weight']}, {dpo['train_pairs']} pairs, batch {dpo['batch_size']} x "
          f"accumulation {dpo['grad_accumulation']})")
    _table(("metric", "train (TRL, last log)", "held-out pairs"),
           [(k, dpo.get(f"train/{k}", float("nan")), dpo.get(f"held_out/{k}", float("nan"))) for k in DPO_KEYS])

    am = meta["hallucination_eval"]
    print(f"AMBER-style hallucination on {am['scenes']} held-out scenes")
    _table(("metric", "before DPO", "after DPO", "change"),
           [(m, am[f"before/{m}"], am[f"after/{m}"], am[f"after/{m}"] - am[f"before/{m}"]) for m in AMBER_ROWS])
    print(f"CHAIR relative reduction {formatted(am['chair_relative_reduction'], am['chair_relative_reduction_ci95'])}, "
          f"Cover change {formatted(am['cover_change_points'], am['cover_change_points_ci95'], 1)} points "
          "(paired 95% intervals: the same resampled scenes before and after)\n")

    lab, pairs = meta["preference_labeler"], meta["preference_pairs"]
    print(f"independent labeler (cell classifier, {lab['trained_cells']} training cells of its own scenes): "
          f"cell error {lab['cell_error']:.4f}, digit cells {lab['digit_cell_error']:.4f}, digit read as another "
          f"{lab['digit_read_as_other_digit']:.4f} on {lab['cells']} cells of unseen (test) digits")
    print(f"on the sampled claims against the annotation: {pairs['labeler_claim_agreement']}")
    print(f"pairs: {pairs['train_pairs']} train (oracle on the same samples: {pairs['oracle_train_pairs']}), "
          f"{pairs['test_pairs']} held out, {pairs['scenes_without_pair']} scenes without a pair {pairs['reason']}; "
          f"{pairs['labeler_pairs_the_oracle_reverses']} labeler pairs the annotation would reverse; all on-policy\n")

    print("ablation: CHAIR on the same held-out scenes, DPO from the same stage-2 model")
    print(meta["dpo_ablation"]["ablation"] + "\n")

    from assets.training import goals

    rel, cover = am["chair_relative_reduction"], am["cover_change_points"]
    for name, value, goal, met in (
            ("stage-2 QA accuracy", ev["stage2/qa_accuracy"], f">= {goals.STAGE2_QA}", ev["stage2/qa_accuracy"] >= goals.STAGE2_QA),
            ("grounding: share with IoU >= 0.5", ev["stage2/bbox_acc50"], f">= {goals.GROUNDING_ACC50}",
             ev["stage2/bbox_acc50"] >= goals.GROUNDING_ACC50),
            ("whole dialogues right", ev["stage2/dialogue_all_correct"], f">= {goals.DIALOGUE_ALL_CORRECT}",
             ev["stage2/dialogue_all_correct"] >= goals.DIALOGUE_ALL_CORRECT),
            ("CHAIR reduction (labeler pairs)", rel, f">= {goals.CHAIR_REDUCTION} with Cover change {cover:+.1f} points "
             f">= -{goals.COVER_DROP_POINTS:g}", rel >= goals.CHAIR_REDUCTION and cover >= -goals.COVER_DROP_POINTS)):
        print(f"goal {name}: {value:.3f} (target {goal}): {'met' if met else 'NOT met'}")
    print()

    plan = meta["memory_plan"]
    print(f"memory plan: target {plan['target_status']} ({plan['target_message']}); this run {plan['this_run_status']}")
    print(f"published figures: {plan['published_figures']}\n")

    _table(("asset", "seconds"), [(n, seconds.get(n, float("nan"))) for n in CHAIN]
           + [("total (incl. run overhead)", out["total"])])
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
