"""Adversarial refinement (CinePile's step 3), with the three defects of the public code fixed.

Each question is shown to a blind answerer (question + options, no scene) in the 5 cyclic rotations;
correct on >= 3 of 5 = degenerate. A degenerate question goes to a rewriter (scene, question, key,
the blind answers and rationales) and the rewrite is tested again: it must pass the blind test AND
be answered correctly by a context-aware answerer that sees the scene text. At most `MAX_ROUNDS`
rewrites (the public loop allowed six), every round is a row, and a call that still fails after the
resource's retries makes the question `unverified`, never `fine` (the public code counted a failed
vote as not-correct, so a question nobody could answer passed as fine).

Final status per question:
- `fine`: the original was not blind-answerable;
- `fixed`: a rewrite passed both tests (the rewrite replaces the original);
- `still_degenerate`: after MAX_ROUNDS the last rewrite was still blind-answerable;
- `unanswerable`: after MAX_ROUNDS the last rewrite lost the context-aware answerer;
- `unverified`: a blind, context or rewrite call failed after its retries.
A rewrite that becomes unanswerable is not rewritten further: the next round starts again from the
last version that was still answerable.

The offline rewriter removes the cues the blind baselines use: it re-chooses distractors from the
same-type pool of the video so that their length, their lexical overlap with the question and their
embedding similarity to the question are as close to the key's as possible (round r skips the r-1
best sets, so each round tries something new), and from round 3 on it replaces a quoted line in the
question with a reference to its time, removing the words a distractor could share with it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assets.cinepile.answering import blind_scores, format_options, words
from assets.cinepile.mcq import MCQ, N_CHOICES, key_position, norm, place
from assets.cinepile.scenes import mmss
from assets.kit.task import Task

MAX_ROUNDS = 5
DEGENERATE_AT = 3  # correct blind answers out of 5 rotations
STATUSES = ("fine", "fixed", "still_degenerate", "unanswerable", "unverified")
CANDIDATE_SETS = 40
_QUOTED = re.compile(r'"([^"]+)"')

Encode = Callable[[list[str]], np.ndarray]


@dataclass
class Vote:
    """One blind answer: the position chosen in the original order (None: the call failed)."""
    position: int | None
    rationale: str = ""
    error: str | None = None


@dataclass
class Check:
    """One context-aware answer: correct or not (None: the call failed)."""
    correct: bool | None
    answer: str | None = None
    error: str | None = None


@dataclass
class Version:
    mcq: MCQ
    round: int
    votes: list[Vote] = field(default_factory=list)
    check: Check | None = None

    @property
    def blind_correct(self) -> int:
        return sum(1 for v in self.votes if v.position == self.mcq.answer_key_position)

    @property
    def blind_failed(self) -> int:
        return sum(1 for v in self.votes if v.position is None)


# the three model roles, batch in and batch out, so each round is one `LLMResource.run` per role
BlindFn = Callable[[list[MCQ]], list[list[Vote]]]
ContextFn = Callable[[list[tuple[MCQ, dict[str, Any]]]], list[Check]]
RewriteFn = Callable[[list[tuple[Version, dict[str, Any]]]], list[MCQ | str]]


@dataclass
class Outcome:
    question_id: str
    status: str
    final: Version
    original: Version
    rounds: list[tuple[Version, str]]  # every tested version and what the round concluded
    reason: str | None = None


def refine(questions: Sequence[tuple[str, MCQ, dict[str, Any]]], blind: BlindFn, context: ContextFn,
           rewrite: RewriteFn, max_rounds: int = MAX_ROUNDS) -> list[Outcome]:
    """Run the loop over (question_id, mcq, context item) triples; one Outcome per question."""
    ids = [q[0] for q in questions]
    ctx = {q[0]: q[2] for q in questions}
    originals = {qid: Version(mcq, 0) for qid, mcq, _ in questions}
    _test(list(originals.values()), [ctx[i] for i in ids], blind, context)
    rounds: dict[str, list[tuple[Version, str]]] = {i: [] for i in ids}
    done: dict[str, Outcome] = {}
    base: dict[str, Version] = {}  # the version the next rewrite starts from (answerable, degenerate)
    for qid in ids:
        v = originals[qid]
        if v.blind_failed or (v.check and v.check.correct is None):
            rounds[qid].append((v, "unverified"))
            done[qid] = Outcome(qid, "unverified", v, v, rounds[qid], reason=_failure(v))
        elif v.blind_correct >= DEGENERATE_AT:
            rounds[qid].append((v, "degenerate"))
            base[qid] = v
        else:
            rounds[qid].append((v, "fine"))
            done[qid] = Outcome(qid, "fine", v, v, rounds[qid])
    last: dict[str, str] = {}
    for r in range(1, max_rounds + 1):
        active = [qid for qid in ids if qid not in done]
        if not active:
            break
        written = rewrite([(base[qid], ctx[qid]) for qid in active])
        tested: list[tuple[str, Version]] = []
        for qid, new in zip(active, written, strict=True):
            if isinstance(new, str):
                failed = Version(base[qid].mcq, r)
                rounds[qid].append((failed, "unverified"))
                done[qid] = Outcome(qid, "unverified", originals[qid], originals[qid], rounds[qid],
                                    reason=f"rewrite failed: {new}")
            else:
                tested.append((qid, Version(new, r)))
        _test([v for _, v in tested], [ctx[qid] for qid, _ in tested], blind, context)
        for qid, v in tested:
            if v.blind_failed or v.check.correct is None:
                rounds[qid].append((v, "unverified"))
                done[qid] = Outcome(qid, "unverified", originals[qid], originals[qid], rounds[qid], reason=_failure(v))
            elif v.blind_correct >= DEGENERATE_AT:
                rounds[qid].append((v, "still_degenerate"))
                last[qid] = "still_degenerate"
                base[qid] = v if v.check.correct else base[qid]
            elif not v.check.correct:
                rounds[qid].append((v, "unanswerable"))
                last[qid] = "unanswerable"
            else:
                rounds[qid].append((v, "fixed"))
                done[qid] = Outcome(qid, "fixed", v, originals[qid], rounds[qid])
    for qid in ids:
        if qid not in done:
            status = last.get(qid, "still_degenerate")
            done[qid] = Outcome(qid, status, originals[qid], originals[qid], rounds[qid],
                                reason=f"{status} after {max_rounds} rewrites")
    return [done[qid] for qid in ids]


def _test(versions: list[Version], items: list[dict[str, Any]], blind: BlindFn, context: ContextFn) -> None:
    if not versions:
        return
    for v, votes in zip(versions, blind([v.mcq for v in versions]), strict=True):
        v.votes = votes
    for v, check in zip(versions, context(list(zip([v.mcq for v in versions], items, strict=True))), strict=True):
        v.check = check


def _failure(v: Version) -> str:
    if v.blind_failed:
        errors = sorted({x.error or "failed" for x in v.votes if x.position is None})
        return f"blind answer failed in {v.blind_failed}/{len(v.votes)} rotations: {'; '.join(errors)[:300]}"
    return f"context answer failed: {v.check.error if v.check else 'not run'}"


# -- the offline rewriter -------------------------------------------------------------------------

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
        q = _QUOTED.sub(f"the line at {mmss(time_of_quote)}", question, count=1)
        question = q if q != question else question
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


class RewriteTask(Task):
    """Item: {"scene_text", "mcq" (dict), "blind" [[letter, rationale] per rotation], "pool", "round",
    "quote_time"}. Returns a harder MCQ with the same answer."""

    name = "cinepile_rewrite"
    version = "1"
    response_model = MCQ
    offline_model = "cue-removal"
    temperature = 0.8

    def __init__(self, encode: Encode):
        self.encode = encode

    def validation_context(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"start": item["scene_start"], "end": item["scene_end"]}

    def messages(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        mcq = MCQ.model_validate(item["mcq"])
        answers = "\n".join(f"- rotation {k}: {a} ({why})" for k, (a, why) in enumerate(item["blind"]))
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
