"""Classification metrics: accuracy, loss, per-class scores, calibration and the confusion matrix.

Scores come from scikit-learn; expected calibration error (not in scikit-learn) is computed here
with equal-width confidence bins, as in Guo et al. (2017).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support


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
                           class_names: Sequence[str]) -> dict[str, Any]:
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
                    class_names: Sequence[str]) -> pd.DataFrame:
    """One row per test image, columns ``actual,predicted`` as class names (DVC's confusion template)."""
    names = np.asarray(class_names, dtype=object)
    return pd.DataFrame({"actual": names[np.asarray(labels)], "predicted": names[np.asarray(predicted)]})
