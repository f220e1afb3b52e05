"""Figures: seaborn confusion-matrix heatmaps (one per model, and the grid of Fig. 4)."""

from __future__ import annotations

import os
from typing import Sequence

import pandas as pd

from pipeline.core.atomic import atomic_path


def plot_confusion(ax, frame: pd.DataFrame, title: str, class_names: Sequence[str],
                   cbar: bool = True) -> None:
    """Seaborn heatmap of counts (rows actual, columns predicted) on one matplotlib axis."""
    import seaborn as sns

    counts = pd.crosstab(pd.Categorical(frame["actual"], categories=class_names),
                         pd.Categorical(frame["predicted"], categories=class_names), dropna=False)
    sns.heatmap(counts, annot=True, fmt="d", cmap="Blues", cbar=cbar, ax=ax, square=True,
                xticklabels=class_names, yticklabels=class_names, annot_kws={"fontsize": 7})
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(title, fontsize=9)


def save_figure(fig, path: str | os.PathLike, dpi: int) -> None:
    """Lay out, write as PNG atomically (a killed run leaves no half-written file), and close."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)


def save_confusion_png(path: str | os.PathLike, frame: pd.DataFrame, title: str, class_names: Sequence[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    plot_confusion(ax, frame, title, class_names)
    save_figure(fig, path, dpi=120)
