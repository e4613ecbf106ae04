"""Pictures of the training group's outputs (loss curves, scene grids, DPO rewards) as matplotlib
figures; the assets inline them in their metadata. Presentation only, never an output.

matplotlib is imported when a picture is drawn (Agg backend).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

FINGERPRINT_EXEMPT = "pictures of outputs, never the outputs"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def loss_figure(curves: dict[str, list], title: str):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 2.6))
    for name, curve in curves.items():
        if curve:
            ax.plot([c[0] for c in curve], [c[1] for c in curve], label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def scene_grid_figure(pngs: Sequence[bytes], titles: Sequence[str], title: str, cols: int = 4):
    from PIL import Image

    plt = _pyplot()
    rows = max(1, (len(pngs) + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.0 * cols, 3.3 * rows))
    for ax in getattr(axes, "flat", [axes]):
        ax.axis("off")
    for ax, png, t in zip(getattr(axes, "flat", [axes]), pngs, titles, strict=False):
        ax.imshow(Image.open(io.BytesIO(png)), cmap="gray", interpolation="nearest")
        ax.set_title("\n".join(textwrap.wrap(t, 34)), fontsize=7)
    fig.suptitle(title)
    return fig


def dpo_rewards_figure(logs: list[dict]):
    plt = _pyplot()
    steps = [e["step"] for e in logs if "rewards/margins" in e]
    fig, ax = plt.subplots(figsize=(6, 2.6))
    for key in ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"):
        ax.plot(steps, [e[key] for e in logs if "rewards/margins" in e], label=key)
    ax.set_xlabel("step")
    ax.legend(fontsize=7)
    ax.set_title("DPO (TRL log)")
    return fig
