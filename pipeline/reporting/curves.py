"""Training curves: each run's train and val accuracy per epoch (the dvclive TSVs the trainer logs),
drawn as one figure, and the convergence numbers a reader checks before trusting an accuracy: has
the validation curve stopped moving by the last epochs, or was the run cut while still learning?
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.evaluation.figures import save_figure

CURVES_NAME = "curves.png"
# Where the trainer's dvclive logger writes each split's accuracy, relative to a run's folder.
CURVE_FILES = {"train": Path("dvclive/plots/metrics/train/acc.tsv"), "val": Path("dvclive/plots/metrics/val/acc.tsv")}
FLAT_WINDOW = 5  # epochs at the end of a run over which the val curve's range is measured
FLAT_RANGE_PP = 1.0  # a val curve moving less than this over the window is called flat


def read_curve(run_folder: str | os.PathLike) -> pd.DataFrame | None:
    """Columns epoch, split (train | val), acc; None when the run logged no curve."""
    frames = []
    for split, rel in CURVE_FILES.items():
        path = Path(run_folder) / rel
        if not path.exists():
            continue
        frame = pd.read_csv(path, sep="\t")
        if not {"step", "acc"} <= set(frame.columns):
            raise ValueError(f"{path}: expected the columns step and acc (dvclive's layout), found {list(frame.columns)}")
        frames.append(frame[["step", "acc"]].rename(columns={"step": "epoch"}).assign(split=split))
    return pd.concat(frames, ignore_index=True) if frames else None


def convergence(curve: pd.DataFrame, window: int = FLAT_WINDOW) -> dict[str, Any] | None:
    """Epochs, best and last val accuracy, and the val curve's range (pp) over its last ``window`` epochs."""
    val = curve[curve["split"] == "val"].sort_values("epoch")["acc"].to_numpy()
    if len(val) == 0:
        return None
    tail = val[-window:]
    spread = 100 * float(tail.max() - tail.min())
    return {"epochs": len(val), "best_val": 100 * float(val.max()), "last_val": 100 * float(val[-1]),
            "window": len(tail), "tail_range_pp": spread, "flat": len(val) >= window and spread < FLAT_RANGE_PP}


def convergence_rows(curves: dict[str, pd.DataFrame]) -> list[list[str]]:
    """One Markdown row per run: run, epochs, best / last val acc, the last epochs' range, flat or not."""
    rows = []
    for run, curve in curves.items():
        c = convergence(curve)
        if c is None:
            continue
        rows.append([run, str(c["epochs"]), f"{c['best_val']:.2f}", f"{c['last_val']:.2f}",
                     f"{c['tail_range_pp']:.2f} (last {c['window']})", "yes" if c["flat"] else "no"])
    return rows


def figure_curves(path: str | os.PathLike, curves: dict[str, pd.DataFrame], data_source: str) -> bool:
    """Train and val accuracy per epoch, one panel per run; False (nothing written) when no run has a curve."""
    if not curves:
        return False
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib.ticker import MaxNLocator

    cols = min(3, len(curves))
    rows = math.ceil(len(curves) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.2 * rows), squeeze=False, sharey=True)
    for ax in axes.flat[len(curves):]:
        ax.set_visible(False)
    for ax, (run, curve) in zip(axes.flat, curves.items()):
        frame = curve.assign(acc=100 * curve["acc"])
        sns.lineplot(data=frame, x="epoch", y="acc", hue="split", hue_order=["train", "val"], marker="o",
                     markersize=3, ax=ax, legend=ax is axes.flat[0])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(run)
        ax.set_ylabel("accuracy %")
        ax.grid(alpha=0.3)
    fig.suptitle(f"Training curves: accuracy per epoch (data: {data_source})")
    save_figure(fig, path, dpi=100)
    return True
