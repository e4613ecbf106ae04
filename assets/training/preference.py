"""Preference pairs in RLAIF-V's layout, built the RLAIF-V way: on-policy (RECIPES section 7).

RLAIF-V samples several responses from the policy, has a labeler judge each response's claims,
and pairs a more faithful response (chosen) with a less faithful one (rejected). Here the policy is
the stage-2 model, the responses are captions sampled at a temperature, and each "a d at the p"
claim is checked against a reading of the scene (cell -> digit): the independent labeler's reading
of the pixels (`claim_labeler.py`, the default) or the scene's annotation (the oracle, kept beside
it for comparison).

Both sides of a pair are the policy's own samples (fully on-policy): chosen = a sample with the
fewest wrong claims (then the fewest missing digits: saying less beats inventing), rejected = the
one with the most among those ranking strictly worse (a hallucinated digit before a misplaced one
at equal counts), and no pair where every sample ranks the same. A scene whose samples all rank the same gives no pair, and says why; images are
thumbnail-resized (Pillow's `Image.thumbnail`, aspect kept) to bound memory.

A pair's record is `preference_pair:<scene id>` (one row per scene); its parent is the scene and
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


def pair_record_id(scene_id: str) -> str:
    return record_id("preference_pair", scene_id)


@dataclass(frozen=True)
class Verdict:
    hallucinated: int  # claims naming a digit absent from the scene
    misplaced: int  # claims naming a present digit at a cell that does not hold it
    missing: int  # scene digits no claim names at their cell
    claims: int

    @property
    def wrong(self) -> int:
        return self.hallucinated + self.misplaced

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


def judge(text: str, seen: dict[int, int]) -> Verdict:
    """Check each claim of a caption against a reading of the scene (cell -> digit)."""
    claims = ds.parse_caption(text)
    truth = {(d, ds.POSITION_NAMES[c]) for c, d in seen.items()}
    present = set(seen.values())
    halluc = sum(d not in present for d, _ in claims)
    misplaced = sum(d in present and (d, pos) not in truth for d, pos in claims)
    missing = len(truth - set(claims))
    return Verdict(halluc, misplaced, missing, len(claims))


def thumbnail_png(data: bytes, max_side: int) -> tuple[bytes, tuple[int, int], tuple[int, int]]:
    """PNG shrunk to fit max_side x max_side (never enlarged); returns bytes, old and new size."""
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    before = img.size
    img.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue(), before, img.size


def build_pair(question: str, samples: Sequence[str], seen: dict[int, int], rng: random.Random) -> dict:
    """One on-policy pair from a scene's samples judged against `seen`; `chosen` and `rejected` are
    None (and `reason` says why) when no sample ranks strictly better than another."""
    verdicts = [(s, judge(s, seen)) for s in samples if s.strip()]
    out = {"question": question, "chosen": None, "rejected": None, "rejected_fault": None, "chosen_wrong": None,
           "rejected_wrong": None, "reason": None, "samples": len(samples),
           "faithful_samples": sum(v.faithful for _, v in verdicts),
           "hallucinating_samples": sum(v.hallucinated > 0 for _, v in verdicts)}
    if len(verdicts) < 2:
        return {**out, "reason": "fewer than two answers"}

    def rank(v: Verdict) -> tuple[int, int]:
        return v.wrong, v.missing

    best = min(rank(v) for _, v in verdicts)
    worse = [(s, v) for s, v in verdicts if rank(v) > best]
    if not worse:
        return {**out, "reason": "samples rank the same"}
    chosen = rng.choice([(s, v) for s, v in verdicts if rank(v) == best])
    worst = max((rank(v)[0], v.hallucinated, v.missing) for _, v in worse)
    rejected = rng.choice([(s, v) for s, v in worse if (rank(v)[0], v.hallucinated, v.missing) == worst])
    return {**out, "chosen": chosen[0], "rejected": rejected[0], "rejected_fault": rejected[1].fault or "missing_digit",
            "chosen_wrong": best[0], "rejected_wrong": rank(rejected[1])[0]}
