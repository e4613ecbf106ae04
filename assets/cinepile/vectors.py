"""Sentence vectors memoised per asset run: the blind answerer, the rewriter and the template picker
embed the same questions, options and same-video lines many times over (five rotations, five
rounds, one distractor pool per video), and encoding is most of the group's cost on a CPU."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Encode = Callable[[list[str]], np.ndarray]


def memoized(encode: Encode) -> Encode:
    cache: dict[str, np.ndarray] = {}

    def run(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, encode(missing), strict=True))
        if not texts:
            return encode([])
        return np.stack([cache[t] for t in texts])

    return run
