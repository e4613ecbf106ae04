"""Which pictures of a video a model is shown: the middle of every shot (pure: no Dagster, no model code).

Kept apart from the annotation Tasks because the dynamism screen picks these stills during its one
decode: the screen's code version then depends on this choice and not on the annotation prompts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MIN_SCENE_S = 1.0  # cuts closer than this to each other or to an end do not open a scene
MAX_FRAMES = 16  # stills a model is shown per video
FRAME_WIDTH = 384  # their width as displayed (pixels); narrower videos are not enlarged


def scene_spans(cuts_s: Sequence[float], duration_s: float) -> list[tuple[float, float]]:
    bounds = [0.0]
    for c in sorted(cuts_s):
        if c - bounds[-1] >= MIN_SCENE_S and duration_s - c >= MIN_SCENE_S:
            bounds.append(float(c))
    bounds.append(float(duration_s))
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def frame_times(cuts_s: Sequence[float], duration_s: float, limit: int = MAX_FRAMES) -> list[float]:
    """The middle of every shot, plus the middle of any 30 s window no shot middle falls in,
    thinned evenly to `limit`."""
    times = [(a + b) / 2 for a, b in scene_spans(cuts_s, duration_s)]
    for k in range(math.ceil(duration_s / 30)):
        a, b = 30 * k, min(30 * (k + 1), duration_s)
        if not any(a <= t < b for t in times):
            times.append((a + b) / 2)
    times.sort()
    if len(times) > limit:
        times = [times[round(i * (len(times) - 1) / (limit - 1))] for i in range(limit)]
    return times
