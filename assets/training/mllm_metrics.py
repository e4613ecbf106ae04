"""How well an MLLM reads digit scenes: caption accuracy, QA accuracy, bbox IoU, dialogues.

- caption accuracy: the caption's (digit, position) claims equal the scene's, nothing missing,
  nothing extra (always against the scene, never against a collected, possibly noisy caption);
  caption claim F1 beside it gives partial credit (a caption with two of three digits right), the
  figure that still moves when a small model writes no caption exactly right;
- QA accuracy: exact answer (normalised) on counting, existence, region ("what is at the top
  left?") and reading (OCR, left to right) questions, micro-averaged; per type beside it;
- bbox IoU: mean IoU of the box the model writes for "where is the 7?" (0 when it writes none),
  and the share with IoU >= 0.5. Boxes are not in QA accuracy, which counts exact answers;
- dialogue: every turn of held-out multi-turn dialogues answered after the model's own earlier
  answers (a real conversation, not teacher-forced); turn accuracy and all-turns-right rate;
- modalities (`modality_scores`): the same single-turn questions with the scene given as text
  instead of pixels (its nine cells as symbols, as the decoder learnt language; no image at all),
  and the image given with no question (does the model describe it unprompted?);
- every figure has a 95% interval from resampling whole held-out scenes (`summary_intervals`,
  assets.training.intervals).

`score_answer` is pure; `evaluate` runs a model (torch imported lazily through mllm_training).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from assets.training import digit_scenes as ds
from assets.training.intervals import means, scene_bootstrap

QA_TYPES = ("count", "exist", "what_at", "read")


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]) - inter
    return inter / area if area > 0 else 0.0


def caption_correct(text: str, scene: ds.Scene) -> bool:
    claims = ds.parse_caption(text)
    truth = sorted((p.digit, p.position) for p in scene.digits)
    return sorted(claims) == truth


def caption_claim_f1(text: str, scene: ds.Scene) -> float:
    """F1 of the caption's (digit, position) claims against the scene's."""
    claims, truth = set(ds.parse_caption(text)), {(p.digit, p.position) for p in scene.digits}
    hits = len(claims & truth)
    return 2 * hits / (len(claims) + len(truth)) if claims or truth else 1.0


def score_answer(qtype: str, prediction: str, truth: str, scene: ds.Scene | None = None) -> float:
    """1/0 for exact-answer types and captions; IoU for boxes."""
    if qtype == "where":
        pb, tb = ds.parse_box(prediction), ds.parse_box(truth)
        return iou(pb, tb) if pb and tb else 0.0
    if qtype == "caption":
        if scene is None:
            raise ValueError("caption scoring needs the scene")
        return float(caption_correct(prediction, scene))
    return float(ds.normalise_answer(prediction) == ds.normalise_answer(truth))


def summarise(rows: Sequence[dict]) -> dict[str, float]:
    """rows: {"qtype", "score", "kind"} from single-turn items; dialogue rows have kind='dialogue'
    and a 'dialogue_id'."""
    by_type: dict[str, list[float]] = defaultdict(list)
    dialogues: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        if r["kind"] == "dialogue":
            ok = r["score"] >= 0.5 if r["qtype"] == "where" else r["score"] == 1.0
            dialogues[r["dialogue_id"]].append(float(ok))
        else:
            by_type[r["qtype"]].append(r["score"])
    out: dict[str, float] = {}
    for t, scores in sorted(by_type.items()):
        out[f"{t}_accuracy" if t != "where" else "bbox_iou"] = sum(scores) / len(scores)
    if by_type.get("where"):
        out["bbox_acc50"] = sum(s >= 0.5 for s in by_type["where"]) / len(by_type["where"])
    qa = [s for t in QA_TYPES for s in by_type.get(t, [])]
    if qa:
        out["qa_accuracy"] = sum(qa) / len(qa)
    if by_type.get("caption"):
        out["caption_accuracy"] = out.pop("caption_accuracy")
    f1 = [r["claim_f1"] for r in rows if r["kind"] != "dialogue" and r.get("claim_f1") is not None]
    if f1:
        out["caption_claim_f1"] = sum(f1) / len(f1)
    turns = [s for v in dialogues.values() for s in v]
    if turns:
        out["dialogue_turn_accuracy"] = sum(turns) / len(turns)
        out["dialogue_all_correct"] = sum(all(v) for v in dialogues.values()) / len(dialogues)
    return out


def summary_intervals(rows: Sequence[dict], seed: int = 0) -> dict[str, list[float]]:
    """`summarise`'s figures with scene-bootstrap intervals; a dialogue drawn twice counts twice."""
    def statistic(sample: list[dict]) -> dict[str, float]:
        return summarise([{**r, "dialogue_id": (r["dialogue_id"], r["copy"])} if r["kind"] == "dialogue" else r
                          for r in sample])

    return scene_bootstrap(rows, statistic, seed=seed)


