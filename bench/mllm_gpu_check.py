"""One short bf16 run of the MLLM stages on a GPU node, through the pure modules only (no Dagster,
polars or TRL needed there): digit scenes -> tokenizer -> vision encoder and decoder pretraining ->
assembled LLaVA -> stage 1 -> stage 2 (bf16 autocast) -> held-out evaluation, with the `large`
profile's model sizes and batches and the step counts given on the command line.

    python3 -m bench.mllm_gpu_check --scale 1.0 --out /path/result.json

Prints one table (seconds and figures per stage); no assertion. Not a `bench_*` module, so
`make bench` (CPU) does not run it.
"""

from __future__ import annotations

import argparse
import json
import time


def main(argv: list[str] | None = None) -> dict:
    import torch

    from assets.training import digit_scenes as ds
    from assets.training import mllm_components as mc
    from assets.training import mllm_metrics as mm
    from assets.training import mllm_training as mt
    from assets.training.mllm_config import budget

    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the default profile's step counts")
    ap.add_argument("--out", default="")
    args = ap.parse_args(argv)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    amp = torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    large, default = budget("large"), budget("default")
    steps = {k: max(10, int(getattr(default, k) * args.scale))
             for k in ("encoder_steps", "decoder_steps", "stage1_steps", "stage2_steps")}
    dims = large.dims
    torch.manual_seed(0)
    report: dict = {"device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
                    "autocast": str(amp), "torch": torch.__version__,
                    "transformers": __import__("transformers").__version__, "dims": dims.as_dict(), "steps": steps}
    t = {}

    start = time.perf_counter()
    pool = ds.load_digit_pool(0)
    images = ds.digit_images()
    train, _ = ds.generate_scenes(default.train_scenes, "train", pool["train"], 0)
    test, _ = ds.generate_scenes(300, "test", pool["test"], 0)
    scenes = {s.scene_id: s for s in train + test}
    convs = [c for s in train for c in ds.conversations(s, 0, caption_noise=default.caption_noise)]
    test_convs = [c for s in test for c in ds.conversations(s, 0)]
    texts = mc.decoder_corpus(convs, scenes)
    tok = mc.train_tokenizer(texts, dims.vocab_size)
    processor = mc.build_processor(tok, dims)
    pixels = mc.pixel_values(processor, [ds.png_bytes(ds.render(s, images, 2)) for s in train])
    test_pixels = mc.pixel_values(processor, [ds.png_bytes(ds.render(s, images, 2)) for s in test])
    t["data"] = time.perf_counter() - start

    start = time.perf_counter()
    sampler = mc.SceneSampler(pool["train"], images, dims.patch_size, 0)
    enc, enc_m = mc.pretrain_vision_encoder(sampler, dims, steps["encoder_steps"], large.encoder_batch, large.encoder_lr,
                                            0, device, eval_set=mc.scenes_to_tensors(test, images, dims.patch_size))
    t["vision encoder"] = time.perf_counter() - start
    start = time.perf_counter()
    dec, dec_m = mc.pretrain_text_decoder(tok, texts, dims, steps["decoder_steps"], large.decoder_batch,
                                          large.decoder_lr, 0, device)
    t["text decoder"] = time.perf_counter() - start
    model = mc.assemble_llava(enc.cpu(), dec.cpu(), tok, dims).to(device)
    index = {s.scene_id: i for i, s in enumerate(train)}

    def data(kinds):
        chosen = [c for c in convs if c.kind in kinds]
        return mt.encode_set(tok, [[(x.question, x.answer) for x in c.turns] for c in chosen],
                             [index[c.scene_id] for c in chosen], dims.image_tokens)

    results = {}
    start = time.perf_counter()
    s1 = mt.train_llava(model, data({"caption"}), pixels, {"projector": large.stage1_lr}, steps["stage1_steps"],
                        large.stage1_batch, 0, tok.pad_token_id, device, amp)
    t["stage 1"] = time.perf_counter() - start
    results["stage1"], _ = mm.evaluate(model, tok, test_pixels, test, test_convs, dims.image_tokens, device, 256)
    start = time.perf_counter()
    lrs = {"projector": large.stage2_lr, "language": large.stage2_lr, "vision": large.stage2_vision_lr}
    s2 = mt.train_llava(model, data({"caption", "qa", "dialogue"}), pixels, lrs, steps["stage2_steps"],
                        large.stage2_batch, 0, tok.pad_token_id, device, amp)
    t["stage 2"] = time.perf_counter() - start
    start = time.perf_counter()
    results["stage2"], _ = mm.evaluate(model, tok, test_pixels, test, test_convs, dims.image_tokens, device, 256)
    t["eval (stage 2)"] = time.perf_counter() - start

    report.update({"seconds": t, "encoder": enc_m, "decoder": dec_m, "stage1_loss": s1["final_loss"],
                   "stage2_loss": s2["final_loss"], "results": results,
                   "max_memory_gb": torch.cuda.max_memory_allocated() / 1e9 if device.type == "cuda" else None})
    print(f"{report['device']} autocast {report['autocast']} torch {report['torch']} "
          f"transformers {report['transformers']}; steps {steps}")
    for k, v in t.items():
        print(f"  {k:16s} {v:7.1f} s")
    print(f"  encoder digit-patch accuracy {enc_m.get('digit_patch_accuracy', float('nan')):.3f}")
    for metric in ("caption_accuracy", "qa_accuracy", "bbox_iou", "dialogue_turn_accuracy"):
        print(f"  {metric:24s} stage1 {results['stage1'].get(metric, float('nan')):.3f}  "
              f"stage2 {results['stage2'].get(metric, float('nan')):.3f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1, default=str)
    return report


if __name__ == "__main__":
    main()
