"""The offline rewriter of the refinement loop (CinePile step 3) and its Task.

It removes the cues the blind baselines use: it re-chooses distractors from the same-type pool of
the video so that their length, their lexical overlap with the question and their embedding
similarity to the question are as close to the key's as possible (round r skips the r-1 best sets,
so each round tries something new), and from round 3 on it replaces a quoted line in the question
with a reference to its time, removing the words a distractor could share with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from assets.cinepile.answering import blind_scores, words
from assets.cinepile.facts import time_reference
from assets.cinepile.mcq import MCQ, N_CHOICES, key_position, norm, place
from assets.cinepile.replies import format_options
from assets.cinepile.vectors import Encode, EncoderTask
from assets.kit.task import Task

CANDIDATE_SETS = 40



def cue_gap(question: str, key: str, options: Sequence[str], vectors: dict[str, np.ndarray]) -> float:
    """How far the key stands out from `options` on the blind baselines (lower is better)."""
    choices = [key, *options]
    total, _ = blind_scores(question, choices, vectors)
    return float(total[0] - np.max(total[1:]))


def rewrite_offline(mcq: MCQ, pool: Sequence[str], round_: int, encode: Encode,
                    time_of_quote: float | None = None) -> MCQ:
    """Cue removal: same-type distractors from `pool` (wrong answers of the same kind from the same
    video) chosen to look like the key to the blind baselines, and from round 3 on a question that
    names a time instead of quoting a line."""
    question = mcq.question
    if round_ >= 3 and time_of_quote is not None:
        question = time_reference(question, time_of_quote)
    key = mcq.answer_key
    candidates = [c for c in dict.fromkeys(pool) if norm(c) != norm(key)]
    candidates = list({norm(c): c for c in candidates}.values())
    if len(candidates) < N_CHOICES - 1:
        raise ValueError(f"only {len(candidates)} same-type distractors for a rewrite")
    vectors = dict(zip([question, key, *candidates], encode([question, key, *candidates]), strict=True))
    qw = words(question)

    def closeness(c: str) -> float:
        lex = abs(len(qw & words(c)) - len(qw & words(key)))
        sim = abs(float(vectors[c] @ vectors[question] - vectors[key] @ vectors[question]))
        return abs(len(c) - len(key)) / max(len(key), 1) + lex + 2 * sim

    near = sorted(candidates, key=lambda c: (closeness(c), c))[:8]
    sets = sorted(itertools.combinations(near, N_CHOICES - 1),
                  key=lambda s: (cue_gap(question, key, s, vectors), s))[:CANDIDATE_SETS]
    chosen = list(sets[min(round_ - 1, len(sets) - 1)])
    pos = key_position(question, key, str(round_))
    return MCQ(question=question, choices=place(key, chosen, pos), answer_key_position=pos,
               rationale=mcq.rationale, start_timestamp=mcq.start_timestamp, end_timestamp=mcq.end_timestamp,
               visual_reliance=mcq.visual_reliance)


class RewriteTask(EncoderTask, Task):
    """Item: {"scene_text", "mcq" (dict), "blind" [[letter, rationale] per rotation], "attack" ([pick,
    probability of the key] of the learned attacks, or None), "pool", "round", "quote_time"}. Returns a
    harder MCQ with the same answer."""

    name = "cinepile_rewrite"
    version = "1"
    response_model = MCQ
    offline_model = "cue-removal"
    temperature = 0.8

    def validation_context(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"start": item["scene_start"], "end": item["scene_end"]}

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        mcq = MCQ.model_validate(item["mcq"])
        answers = "\n".join(f"- rotation {k}: {a} ({why})" for k, (a, why) in enumerate(item["blind"]))
        if item.get("attack"):
            pick, p_key = item["attack"]
            answers += (f"\n- a classifier trained on other videos' questions (text only) picked {pick}; it gives "
                        f"the correct answer probability {p_key:.2f} (chance 0.20)")
        return [
            {"role": "system", "content": (
                "You make multiple-choice questions about a movie scene harder for a model that cannot see "
                "the scene, while keeping them answerable from it.")},
            {"role": "user", "content": (
                f"Scene:\n{item['scene_text']}\n\nQuestion:\n{format_options(mcq.question, mcq.choices)}\n"
                f"Correct answer: {mcq.answer_key}\n\nA model that saw only the question and options "
                f"answered (options rotated each time):\n{answers}\n\nRewrite the question so it cannot be "
                "answered without the scene: subtler distractors of the same type, balanced option lengths, "
                "negations if useful, or a new question about the same scene. Keep exactly 5 distinct choices, "
                "one correct, and timestamps inside the scene.")},
        ]

    def offline(self, item: dict[str, Any]) -> MCQ:
        return rewrite_offline(MCQ.model_validate(item["mcq"]), item["pool"], item["round"], self.encode,
                               item.get("quote_time"))
