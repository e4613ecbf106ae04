"""Tokenizer, label masking, processor equivalence, patch targets, assembly, checkpoints and the
stage-1 freeze, on a model small enough to build in a second."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from assets.training import digit_scenes as ds  # noqa: E402
from assets.training import mllm_components as mc  # noqa: E402
from assets.training import mllm_training as mt  # noqa: E402
from assets.training import prompt_format as pf  # noqa: E402

POOL = {d: list(range(d * 5, d * 5 + 5)) for d in range(10)}
DIMS = mc.ModelDims(vision_hidden=32, vision_layers=1, vision_heads=2, text_hidden=32, text_layers=1,
                    text_heads=2, decoder="gpt2")


@pytest.fixture(scope="module")
def world():
    scenes, _ = ds.generate_scenes(40, "train", POOL, seed=0)
    convs = [c for s in scenes for c in ds.conversations(s, seed=0)]
    texts = mc.decoder_corpus(convs, {s.scene_id: s for s in scenes})
    tok = mc.train_tokenizer(texts, 200)
    return scenes, convs, tok


def test_tokenizer_keeps_digits_and_special_tokens_whole(world):
    _, _, tok = world
    pieces = tok.tokenize("<s>USER:<image> where is the 7? ASSISTANT: [14, 3, 22, 11]</s>")
    assert pieces[:3] == ["<s>", "USER:", "<image>"] and pieces[-1] == "</s>"
    start = pieces.index("▁[")
    assert "▁7" in pieces and pieces[start + 1:start + 3] == ["1", "4"]  # 14 is written digit by digit
    ids = tok("a 3 at the top left", add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == "a 3 at the top left"


def test_conversation_labels_mask_image_instruction_and_keep_answers(world):
    _, _, tok = world
    turns = [("how many digits are there?", "2"), ("is there a 5?", "no")]
    ids, labels = mt.encode_conversation(tok, turns, DIMS.image_tokens)
    full = tok(pf.expand_image(pf.conversation_text(turns), DIMS.image_tokens), add_special_tokens=False)["input_ids"]
    assert ids == full  # segment-wise tokenization is the tokenization of the whole
    image_id = tok.convert_tokens_to_ids(pf.IMAGE)
    assert ids.count(image_id) == DIMS.image_tokens
    assert all(lab == -100 for i, lab in zip(ids, labels, strict=True) if i == image_id)
    learned = [i for i, lab in zip(ids, labels, strict=True) if lab != -100]
    assert learned == tok(" 2</s> no</s>", add_special_tokens=False)["input_ids"]
    ids_b, mask, lab_b = mt.collate(mt.EncodedSet([ids, ids[:5]], [labels, labels[:5]], [0, 0]), [0, 1],
                                    tok.pad_token_id)
    assert (lab_b[1, 5:] == -100).all() and mask[1, 5:].sum() == 0


def test_processor_expands_the_image_token_and_matches_canvas_pixels(world):
    scenes, _, tok = world
    proc = mc.build_processor(tok, DIMS)
    images = np.random.default_rng(0).integers(0, 256, (200, 8, 8), dtype=np.uint8)
    pngs = [ds.png_bytes(ds.render(s, images, 2)) for s in scenes[:3]]
    prompt = pf.prompt_text("describe the image.", True)
    out = proc(images=[mc.png_to_image(pngs[0])], text=[prompt], add_special_tokens=False, return_tensors="pt")
    ours = tok(pf.expand_image(prompt, DIMS.image_tokens), add_special_tokens=False)["input_ids"]
    assert out["input_ids"][0].tolist() == ours
    canvases = np.stack([ds.render(s, images) for s in scenes[:3]])
    assert torch.equal(mc.pixel_values(proc, pngs), mc.canvas_pixels(canvases))


def test_patch_targets_hand_computed():
    s = ds.Scene("s", "t", (ds.Placed(4, 1, 14, 3, 0),))
    labels, offsets = mc.patch_targets(s, 12)
    assert labels.tolist() == [10, 4, 10, 10, 10, 10, 10, 10, 10]
    assert offsets[1].tolist() == [2, 3]  # the tile's corner, in whole pixels of its patch


def test_assembly_copies_parts_and_checkpoint_round_trips(world, tmp_path):
    _, convs, tok = world
    enc = __import__("transformers").CLIPVisionModel(mc.vision_config(DIMS))
    dec = __import__("transformers").AutoModelForCausalLM.from_config(mc.text_config(DIMS, tok))
    model = mc.assemble_llava(enc, dec, tok, DIMS)
    for k, v in enc.state_dict().items():
        assert torch.equal(model.model.vision_tower.state_dict()[k], v)
    for k, v in dec.transformer.state_dict().items():
        assert torch.equal(model.model.language_model.state_dict()[k], v)
    assert torch.equal(model.lm_head.weight, dec.lm_head.weight)
    path = str(tmp_path / "m.safetensors")
    mc.save_checkpoint(model, path, {"note": 1})
    again = mc.load_checkpoint(path)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True))
    assert mc.checkpoint_extra(path) == {"note": 1}


def test_stage1_moves_the_projector_only(world):
    scenes, convs, tok = world
    enc = __import__("transformers").CLIPVisionModel(mc.vision_config(DIMS))
    dec = __import__("transformers").AutoModelForCausalLM.from_config(mc.text_config(DIMS, tok))
    model = mc.assemble_llava(enc, dec, tok, DIMS)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    caps = [c for c in convs if c.kind == "caption"]
    index = {s.scene_id: i for i, s in enumerate(scenes)}
    data = mt.encode_set(tok, [[(t.question, t.answer) for t in c.turns] for c in caps],
                         [index[c.scene_id] for c in caps], DIMS.image_tokens)
    pixels = torch.randn(len(scenes), 3, 36, 36)
    stats = mt.train_llava(model, data, pixels, {"projector": 1e-2}, steps=3, batch_size=4, seed=0,
                           pad_id=tok.pad_token_id, log_every=1)
    after = model.state_dict()
    for k in before:
        same = torch.equal(before[k], after[k])
        assert same == (mc.part_of(k) != "projector"), k
    assert stats["trainable_params"] == mc.parameter_counts(model)["projector"] and len(stats["loss_curve"]) == 3


def test_generation_batches_by_length_without_changing_answers(world):
    _, _, tok = world
    dec = __import__("transformers").AutoModelForCausalLM.from_config(mc.text_config(DIMS, tok))
    prompts = [tok("<s>USER: hi", add_special_tokens=False)["input_ids"],
               tok("<s>USER: how many digits are there?", add_special_tokens=False)["input_ids"]]
    both = mt.generate(dec, tok, prompts, None, max_new_tokens=5)
    alone = [mt.generate(dec, tok, [p], None, max_new_tokens=5)[0] for p in prompts]
    assert both == alone


def test_production_path_loads_a_llava_checkpoint_folder_offline(world, tmp_path):
    """`pretrained_path`: a LLaVA-style checkpoint saved with save_pretrained loads from the folder
    (local files only) with its processor, and the image-token count is read from the processor."""
    from assets.training.checkpoints import count_image_tokens

    _, _, tok = world
    dims = mc.ModelDims(vision_hidden=32, vision_layers=1, vision_heads=2, text_hidden=32, text_layers=1,
                        text_heads=2, decoder="llama")
    enc = __import__("transformers").CLIPVisionModel(mc.vision_config(dims))
    dec = __import__("transformers").AutoModelForCausalLM.from_config(mc.text_config(dims, tok))
    model = mc.assemble_llava(enc, dec, tok, dims)
    folder = tmp_path / "llava-tiny"
    model.save_pretrained(folder)
    mc.build_processor(tok, dims).save_pretrained(folder)
    loaded, processor = mc.load_pretrained_llava(str(folder))
    assert type(loaded).__name__ == "LlavaForConditionalGeneration"
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True))
    assert count_image_tokens(processor) == dims.image_tokens
