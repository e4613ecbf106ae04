"""The refinement loop's three roles backed by `LLMResource` Tasks, one batched run per round each.

Rotations are undone here: the blind answerer's letter in rotation k is mapped back to the option's
position in the original order, so the loop only compares positions with the key's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assets.cinepile.answering import BlindAnswerTask, ContextAnswerTask, rotate
from assets.cinepile.mcq import LETTERS, MCQ, N_CHOICES
from assets.cinepile.refinement import Check, RewriteTask, Version, Vote
from assets.kit.task import TaskRun
from resources.llm import LLMResource


@dataclass
class Roles:
    """Callables for `refine`, plus every TaskRun and the rewrites' provenance per (question, round)."""

    llm: LLMResource
    encode: Callable
    log: Any = None
    runs: dict[str, list[TaskRun]] = field(default_factory=lambda: defaultdict(list))
    rewrites: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    _calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def blind(self, mcqs: list[MCQ]) -> list[list[Vote]]:
        items = [{"question": m.question, "choices": rotate(m.choices, k)} for m in mcqs for k in range(N_CHOICES)]
        run = self.llm.run(BlindAnswerTask(self.encode), items, log=self.log)
        self.runs["blind"].append(run)
        out = []
        for i, _ in enumerate(mcqs):
            votes = []
            for k in range(N_CHOICES):
                res = run.results[i * N_CHOICES + k]
                if res.ok:
                    shown = LETTERS.index(res.value.answer)
                    votes.append(Vote((shown - k) % N_CHOICES, res.value.rationale))
                else:
                    votes.append(Vote(None, error=res.error))
            out.append(votes)
        return out

    def context(self, pairs: list[tuple[MCQ, dict[str, Any]]]) -> list[Check]:
        items = [{"question": m.question, "choices": m.choices, "scene_text": c["scene_text"]} for m, c in pairs]
        run = self.llm.run(ContextAnswerTask(), items, log=self.log)
        self.runs["context"].append(run)
        return [Check(LETTERS.index(r.value.answer) == m.answer_key_position, r.value.answer) if r.ok
                else Check(None, error=r.error) for (m, _), r in zip(pairs, run.results, strict=True)]

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
            })
        run = self.llm.run(RewriteTask(self.encode), items, log=self.log)
        self.runs["rewrite"].append(run)
        for (_, c), it, r in zip(pairs, items, run.results, strict=True):
            self.rewrites[(c["question_id"], it["round"])] = r.provenance()
        return [r.value if r.ok else r.error for r in run.results]