def evaluate(model, tokenizer, pixels, scenes: Sequence[ds.Scene], convs: Sequence[ds.Conversation],
             n_image_tokens: int, device="cpu", batch_size: int = 128) -> tuple[dict[str, float], list[dict]]:
    """Answer every single-turn item and play every dialogue; returns the summary and per-item rows
    (conversation_id, turn, scene_id, kind, qtype, question, truth, prediction, score; dialogue
    turns add dialogue_id). A row is identified by (conversation, turn): the asset mints its id."""
    from assets.training.mllm_training import answer_questions

    index = {s.scene_id: i for i, s in enumerate(scenes)}
    by_id = {s.scene_id: s for s in scenes}
    rows: list[dict] = []
    single = [c for c in convs if c.kind != "dialogue"]
    # Captions are long; batch them apart from short answers to keep padding and steps low.
    for group, max_new in ((lambda t: t.qtype == "caption", 40), (lambda t: t.qtype != "caption", 20)):
        items = [c for c in single if group(c.turns[0])]
        if not items:
            continue
        px = pixels[[index[c.scene_id] for c in items]]
        preds = answer_questions(model, tokenizer, px, [c.turns[0].question for c in items], n_image_tokens,
                                 max_new_tokens=max_new, batch_size=batch_size, device=device)
        for c, p in zip(items, preds, strict=True):
            t = c.turns[0]
            truth = ds.caption(by_id[c.scene_id]) if t.qtype == "caption" else t.answer
            rows.append({"conversation_id": c.record_id, "turn": 0, "scene_id": c.scene_id, "kind": c.kind,
                         "qtype": t.qtype, "question": t.question, "truth": truth, "prediction": p,
                         "score": score_answer(t.qtype, p, t.answer, by_id[c.scene_id]),
                         "claim_f1": caption_claim_f1(p, by_id[c.scene_id]) if t.qtype == "caption" else None})
    dialogues = [c for c in convs if c.kind == "dialogue"]
    histories: list[list[tuple[str, str]]] = [[] for _ in dialogues]
    for turn in range(max((len(c.turns) for c in dialogues), default=0)):
        live = [k for k, c in enumerate(dialogues) if turn < len(c.turns)]
        if not live:
            break
        px = pixels[[index[dialogues[k].scene_id] for k in live]]
        qs = [dialogues[k].turns[turn].question for k in live]
        preds = answer_questions(model, tokenizer, px, qs, n_image_tokens, histories=[histories[k] for k in live],
                                 max_new_tokens=40, batch_size=batch_size, device=device)
        for k, p in zip(live, preds, strict=True):
            c, t = dialogues[k], dialogues[k].turns[turn]
            histories[k].append((t.question, p))
            truth = ds.caption(by_id[c.scene_id]) if t.qtype == "caption" else t.answer
            rows.append({"conversation_id": c.record_id, "turn": turn, "scene_id": c.scene_id, "kind": "dialogue",
                         "dialogue_id": c.record_id, "qtype": t.qtype, "question": t.question, "truth": truth,
                         "prediction": p, "score": score_answer(t.qtype, p, t.answer, by_id[c.scene_id])})
    return summarise(rows), rows


def modality_scores(model, tokenizer, pixels, scenes: Sequence[ds.Scene], convs: Sequence[ds.Conversation],
                    n_image_tokens: int, device="cpu", batch_size: int = 128) -> tuple[dict[str, float], list[dict]]:
    """text_only_qa_accuracy / text_only_caption_accuracy: single-turn items answered from the
    scene's text transcript with no image; image_only_caption_accuracy: the image with an empty
    question, scored as a caption. Returns the figures and the scored items (scene_id, metric,
    score) they are the means of."""
    from assets.training.mllm_training import generate
    from assets.training.prompt_format import IMAGE, prompt_text

    by_id = {s.scene_id: s for s in scenes}
    index = {s.scene_id: i for i, s in enumerate(scenes)}
    single = [c for c in convs if c.kind != "dialogue"]

    def ids(text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]

    prompts = [ids(prompt_text(c.turns[0].question, True).replace(IMAGE, " " + ds.grid_text(by_id[c.scene_id]), 1))
               for c in single]
    answers = generate(model, tokenizer, prompts, None, max_new_tokens=40, batch_size=batch_size, device=device)
    rows: list[dict] = []
    for c, a in zip(single, answers, strict=True):
        t = c.turns[0]
        if t.qtype == "caption":
            rows.append({"scene_id": c.scene_id, "metric": "text_only_caption_accuracy",
                         "score": float(caption_correct(a, by_id[c.scene_id]))})
        elif t.qtype in QA_TYPES:
            rows.append({"scene_id": c.scene_id, "metric": "text_only_qa_accuracy",
                         "score": score_answer(t.qtype, a, t.answer, by_id[c.scene_id])})
    empty = ids(prompt_text("", True).replace(IMAGE, IMAGE * n_image_tokens))
    captions = generate(model, tokenizer, [empty] * len(scenes), pixels[[index[s.scene_id] for s in scenes]],
                        max_new_tokens=40, batch_size=batch_size, device=device)
    rows += [{"scene_id": s.scene_id, "metric": "image_only_caption_accuracy", "score": float(caption_correct(c, s))}
             for c, s in zip(captions, scenes, strict=True)]
    return means(rows), rows
