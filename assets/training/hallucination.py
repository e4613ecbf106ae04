"""AMBER-style hallucination metrics (RECIPES section 7), for digit scenes.

Generative (captions): the objects are digit classes. Per caption, the mentioned set is every
digit the caption names; the true set is the scene's digits.
- CHAIR = hallucinated mentions / all mentions (summed over captions, each object counted once per
  caption as AMBER does),
- Cover = true objects mentioned / true objects,
- Hal = share of captions with at least one hallucinated object.
A caption's wrong *positions* are not object hallucinations; they are reported beside it
(`position_error_rate`: share of correctly named digits placed in the wrong cell).

Discriminative: "is there a d?" with yes/no answers; accuracy and F1 with "no" as the positive
class (AMBER's convention: a hallucinating model says yes too often). An answer that is neither
yes nor no counts as wrong in accuracy and as a missed "no".

Pure logic, no dependencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assets.training import digit_scenes as ds


@dataclass(frozen=True)
class ChairScores:
    chair: float
    cover: float
    hal: float
    mentions: int
    hallucinated: int
    true_objects: int
    covered: int
    captions: int

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def chair_scores(mentioned: Sequence[set[int]], truth: Sequence[set[int]]) -> ChairScores:
    if len(mentioned) != len(truth):
        raise ValueError("one mentioned set per true set")
    mentions = sum(len(m) for m in mentioned)
    halluc = sum(len(m - t) for m, t in zip(mentioned, truth, strict=True))
    true_n = sum(len(t) for t in truth)
    covered = sum(len(m & t) for m, t in zip(mentioned, truth, strict=True))
    hal_caps = sum(bool(m - t) for m, t in zip(mentioned, truth, strict=True))
    n = len(truth)
    return ChairScores(
        chair=halluc / mentions if mentions else 0.0,
        cover=covered / true_n if true_n else 0.0,
        hal=hal_caps / n if n else 0.0,
        mentions=mentions, hallucinated=halluc, true_objects=true_n, covered=covered, captions=n,
    )


def chair_change(rows: Sequence[dict], before: str = "before_dpo", after: str = "after_dpo") -> dict[str, float]:
    """CHAIR's relative reduction and Cover's change in points from one model to another, from
    caption rows carrying `variant` and the parsed `mentioned` / `true` digit sets (parsed once,
    so a bootstrap can recompute this a thousand times)."""
    s = {v: chair_scores([r["mentioned"] for r in rows if r["variant"] == v], [r["true"] for r in rows if r["variant"] == v])
         for v in (before, after)}
    b, a = s[before], s[after]
    return {"chair_relative_reduction": (b.chair - a.chair) / b.chair if b.chair else 0.0,
            "cover_change_points": 100 * (a.cover - b.cover)}


def caption_objects(text: str) -> set[int]:
    return {d for d, _ in ds.parse_caption(text)}


def position_error_rate(captions: Sequence[str], scenes: Sequence[ds.Scene]) -> float:
    """Of the (digit, position) claims whose digit is in the scene, the share whose position holds
    no such digit."""
    named = wrong = 0
    for text, scene in zip(captions, scenes, strict=True):
        truth = {(p.digit, p.position) for p in scene.digits}
        for d, pos in ds.parse_caption(text):
            if d in scene.classes:
                named += 1
                wrong += (d, pos) not in truth
    return wrong / named if named else 0.0


def yes_no(text: str) -> str | None:
    words = ds.normalise_answer(text).split()
    return words[0] if words and words[0] in ("yes", "no") else None


@dataclass(frozen=True)
class YesNoScores:
    accuracy: float
    precision_no: float
    recall_no: float
    f1_no: float
    unparsed: int
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def yes_no_scores(predictions: Sequence[str], truth: Sequence[str]) -> YesNoScores:
    """Accuracy and F1 with "no" as the positive class."""
    if len(predictions) != len(truth):
        raise ValueError("one prediction per truth")
    parsed = [yes_no(p) for p in predictions]
    tp = sum(p == "no" and t == "no" for p, t in zip(parsed, truth, strict=True))
    fp = sum(p == "no" and t == "yes" for p, t in zip(parsed, truth, strict=True))
    fn = sum(p != "no" and t == "no" for p, t in zip(parsed, truth, strict=True))
    correct = sum(p == t for p, t in zip(parsed, truth, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    n = len(truth)
    return YesNoScores(accuracy=correct / n if n else 0.0, precision_no=precision, recall_no=recall,
                       f1_no=f1, unparsed=sum(p is None for p in parsed), n=n)


def existence_probes(scenes: Sequence[ds.Scene], seed: int, per_scene: int = 2) -> list[tuple[int, str, str]]:
    """Balanced discriminative probes: per scene, one digit present (yes) and one absent (no),
    as (scene row, question, truth)."""
    import random

    rng = random.Random(f"amber:{seed}")
    probes = []
    for i, s in enumerate(scenes):
        present = sorted(s.classes)
        absent = [d for d in range(10) if d not in s.classes]
        picks = [(rng.choice(present), "yes"), (rng.choice(absent), "no")][:per_scene]
        for d, ans in picks:
            probes.append((i, f"is there {ds.article(d)} {d} in the image?", ans))
    return probes
