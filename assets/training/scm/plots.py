"""Pictures for the sCM assets (matplotlib figures; the assets inline them as PNG metadata)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FINGERPRINT_EXEMPT = "pictures of outputs, never the outputs"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def loss_curve(curve: Sequence[dict], title: str, keys: Sequence[str] = ("loss",)):
    plt = _plt()
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.0), squeeze=False)
    for ax, key in zip(axes[0], keys, strict=True):
        pts = [(r["step"], r[key]) for r in curve if r.get(key) is not None]
        if pts:
            ax.plot(*zip(*pts, strict=True), color="#4C72B0", marker="." if len(pts) < 30 else None)
        ax.set_xlabel("step")
        ax.set_title(key)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def ratio_curve(curve: Sequence[dict], title: str = "FD(student) / FD(teacher) during training"):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    rows = [r for r in curve if r.get("ratio_1step") is not None]
    steps = [r["step"] for r in rows]
    ax.plot(steps, [r["ratio_1step"] for r in rows], marker="o", label="1-step")
    ax.plot(steps, [r["ratio_2step"] for r in rows], marker="s", label="2-step (best t_mid)")
    ax.axhline(1.5, color="grey", ls="--", lw=1, label="target 1.5")
    ax.set_yscale("log")
    ax.set_xlabel("student step")
    ax.set_ylabel("FD ratio (val)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def nfe_curve(sweep: Sequence[dict], points: Sequence[dict], floor: float):
    """Teacher FD vs NFE (Heun) with the other samplers as points and the real-vs-real floor."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot([r["nfe"] for r in sweep], [r["fd_test"] for r in sweep], marker=".", label="teacher Heun")
    for r in points:
        ax.scatter([r["nfe"]], [r["fd_test"]], label=f"{r['sampler']} ({r['nfe']} NFE)", zorder=3)
    ax.axhline(floor, color="grey", ls="--", lw=1, label="real vs real")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("NFE")
    ax.set_ylabel("FD (test)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def sample_grid(samples: dict[str, np.ndarray], per_row: int = 16):
    """One row of `per_row` greyscale images per sampler ([N, 1, H, W] in [0, 1])."""
    plt = _plt()
    names = list(samples)
    fig, axes = plt.subplots(len(names), 1, figsize=(per_row * 0.45, len(names) * 0.62))
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, names, strict=True):
        imgs = samples[name][:per_row, 0]
        pad = np.ones((imgs.shape[1], 1))
        strip = np.concatenate([np.concatenate([im, pad], axis=1) for im in imgs], axis=1)
        ax.imshow(strip, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=7)
    fig.tight_layout()
    return fig


def scaling_figure(rows: Sequence[dict]):
    """The scaling study: the students' FD ratio to their teacher (95% intervals) and matched-quality
    speed-up against parameters, one line per sampling step count."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
    students = [r for r in rows if r["network"] == "student"]
    for k in sorted({r["steps"] for r in students}):
        rs = sorted((r for r in students if r["steps"] == k), key=lambda r: r["params"])
        x = [r["params"] for r in rs]
        for ax, key in ((axes[0], "ratio"), (axes[1], "speedup_matched")):
            y = [r["ratio_to_teacher" if key == "ratio" else key] for r in rs]
            lo = [r["ratio_lo" if key == "ratio" else f"{key}_lo"] for r in rs]
            hi = [r["ratio_hi" if key == "ratio" else f"{key}_hi"] for r in rs]
            ax.errorbar(x, y, yerr=[np.subtract(y, lo), np.subtract(hi, y)], marker="o", capsize=3,
                        label=f"{k} step{'s' if k > 1 else ''}")
    axes[0].axhline(1.0, color="grey", ls="--", lw=1)
    for ax, label in ((axes[0], "FD ratio to teacher (test)"), (axes[1], "speed-up at matched FD")):
        ax.set_xscale("log")
        ax.set_xlabel("parameters")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle("sCM scaling study")
    fig.tight_layout()
    return fig
