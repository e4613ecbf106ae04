"""A tiny deterministic sentence encoder for unit tests: hashed bag of words, unit-normalised.

Texts sharing words are similar, texts sharing none are orthogonal, so a test can say which leaf or
mood a text must land on without loading a model."""

from __future__ import annotations

import re
import zlib

import numpy as np

DIM = 512
_WORD = re.compile(r"[a-z0-9]+")


def encode(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        for w in _WORD.findall(text.lower()):
            out[i, zlib.crc32(w.encode()) % DIM] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)
