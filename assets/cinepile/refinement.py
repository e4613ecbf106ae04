"""Adversarial refinement (CinePile's step 3), with the three defects of the public code fixed.

Each question is shown to a blind answerer (question + options, no scene) in the 5 cyclic rotations;
correct on at least `degenerate_at` of 5 = degenerate. Beside it, learned attacks fitted on the other
videos' questions (`attacks.py`) judge the same version: a question they answer confidently is
degenerate too, so a prior the whole set shares is caught where one answerer's rotations cannot see
it. A degenerate question goes to a rewriter (scene, question, key, the blind answers and rationales)
and the rewrite is tested again by both: it must pass them AND be answered correctly by a
context-aware answerer that sees the scene text.
At most `max_rounds` rewrites (the public loop allowed six; `RefinementParams` caps it at five),
every round is a row, and a call that still fails after the resource's retries makes the question
`unverified`, never `fine` (the public code counted a failed vote as not-correct, so a question
nobody could answer passed as fine).

Final status per question:
- `fine`: the original was not blind-answerable;
- `fixed`: a rewrite passed both tests (the rewrite replaces the original);
- `still_degenerate`: after max_rounds the last rewrite was still blind-answerable;
- `unanswerable`: after max_rounds the last rewrite lost the context-aware answerer;
- `unverified`: a blind, context or rewrite call failed after its retries.
A rewrite that came back but cannot be used (`Rejected`: it offers a second true option and nothing
is left to swap in) is an `invalid_rewrite` round: the loop goes on from the last usable version.
A rewrite that becomes unanswerable is not rewritten further: the next round starts again from the
last version that was still answerable.

The roles are plain callables (`roles.py` backs them with Tasks; the offline rewriter is
`rewriting.py`), so the loop itself runs no model and depends on no answerer's method.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assets.cinepile.attacks import Verdict
from assets.cinepile.mcq import MCQ, N_CHOICES


class RefinementParams(BaseModel):
    """What decides a question's fate in the loop. Run config of `refinement_rounds`; the defaults
    enter its code version."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    degenerate_at: int = Field(default=3, ge=1, le=N_CHOICES,
                               description=f"Correct blind answers out of the {N_CHOICES} cyclic rotations that make "
                                           "a question degenerate (answerable without the scene).")
    max_rounds: int = Field(default=5, ge=0, le=5,
                            description="Rewrites per degenerate question (at most 5; the public loop allowed 6).")


DEFAULTS = RefinementParams()


@dataclass
class Vote:
    """One blind answer: the position chosen in the original order (None: the call failed)."""
    position: int | None
    rationale: str = ""
    error: str | None = None
    model: dict[str, str] | None = None  # the answer's provenance entry (role blind_answer)


@dataclass
class Check:
    """One context-aware answer: correct or not (None: the call failed)."""
    correct: bool | None
    answer: str | None = None
    error: str | None = None
    model: dict[str, str] | None = None  # the answer's provenance entry (role context_answer)


@dataclass
class Version:
    mcq: MCQ
    round: int
    votes: list[Vote] = field(default_factory=list)
    check: Check | None = None
    attack: Verdict | None = None

    @property
    def blind_correct(self) -> int:
        return sum(1 for v in self.votes if v.position == self.mcq.answer_key_position)

    @property
    def blind_failed(self) -> int:
        return sum(1 for v in self.votes if v.position is None)

    def degenerate(self, degenerate_at: int) -> bool:
        return self.blind_correct >= degenerate_at or bool(self.attack and self.attack.flagged)


class Rejected(str):
    """A rewrite the model returned that cannot be tested, and why (not a failed call)."""


# the three model roles, batch in and batch out, so each round is one `LLMResource.run` per role
BlindFn = Callable[[list[MCQ]], list[list[Vote]]]
ContextFn = Callable[[list[tuple[MCQ, dict[str, Any]]]], list[Check]]
RewriteFn = Callable[[list[tuple[Version, dict[str, Any]]]], list[MCQ | str]]
AttackFn = Callable[[list[tuple[MCQ, dict[str, Any]]]], list[Verdict]]


@dataclass
class Outcome:
    question_id: str
    status: str
    final: Version
    original: Version
    rounds: list[tuple[Version, str]]  # every tested version and what the round concluded
    reason: str | None = None


def refine(questions: Sequence[tuple[str, MCQ, dict[str, Any]]], blind: BlindFn, context: ContextFn,
           rewrite: RewriteFn, params: RefinementParams = DEFAULTS, attack: AttackFn | None = None
           ) -> list[Outcome]:
    """Run the loop over (question_id, mcq, context item) triples; one Outcome per question."""
    max_rounds, degenerate_at = params.max_rounds, params.degenerate_at
    ids = [q[0] for q in questions]
    ctx = {q[0]: q[2] for q in questions}
    originals = {qid: Version(mcq, 0) for qid, mcq, _ in questions}
    _test(list(originals.values()), [ctx[i] for i in ids], blind, context, attack)
    rounds: dict[str, list[tuple[Version, str]]] = {i: [] for i in ids}
    done: dict[str, Outcome] = {}
    base: dict[str, Version] = {}  # the version the next rewrite starts from (answerable, degenerate)
    for qid in ids:
        v = originals[qid]
        if v.blind_failed or (v.check and v.check.correct is None):
            rounds[qid].append((v, "unverified"))
            done[qid] = Outcome(qid, "unverified", v, v, rounds[qid], reason=_failure(v))
        elif v.degenerate(degenerate_at):
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
            if isinstance(new, Rejected):
                rounds[qid].append((Version(base[qid].mcq, r), "invalid_rewrite"))
                last.setdefault(qid, "still_degenerate")
            elif isinstance(new, str):
                failed = Version(base[qid].mcq, r)
                rounds[qid].append((failed, "unverified"))
                done[qid] = Outcome(qid, "unverified", originals[qid], originals[qid], rounds[qid],
                                    reason=f"rewrite failed: {new}")
            else:
                tested.append((qid, Version(new, r)))
        _test([v for _, v in tested], [ctx[qid] for qid, _ in tested], blind, context, attack)
        for qid, v in tested:
            if v.blind_failed or v.check.correct is None:
                rounds[qid].append((v, "unverified"))
                done[qid] = Outcome(qid, "unverified", originals[qid], originals[qid], rounds[qid], reason=_failure(v))
            elif v.degenerate(degenerate_at):
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


def _test(versions: list[Version], items: list[dict[str, Any]], blind: BlindFn, context: ContextFn,
          attack: AttackFn | None) -> None:
    if not versions:
        return
    if attack is not None:
        for v, verdict in zip(versions, attack([(v.mcq, c) for v, c in zip(versions, items, strict=True)]),
                              strict=True):
            v.attack = verdict
    for v, votes in zip(versions, blind([v.mcq for v in versions]), strict=True):
        v.votes = votes
    for v, check in zip(versions, context(list(zip([v.mcq for v in versions], items, strict=True))), strict=True):
        v.check = check


def _failure(v: Version) -> str:
    if v.blind_failed:
        errors = sorted({x.error or "failed" for x in v.votes if x.position is None})
        return f"blind answer failed in {v.blind_failed}/{len(v.votes)} rotations: {'; '.join(errors)[:300]}"
    return f"context answer failed: {v.check.error if v.check else 'not run'}"
