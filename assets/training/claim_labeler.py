"""An independent labeler for preference pairs: RLAIF-V's divide-and-conquer on digit scenes.

RLAIF-V splits each sampled answer into atomic claims and has a separate open model verify each
claim against the image. Here a claim is "a d at the p" (one digit in one grid cell), and the
verifier is a cell classifier that looks only at the pixels: each of the nine cells of the scene
image is cropped and classified as a digit or empty. It is trained on its own scenes (fresh random
layouts of the `train` digit pool drawn with the labeler's seed, not the dialogues the MLLM learnt
from) and its error rate is measured on cells of scenes built from the `test` digits, handwriting
it never saw, as the `pref` scenes it labels are. The evaluation's CHAIR is computed from the
scene's annotation, so labels from this classifier are not the metric's own judge.

The classifier is scikit-learn's MLP; its weights are kept as plain arrays (an .npz, no pickle)
and applied with numpy.

Pure logic: numpy, Pillow and scikit-learn.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assets.training import digit_scenes as ds

EMPTY = 10  # the class of a cell without a digit
CELLS = ds.GRID * ds.GRID


def cell_crops(pixels: np.ndarray) -> np.ndarray:
    """The nine cells of a scene image ([H, W] uint8 at any integer scale) as [9, TILE*TILE]
    floats in 0..1: averaged down to the canvas's resolution, and in each cell the tile-sized
    window centred on the ink's centre of mass (a digit sits anywhere in its cell; centring
    removes the offset a small classifier would otherwise have to learn). An empty cell is zeros."""
    scale = pixels.shape[0] // ds.CANVAS
    canvas = pixels.reshape(ds.CANVAS, scale, ds.CANVAS, scale).mean(axis=(1, 3)) / 255.0
    cells = canvas.reshape(ds.GRID, ds.CELL, ds.GRID, ds.CELL).transpose(0, 2, 1, 3).reshape(CELLS, ds.CELL, ds.CELL)
    out = np.zeros((CELLS, ds.TILE * ds.TILE), dtype=np.float32)
    grid = np.arange(ds.CELL)
    for i, cell in enumerate(cells):
        ink = cell.sum()
        if ink <= 0:
            continue
        cy, cx = (cell.sum(1) @ grid) / ink, (cell.sum(0) @ grid) / ink
        y0, x0 = (int(np.clip(round(c - (ds.TILE - 1) / 2), 0, ds.MAX_OFFSET)) for c in (cy, cx))
        out[i] = cell[y0:y0 + ds.TILE, x0:x0 + ds.TILE].ravel()
    return out


def png_pixels(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def cell_labels(scene: ds.Scene) -> np.ndarray:
    labels = np.full(CELLS, EMPTY, dtype=np.int64)
    for p in scene.digits:
        labels[p.cell] = p.digit
    return labels


def crops_of_scenes(pool: dict[int, list[int]], n_scenes: int, seed: int, scale: int,
                    images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cells and their classes from `n_scenes` random scenes of `pool`, rendered as the scenes are."""
    rng = random.Random(f"claim_labeler:{seed}")
    xs, ys = [], []
    for _ in range(n_scenes):
        scene = ds.random_scene(rng, pool)
        xs.append(cell_crops(ds.render(scene, images, scale)))
        ys.append(cell_labels(scene))
    return np.concatenate(xs), np.concatenate(ys)


@dataclass
class CellClassifier:
    """A trained MLP's layers (ReLU hidden layers, softmax output over 0-9 and EMPTY)."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    @classmethod
    def train(cls, x: np.ndarray, y: np.ndarray, hidden: tuple[int, ...] = (128,), seed: int = 0) -> CellClassifier:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
        from threadpoolctl import threadpool_limits

        model = MLPClassifier(hidden_layer_sizes=hidden, alpha=1e-4, max_iter=200, random_state=seed,
                              early_stopping=True, n_iter_no_change=8)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y)
        if list(model.classes_) != list(range(EMPTY + 1)):
            raise ValueError(f"the labeler's training cells miss classes: {sorted(set(range(EMPTY + 1)) - set(model.classes_))}")
        return cls([w.astype(np.float32) for w in model.coefs_], [b.astype(np.float32) for b in model.intercepts_])

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        h = x
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = np.maximum(h @ w + b, 0.0)
        logits = h @ self.weights[-1] + self.biases[-1]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.probabilities(x).argmax(axis=1)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, **{f"w{i}": w for i, w in enumerate(self.weights)},
                 **{f"b{i}": b for i, b in enumerate(self.biases)})
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CellClassifier:
        with np.load(io.BytesIO(data)) as z:
            n = len([k for k in z.files if k.startswith("w")])
            return cls([z[f"w{i}"] for i in range(n)], [z[f"b{i}"] for i in range(n)])


def error_rates(classifier: CellClassifier, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Cell error overall, on digit cells, on empty cells, and the rate at which a digit cell is
    read as another digit (what would turn a true claim into a 'hallucination')."""
    pred = classifier.predict(x)
    digit, empty = y != EMPTY, y == EMPTY
    return {"cell_error": float((pred != y).mean()), "digit_cell_error": float((pred[digit] != y[digit]).mean()),
            "empty_cell_error": float((pred[empty] != EMPTY).mean()),
            "digit_read_as_other_digit": float(((pred != y) & (pred != EMPTY))[digit].mean()),
            "cells": int(len(y))}


def reading(classifier: CellClassifier, png: bytes) -> dict[int, int]:
    """What the labeler sees in a scene image: cell -> digit, for the cells it reads as non-empty."""
    pred = classifier.predict(cell_crops(png_pixels(png)))
    return {c: int(d) for c, d in enumerate(pred) if d != EMPTY}


def scene_reading(scene: ds.Scene) -> dict[int, int]:
    """The oracle's reading: the scene's own annotation."""
    return {p.cell: p.digit for p in scene.digits}


def claim_agreement(captions: Sequence[str], labeler: Sequence[dict[int, int]],
                    truth: Sequence[dict[int, int]]) -> dict[str, float]:
    """How often the labeler's verdict on a claim (true / false) agrees with the annotation's, over
    every claim of `captions`; and its precision and recall at flagging false claims."""
    agree = n = flagged = flagged_right = false_claims = caught = 0
    cell_of = {name: c for c, name in enumerate(ds.POSITION_NAMES)}
    for text, lab, tru in zip(captions, labeler, truth, strict=True):
        for d, pos in ds.parse_caption(text):
            # a digit named without a position is a wrong claim, as `preference.judge` counts it
            c = cell_of.get(pos)
            says_true, is_true = c is not None and lab.get(c) == d, c is not None and tru.get(c) == d
            n += 1
            agree += says_true == is_true
            flagged += not says_true
            flagged_right += (not says_true) and (not is_true)
            false_claims += not is_true
            caught += (not says_true) and (not is_true)
    return {"claims": n, "claim_agreement": agree / n if n else float("nan"),
            "false_claim_precision": flagged_right / flagged if flagged else float("nan"),
            "false_claim_recall": caught / false_claims if false_claims else float("nan")}
