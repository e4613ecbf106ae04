"""Sentence vectors memoised per asset run: the blind answerer, the rewriter and the template picker
embed the same questions, options and same-video lines many times over (five rotations, five
rounds, one distractor pool per video), and encoding is most of the group's cost on a CPU."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Encode = Callable[[list[str]], np.ndarray]


class EncoderTask:
    """Mixin for Tasks whose offline method embeds text: the encoder's name is part of the answer's
    identity (`config`) and of the model recorded for it (`offline_model_used`)."""

    offline_model: str

    def __init__(self, encode: Encode, *, encoder: str):
        self.encode = encode
        self.encoder = encoder

    def config(self) -> dict[str, Any]:
        return {"encoder": self.encoder}

    def offline_model_used(self) -> str:
        return f"{self.offline_model}+{self.encoder}"


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
