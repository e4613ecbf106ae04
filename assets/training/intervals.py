"""95% intervals for the MLLM and DPO figures: a bootstrap over held-out scenes.

The items of one scene (its caption, its questions, its dialogue) share an image, so they are not
independent: a binomial interval per item would be too narrow. Whole scenes are resampled with
replacement, every figure is recomputed from the resampled rows by the same function that made
the point estimate, and the interval is the 2.5-97.5 percentiles of the rounds. Figures that
compare two models (CHAIR before and after DPO) are paired: a round draws the same scenes for both.

Pure logic: numpy only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

ROUNDS = 1000


def scene_bootstrap(rows: Sequence[dict], statistic: Callable[[list[dict]], dict[str, float]],
                    rounds: int = ROUNDS, seed: int = 0, key: str = "scene_id") -> dict[str, list[float]]:
    """{figure: [lo, hi]} for every figure `statistic` returns. Each drawn copy of a scene is a new
    scene: its rows carry `copy` (the draw's position), so a statistic that groups rows (a dialogue's
    turns) keeps two copies apart by grouping on it too."""
    by_scene: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_scene[r[key]].append(r)
    scenes = sorted(by_scene)
    if not scenes:
        return {}
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        pick = rng.integers(0, len(scenes), len(scenes))
        sample = [{**r, "copy": k} for k, i in enumerate(pick) for r in by_scene[scenes[i]]]
        for name, value in statistic(sample).items():
            draws[name].append(value)
    return {name: [float(v) for v in np.nanpercentile(vals, [2.5, 97.5])] for name, vals in draws.items()
            if len(vals) == rounds}


def means(rows: Sequence[dict], name: str = "metric", value: str = "score") -> dict[str, float]:
    """Mean of `value` per `name`: the statistic of rows that are one scored item each."""
    groups: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        groups[r[name]].append(r[value])
    return {k: float(np.mean(v)) for k, v in groups.items()}


def formatted(point: float, bounds: Sequence[float] | None, digits: int = 3) -> str:
    """'0.921 [0.897, 0.943]' (the point alone when there is no interval)."""
    if not bounds:
        return f"{point:.{digits}f}"
    return f"{point:.{digits}f} [{bounds[0]:.{digits}f}, {bounds[1]:.{digits}f}]"
