"""Preference pairs in RLAIF-V's layout, built the RLAIF-V way: on-policy (RECIPES section 7).

RLAIF-V samples several responses from the policy, has a labeler judge each response's claims,
and pairs a more faithful response (chosen) with a less faithful one (rejected). Here the policy is
the stage-2 model, the responses are captions sampled at a temperature, and the labeler is the
scene's own annotation: every "a d at the p" claim is checked against the digits actually placed
(a perfect labeler where RLAIF-V uses an open MLLM; the difference is said in the asset).

- chosen: the sampled caption with no wrong claim and the fewest missing digits (source `policy`,
  or `policy_partial` when it leaves a digit out: saying less beats inventing), else the reference
  caption (source `reference`);
- rejected: the sampled caption with the most wrong claims, one that names a digit not in the scene
  (`hallucinated_digit`) before one that puts a present digit in the wrong cell (`wrong_position`),
  else a synthetic edit of the reference with one of those faults or an added digit
  (`extra_digit`), so every scene yields one pair;
- images are thumbnail-resized (Pillow's `Image.thumbnail`, aspect kept) to bound memory.

A pair's record is `preference_pair:<scene id>` (one pair per scene); its parent is the scene and
the policy that sampled it is in `models` (role `policy`).

Pure logic: Pillow and the digit-scenes module only.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass

from assets.kit.identity import record_id
from assets.training import digit_scenes as ds

RLAIF_V_FIELDS = ("ds_name", "image", "question", "chosen", "rejected", "origin_dataset", "origin_split",
                  "idx", "image_path")
FAULTS = ("hallucinated_digit", "wrong_position", "extra_digit")


def pair_record_id(scene_id: str) -> str:
    return record_id("preference_pair", scene_id)


@dataclass(frozen=True)
class Verdict:
    hallucinated: int  # claims naming a digit absent from the scene
    misplaced: int  # claims naming a present digit at a cell that does not hold it
    missing: int  # scene digits no claim names at their cell
    claims: int

    @property
    def faithful(self) -> bool:
        return self.hallucinated == 0 and self.misplaced == 0 and self.missing == 0 and self.claims > 0

    @property
    def fault(self) -> str | None:
        if self.hallucinated:
            return "hallucinated_digit"
        if self.misplaced:
            return "wrong_position"
        return None


def judge(text: str, scene: ds.Scene) -> Verdict:
    """Check each claim of a caption against the scene (the labeler)."""
    claims = ds.parse_caption(text)
    truth = {(p.digit, p.position) for p in scene.digits}
    halluc = sum(d not in scene.classes for d, _ in claims)
    misplaced = sum(d in scene.classes and (d, pos) not in truth for d, pos in claims)
    missing = len(truth - set(claims))
    return Verdict(halluc, misplaced, missing, len(claims))


def _caption_of(items: Sequence[tuple[int, int]]) -> str:
    parts = [f"{ds.article(d)} {d} at the {ds.POSITION_NAMES[c]}" for c, d in sorted(items)]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def perturb(scene: ds.Scene, fault: str, rng: random.Random) -> str:
    """The reference caption with one fault: a digit swapped for an absent one, a digit moved to
    an empty cell, or an absent digit added in an empty cell."""
    items = [(p.cell, p.digit) for p in scene.digits]
    absent = [d for d in range(10) if d not in scene.classes]
    empty = [c for c in range(ds.GRID * ds.GRID) if c not in {p.cell for p in scene.digits}]
    k = rng.randrange(len(items))
    if fault == "hallucinated_digit":
        items[k] = (items[k][0], rng.choice(absent))
    elif fault == "wrong_position":
        items[k] = (rng.choice(empty), items[k][1])
    elif fault == "extra_digit":
        items.append((rng.choice(empty), rng.choice(absent)))
    else:
        raise ValueError(f"unknown fault {fault!r}")
    return _caption_of(items)


def thumbnail_png(data: bytes, max_side: int) -> tuple[bytes, tuple[int, int], tuple[int, int]]:
    """PNG shrunk to fit max_side x max_side (never enlarged); returns bytes, old and new size."""
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    before = img.size
    img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue(), before, img.size


def build_pair(scene: ds.Scene, question: str, samples: Sequence[str], rng: random.Random) -> dict:
    """One pair for a scene from the policy's samples, ranked RLAIF-V's way by their wrong claims
    (hallucinated digits first, then misplaced ones; fewer missing digits break ties):
    chosen = the best sample if it has no wrong claim (a sample that leaves a digit out is still
    preferred to one that invents a digit), else the reference caption; rejected = the worst sample
    if it has a wrong claim, preferring hallucinated digits, else a synthetic fault."""
    verdicts = [(s, judge(s, scene)) for s in samples if s.strip()]
    clean = [(s, v) for s, v in verdicts if v.claims and not v.hallucinated and not v.misplaced]
    faulty = [(s, v) for s, v in verdicts if v.fault]
    if clean:
        best = min(v.missing for _, v in clean)
        chosen = rng.choice([s for s, v in clean if v.missing == best])
        chosen_source = "policy" if best == 0 else "policy_partial"
    else:
        chosen, chosen_source = ds.caption(scene), "reference"
    if faulty:
        worst = max((v.hallucinated, v.misplaced) for _, v in faulty)
        rejected, kind = rng.choice([(s, v.fault) for s, v in faulty if (v.hallucinated, v.misplaced) == worst])
        rejected_source = "policy"
    else:
        kind = rng.choice(FAULTS)
        rejected, rejected_source = perturb(scene, kind, rng), "synthetic"
    return {
        "question": question, "chosen": chosen, "rejected": rejected,
        "chosen_source": chosen_source, "rejected_source": rejected_source, "rejected_fault": kind,
        "samples": len(samples), "faithful_samples": sum(v.faithful for _, v in verdicts),
        "hallucinating_samples": sum(v.hallucinated > 0 for _, v in verdicts),
    }
