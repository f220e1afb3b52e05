"""Test-set evaluation: accuracy, loss, per-class scores, calibration and the confusion matrix.

Scores come from scikit-learn; expected calibration error (not in scikit-learn) is computed here
with equal-width confidence bins, as in Guo et al. (2017).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from pipeline.atomic import atomic_path, write_json
from pipeline.constants import CLASS_NAMES
from pipeline.device_data import DeviceSplit, device_name, predict_logits
from pipeline.models import count_parameters
from pipeline.prepared import PreparedData

ECE_BINS = 15


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Sum over equal-width confidence bins of |accuracy - mean confidence| weighted by bin share.

    Bins are (lo, hi]; a confidence of exactly 0 falls into the first bin.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    if confidence.shape != correct.shape or confidence.ndim != 1:
        raise ValueError(f"confidence {confidence.shape} and correct {correct.shape} must be equal-length vectors")
    if len(confidence) == 0:
        raise ValueError("expected_calibration_error needs at least one prediction")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        in_bin = bin_index == b
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def classification_metrics(labels: np.ndarray, logits: np.ndarray,
                           class_names: Sequence[str] = CLASS_NAMES) -> dict[str, Any]:
    """Every test metric from true labels (N,) and logits (N, C): accuracy, CE loss, macro-F1, per class, ECE."""
    labels = np.asarray(labels, dtype=np.int64)
    logits_t = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    if logits_t.ndim != 2 or logits_t.shape[0] != len(labels) or logits_t.shape[1] != len(class_names):
        raise ValueError(f"logits {tuple(logits_t.shape)} do not match {len(labels)} labels x {len(class_names)} classes")
    probs = torch.softmax(logits_t, dim=1).numpy()
    predicted = probs.argmax(axis=1)
    class_ids = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=class_ids, zero_division=0)
    return {
        "test_acc": float(accuracy_score(labels, predicted)),
        "test_loss": float(F.cross_entropy(logits_t, torch.as_tensor(labels)).item()),
        "macro_f1": float(f1_score(labels, predicted, labels=class_ids, average="macro", zero_division=0)),
        "ece": expected_calibration_error(probs.max(axis=1), predicted == labels),
        "ece_bins": ECE_BINS,
        "n_test": int(len(labels)),
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]),
                   "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(class_names)
        },
        "confusion_matrix": confusion_matrix(labels, predicted, labels=class_ids).tolist(),
    }


def confusion_frame(labels: np.ndarray, predicted: np.ndarray,
                    class_names: Sequence[str] = CLASS_NAMES) -> pd.DataFrame:
    """One row per test image, columns ``actual,predicted`` as class names (DVC's confusion template)."""
    names = np.asarray(class_names, dtype=object)
    return pd.DataFrame({"actual": names[np.asarray(labels)], "predicted": names[np.asarray(predicted)]})


def plot_confusion(ax, frame: pd.DataFrame, title: str, class_names: Sequence[str] = CLASS_NAMES,
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


def save_confusion_png(path: str | os.PathLike, frame: pd.DataFrame, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    plot_confusion(ax, frame, title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def evaluate_model(model: torch.nn.Module, meta: dict, data: PreparedData, device: torch.device,
                   batch_size: int = 256) -> tuple[dict[str, Any], pd.DataFrame]:
    """Metrics dict and per-image confusion frame of one saved model on the prepared test split (no augmentation)."""
    if "input_size" not in meta:
        raise ValueError(f"model metadata has no 'input_size' (got keys {sorted(meta)}); re-save the model with it")
    images, labels = data.subset("test")
    split = DeviceSplit.from_arrays(images, labels, int(meta["input_size"]), device)
    model = model.to(device)
    logits = predict_logits(model, split, batch_size=batch_size).cpu().numpy()
    metrics = classification_metrics(labels, logits)
    predicted = logits.argmax(axis=1)
    metrics.update({
        "model": meta.get("name"),
        "kind": meta.get("kind"),
        "run": meta.get("run"),
        "params": count_parameters(model),
        "dataset": meta.get("dataset", data.source),
        "data_source": data.source,
        "input_size": int(meta["input_size"]),
        "device": device_name(device),
    })
    return metrics, confusion_frame(labels, predicted)


def write_evaluation(out_dir: str | os.PathLike, metrics: dict[str, Any], frame: pd.DataFrame) -> None:
    """metrics.json, confusion.csv and confusion.png into ``out_dir``, each written atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "confusion.csv", suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False)
    label = metrics.get("run") or metrics.get("model") or out.name
    title = f"{label} ({metrics.get('model')}) - test acc {100 * metrics['test_acc']:.2f}%"
    save_confusion_png(out / "confusion.png", frame, title)
    write_json(out / "metrics.json", metrics)
