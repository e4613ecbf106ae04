"""Frechet distance in the features of a classifier trained on the same images (not FID: no
Inception network, no ImageNet features), and class coverage of generated samples.

The feature extractor is a small MLP classifier (scikit-learn, seeded) trained on the training
split; its last hidden layer (tanh, so no dead units and a well-conditioned covariance) is the
feature space. FD(a, b) = ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2), computed
with symmetric eigendecompositions (no complex sqrtm round-off).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _sqrt_psd(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


@dataclass(frozen=True)
class GaussianStats:
    mu: np.ndarray
    cov: np.ndarray
    n: int

    @classmethod
    def of(cls, feats: np.ndarray) -> GaussianStats:
        feats = np.asarray(feats, dtype=np.float64)
        if feats.ndim != 2 or feats.shape[0] < 2:
            raise ValueError("need a 2-D array with at least 2 rows")
        return cls(feats.mean(0), np.cov(feats, rowvar=False), feats.shape[0])


def frechet_distance(a: GaussianStats | np.ndarray, b: GaussianStats | np.ndarray) -> float:
    a = a if isinstance(a, GaussianStats) else GaussianStats.of(a)
    b = b if isinstance(b, GaussianStats) else GaussianStats.of(b)
    sa = _sqrt_psd(a.cov)
    cross = np.linalg.eigvalsh(sa @ b.cov @ sa)
    tr_cross = float(np.sqrt(np.clip(cross, 0.0, None)).sum())
    d = float(((a.mu - b.mu) ** 2).sum() + np.trace(a.cov) + np.trace(b.cov) - 2.0 * tr_cross)
    return max(d, 0.0)


class FeatureClassifier:
    """An sklearn MLP classifier on flattened images; `features` is its last hidden layer."""

    def __init__(self, hidden: tuple[int, ...] = (128, 64), seed: int = 0, max_iter: int = 300):
        from sklearn.neural_network import MLPClassifier

        self.model = MLPClassifier(hidden_layer_sizes=hidden, activation="tanh", alpha=1e-3,
                                   max_iter=max_iter, random_state=seed, tol=1e-5)

    def fit(self, x: np.ndarray, y: np.ndarray) -> FeatureClassifier:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from threadpoolctl import threadpool_limits

        # one BLAS thread: the matrices are small, and extra threads on a busy machine cost 10x
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(_flat(x), y)
        return self

    def features(self, x: np.ndarray) -> np.ndarray:
        h = _flat(x)
        for w, b in zip(self.model.coefs_[:-1], self.model.intercepts_[:-1], strict=True):
            h = np.tanh(h @ w + b)
        return h

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(_flat(x))

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(x) == y).mean())


def _flat(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(x.shape[0], -1)


def class_coverage(pred: np.ndarray, n_classes: int, min_share: float = 0.5) -> dict[str, float]:
    """Share of classes that get at least `min_share` of the uniform share 1/K of the samples,
    plus the smallest and largest class shares (a collapsed generator covers few classes)."""
    counts = np.bincount(np.asarray(pred, dtype=np.int64), minlength=n_classes)[:n_classes]
    shares = counts / max(1, counts.sum())
    return {
        "coverage": float((shares >= min_share / n_classes).mean()),
        "min_class_share": float(shares.min()),
        "max_class_share": float(shares.max()),
    }
