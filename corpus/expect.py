"""What each screen must decide about a generated item, derived from how the item was built.

These are deliberately independent re-statements of the recipe rules (RECIPES.md section 1 and 3),
computed from ground truth (the still intervals a video was assembled from), never from measuring
the file: a screen that measures and this module that knows must agree. Designs whose outcome would
hinge on a frame or two (a still run within `MARGIN_S` of a threshold) are refused at build time.
"""

from __future__ import annotations

import math

RULES = {
    "languages": ["en"],
    "word_count_gt": 50,
    "word_density_gt": 0.5,
    "freezedetect": "freezedetect=n=0.05:d=50",
    "freeze_min_s": 50.0,
    "segment_s": 60.0,
    "static_ratio_ge": 0.4,
    "scene_detector": "AdaptiveDetector rule, score floor 27, min_scene_len 15 (assets/finevideo/scene_cuts.py)",
    "annotation_max_s": 600.0,
    "pdf_max_pages": 4,
}
MARGIN_S = 2.0


def language(original: str, transcription: str, words: int) -> dict:
    reasons = []
    if original not in RULES["languages"]:
        reasons.append("original_language")
    if transcription not in RULES["languages"]:
        reasons.append("transcription_language")
    if words <= RULES["word_count_gt"]:
        reasons.append("word_count")
    return {"kept": not reasons, "reasons": reasons}


def word_density(words: int, duration_s: float | None) -> dict:
    if not duration_s:
        return {"kept": None, "value": None}
    value = words / duration_s
    return {"kept": value > RULES["word_density_gt"], "value": round(value, 4)}


def _longest_still(still: list[tuple[float, float]], a: float, b: float) -> float:
    return max((min(e, b) - max(s, a) for s, e in still if min(e, b) > max(s, a)), default=0.0)


def dynamism(duration_s: float, still: list[tuple[float, float]]) -> dict:
    """FineVideo's per-60-s rule, the same rule with the short last segment handled, and the
    time-based fraction.

    - `finevideo`: segment static iff it holds a still run >= 50 s; video static iff static
      segments / ceil(duration/60) >= 0.4. A last segment under 50 s can never be static.
    - `fixed`: as above, but the last segment is judged on the video's last 60 s (a still run
      >= 50 s inside [duration - 60, duration]); a video shorter than 60 s needs a still run of
      50 * duration / 60. (Scaling the requirement to a short last segment instead would ask a 4 s
      tail to hold still for 3.3 s, which moving footage does at n = 0.05.)
    - `frozen_fraction`: seconds inside freezes freezedetect reports on the whole video (still runs
      >= 50 s) over the duration.
    A freeze that runs to the end of the stream is reported by freezedetect with `freeze_start`
    only (no `freeze_end`); the intervals here are closed at the video's end.
    """
    seg = RULES["segment_s"]
    n = max(1, math.ceil(duration_s / seg - 1e-9))
    runs = [round(_longest_still(still, i * seg, min((i + 1) * seg, duration_s)), 3) for i in range(n)]
    fv = [run >= RULES["freeze_min_s"] for run in runs]
    window, need = fixed_last_window(duration_s)
    last = round(_longest_still(still, *window), 3)
    fixed = [*fv[:-1], last >= need]
    freezes = [[s, e] for s, e in still if e - s >= RULES["freeze_min_s"]]
    frozen = sum(e - s for s, e in freezes)
    ratio = RULES["static_ratio_ge"]
    return {
        "segments": n,
        "longest_still_per_segment_s": runs,
        "longest_still_last_window_s": last,
        "freezes_d50_s": freezes,
        "finevideo": {"static_segments": sum(fv), "static": sum(fv) / n >= ratio},
        "fixed": {"static_segments": sum(fixed), "static": sum(fixed) / n >= ratio},
        "frozen_fraction": round(frozen / duration_s, 4),
        "still_fraction": round(sum(e - s for s, e in still) / duration_s, 4),
    }


def fixed_last_window(duration_s: float) -> tuple[tuple[float, float], float]:
    """The fixed rule's last window and the still run it needs."""
    seg, d = RULES["segment_s"], RULES["freeze_min_s"]
    if duration_s >= seg:
        return (duration_s - seg, duration_s), d
    return (0.0, duration_s), d * duration_s / seg


def fragile(duration_s: float, still: list[tuple[float, float]]) -> list[str]:
    """Why a design's expected outcome could flip on a frame or two; empty when robust."""
    d = RULES["freeze_min_s"]
    problems = []
    out = dynamism(duration_s, still)
    checks = [(f"segment {i}", run, d) for i, run in enumerate(out["longest_still_per_segment_s"])]
    checks.append(("last window", out["longest_still_last_window_s"], fixed_last_window(duration_s)[1]))
    for name, run, limit in checks:
        if run > 0 and abs(run - limit) < MARGIN_S:
            problems.append(f"{name}: still run {run} s is within {MARGIN_S} s of {limit:.1f} s")
    for s, e in still:
        if abs((e - s) - d) < MARGIN_S:
            problems.append(f"still run {s}-{e} is within {MARGIN_S} s of {d} s")
    n = out["segments"]
    for k in ("finevideo", "fixed"):
        if abs(out[k]["static_segments"] / n - RULES["static_ratio_ge"]) < 1e-9:
            problems.append(f"{k} static ratio sits exactly on the threshold")
    if abs(out["frozen_fraction"] - RULES["static_ratio_ge"]) < 0.02:
        problems.append("frozen fraction within 0.02 of the threshold")
    return problems


def annotation(duration_s: float | None) -> dict:
    if duration_s is None:
        return {"eligible": None}
    return {"eligible": duration_s <= RULES["annotation_max_s"]}


def document(readable: bool, encrypted: bool, pages: int | None, has_text: bool) -> dict:
    reasons = []
    if not readable:
        reasons.append("encrypted" if encrypted else "unreadable")
    else:
        if pages is not None and pages > RULES["pdf_max_pages"]:
            reasons.append("too_many_pages")
        if not has_text:
            reasons.append("no_text")
    return {"kept": not reasons, "reasons": reasons}
