"""Judging generated digits: Frechet distance in a classifier's features, class coverage, and the
FD-ratio curve measured while the student trains. No Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from assets.training.scm.data import ImageData
from assets.training.scm.frechet import FeatureClassifier, GaussianStats, class_coverage, frechet_distance

if TYPE_CHECKING:  # torch is loaded by the sampling that RatioCurve runs, not by judging
    import torch
    from torch import nn


class Judge:
    """A feature classifier trained on the training split, with the feature statistics of the
    real val and test splits. FD of generated samples is always measured against one split."""

    def __init__(self, data: ImageData, hidden: Sequence[int] = (128, 64), seed: int = 0):
        if not data.labelled:
            raise ValueError("the sCM report needs class labels to train its feature classifier "
                             "(a folder with one subfolder per class, or a 'label' column)")
        self.data = data
        x_tr, y_tr = data.part("train")
        self.classifier = FeatureClassifier(tuple(hidden), seed).fit(x_tr, y_tr)
        self.real_features = {s: self.classifier.features(data.part(s)[0]) for s in ("val", "test")}
        self.stats = {s: GaussianStats.of(f) for s, f in self.real_features.items()}
        self.accuracy = {s: self.classifier.accuracy(*data.part(s)) for s in ("val", "test")}

    def fd(self, samples: np.ndarray | torch.Tensor, split: str) -> float:
        x = self.data.clip(_np(samples))
        return frechet_distance(GaussianStats.of(self.classifier.features(x)), self.stats[split])

    def coverage(self, samples: np.ndarray | torch.Tensor) -> dict[str, float]:
        return class_coverage(self.classifier.predict(self.data.clip(_np(samples))), self.data.n_classes)

    def train_draw(self, n: int, seed: int) -> np.ndarray:
        """`n` real training images (drawn with replacement when n exceeds the split)."""
        x_tr, _ = self.data.part("train")
        rng = np.random.default_rng(seed)
        return x_tr[rng.choice(len(x_tr), size=n, replace=n > len(x_tr))]

    def bootstrap_fd(self, named: dict[str, np.ndarray | torch.Tensor], split: str, n_boot: int,
                     seed: int) -> dict[str, np.ndarray]:
        """FD of each sample set against `split` over `n_boot` bootstrap rounds. In a round the real
        split's images are redrawn with replacement once, and one redraw of sample indices is shared
        by every set of the same size (the samplers start from the same noise, row for row): ratios
        and differences between sets taken round by round are paired, so their spread is the
        uncertainty of the comparison, not of each FD alone."""
        rng = np.random.default_rng(seed)
        real = self.real_features[split]
        feats = {k: self.classifier.features(self.data.clip(_np(x))) for k, x in named.items()}
        out = {k: np.empty(n_boot) for k in named}
        for b in range(n_boot):
            ref = GaussianStats.of(real[rng.integers(0, len(real), len(real))])
            draws: dict[int, np.ndarray] = {}
            for k, f in feats.items():
                idx = draws.setdefault(len(f), rng.integers(0, len(f), len(f)))
                out[k][b] = frechet_distance(GaussianStats.of(f[idx]), ref)
        return out


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


class RatioCurve:
    """The evaluation run every `eval_every` student steps: FD on the val split of the student's
    1-step and 2-step samplers, and their ratio to the teacher's Heun FD at `teacher_steps`."""

    def __init__(self, judge: Judge, teacher: nn.Module, n: int, t_mids: Sequence[float],
                 teacher_steps: int, seed: int, device: torch.device | str = "cpu"):
        from assets.training.scm import sampling as scm_sampling

        self.judge, self.n, self.t_mids, self.seed, self.device = judge, n, tuple(t_mids), seed, device
        shape = judge.data.shape
        x = scm_sampling.sample(teacher, "heun", n, shape, seed, steps=teacher_steps, device=device)
        self.teacher_fd = judge.fd(x, "val")
        self.teacher_nfe = 2 * teacher_steps

    def __call__(self, net: nn.Module, step: int) -> dict:
        from assets.training.scm import sampling as scm_sampling

        shape = self.judge.data.shape
        fd1 = self.judge.fd(scm_sampling.sample(net, "cm1", self.n, shape, self.seed, device=self.device), "val")
        fd2 = min(self.judge.fd(scm_sampling.sample(net, "cm2", self.n, shape, self.seed, t_mid=tm,
                                                    device=self.device), "val") for tm in self.t_mids)
        return {"fd_val_1step": fd1, "fd_val_2step": fd2, "teacher_fd_val": self.teacher_fd,
                "ratio_1step": fd1 / self.teacher_fd, "ratio_2step": fd2 / self.teacher_fd}
