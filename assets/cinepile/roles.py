"""The refinement loop's three roles backed by `LLMResource` Tasks, one batched run per round each.

Rotations are undone here: the blind answerer's letter in rotation k is mapped back to the option's
position in the original order, so the loop only compares positions with the key's. Every answer
carries its provenance entry (`TaskResult.model_entry`), which the round rows declare as `models`.
A rewrite is settled against the video's facts before it is tested (`facts.settle`): a distractor
that is also true is swapped for a wrong one, and a rewrite with none left to swap in fails with the
reason. The learned attacks are fitted once, on the questions as written, cross-fitted by video
(`attacks.cross_fit`); every version of a question is judged by the fold that never saw its video.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assets.cinepile.answering import BlindAnswerTask, BlindParams, ContextAnswerTask
from assets.cinepile.attacks import AttackParams, CrossFit, QuestionSet, Verdict, verdicts
from assets.cinepile.facts import settle
from assets.cinepile.mcq import LETTERS, MCQ, N_CHOICES
from assets.cinepile.refinement import Check, Rejected, Version, Vote
from assets.cinepile.replies import rotate
from assets.cinepile.rewriting import RewriteTask
from assets.kit.task import TaskRun

if TYPE_CHECKING:  # the resource is handed in by the asset; this module stays free of Dagster
    from resources.llm import LLMResource

BLIND, CONTEXT, REWRITE = "blind_answer", "context_answer", "rewrite"  # provenance roles


def question_set(pairs: list[tuple[MCQ, dict[str, Any]]]) -> QuestionSet:
    """What an attack sees of each version: text, options, key; grouped by the question's video."""
    import numpy as np

    return QuestionSet([m.question for m, _ in pairs], [list(m.choices) for m, _ in pairs],
                       np.array([m.answer_key_position for m, _ in pairs], dtype=int), [c["video"] for _, c in pairs])


@dataclass
class Roles:
    """Callables for `refine`, plus every TaskRun and the rewrites' provenance per (question, round)."""

    llm: LLMResource
    encode: Callable
    encoder: str
    blind_params: BlindParams = field(default_factory=BlindParams)
    attack_params: AttackParams = field(default_factory=AttackParams)
    attacker: CrossFit | None = None
    log: Any = None
    runs: dict[str, list[TaskRun]] = field(default_factory=lambda: defaultdict(list))
    rewrites: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    _calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def blind(self, mcqs: list[MCQ]) -> list[list[Vote]]:
        items = [{"question": m.question, "choices": rotate(m.choices, k)} for m in mcqs for k in range(N_CHOICES)]
        task = BlindAnswerTask(self.encode, encoder=self.encoder, margin=self.blind_params.blind_margin)
        run = self.llm.run(task, items, log=self.log)
        self.runs["blind"].append(run)
        out = []
        for i, _ in enumerate(mcqs):
            votes = []
            for k in range(N_CHOICES):
                res = run.results[i * N_CHOICES + k]
                if res.ok:
                    shown = LETTERS.index(res.value.answer)
                    votes.append(Vote((shown - k) % N_CHOICES, res.value.rationale, model=res.model_entry(BLIND)))
                else:
                    votes.append(Vote(None, error=res.error, model=res.model_entry(BLIND)))
            out.append(votes)
        return out

    def attack(self, pairs: list[tuple[MCQ, dict[str, Any]]]) -> list[Verdict]:
        if self.attacker is None:
            raise RuntimeError("no attacker fitted: Roles.attacker must be a CrossFit to judge versions")
        qs = question_set(pairs)
        return verdicts(self.attacker.scores(qs), qs.key, self.attack_params.flag_at)

    def context(self, pairs: list[tuple[MCQ, dict[str, Any]]]) -> list[Check]:
        items = [{"question": m.question, "choices": m.choices, "scene_text": c["scene_text"]} for m, c in pairs]
        run = self.llm.run(ContextAnswerTask(), items, log=self.log)
        self.runs["context"].append(run)
        return [Check(LETTERS.index(r.value.answer) == m.answer_key_position, r.value.answer,
                      model=r.model_entry(CONTEXT)) if r.ok
                else Check(None, error=r.error, model=r.model_entry(CONTEXT))
                for (m, _), r in zip(pairs, run.results, strict=True)]

    def rewrite(self, pairs: list[tuple[Version, dict[str, Any]]]) -> list[MCQ | str]:
        items = []
        for v, c in pairs:
            self._calls[c["question_id"]] += 1
            items.append({
                "scene_text": c["scene_text"], "scene_start": c["scene_start"], "scene_end": c["scene_end"],
                "mcq": v.mcq.model_dump(), "pool": c["pool"], "quote_time": c["quote_time"],
                "round": self._calls[c["question_id"]],
                "blind": [[v.mcq.choices[x.position] if x.position is not None else "(failed)", x.rationale]
                          for x in v.votes],
                "attack": None if v.attack is None else [v.mcq.choices[v.attack.pick], round(v.attack.p_key, 3)],
            })
        run = self.llm.run(RewriteTask(self.encode, encoder=self.encoder), items, log=self.log)
        self.runs["rewrite"].append(run)
        out: list[MCQ | str] = []
        for (_, c), it, r in zip(pairs, items, run.results, strict=True):
            entry = {"model": r.model_entry(REWRITE), "error": r.error, "judged": None, "replaced": 0}
            if r.ok:
                s = settle(c["kind"], r.value, list(c["pool"]), c["facts"])
                entry.update(judged=s.judged, replaced=len(s.replaced))
                if s.problem:
                    entry["error"] = f"the rewrite offers a second true option: {s.problem}"
                    out.append(Rejected(entry["error"]))
                else:
                    out.append(s.mcq)
            else:
                out.append(r.error)
            self.rewrites[(c["question_id"], it["round"])] = entry
        return out
