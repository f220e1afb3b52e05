"""Balanced class weights for the class-weighted cross-entropy (FER2013's disgust is ~15x rarer than happy)."""

from __future__ import annotations

import json
import os

import numpy as np
from sklearn.utils.class_weight import compute_class_weight

from pipeline.constants import CLASS_NAMES


def balanced_class_weights(train_labels: np.ndarray) -> dict[str, float]:
    """scikit-learn's 'balanced' weights n / (k * count_c), keyed by class name in CLASS_NAMES order.

    Every class must occur in train (a class without examples has no defined weight).
    """
    classes = np.arange(len(CLASS_NAMES))
    missing = sorted(set(classes) - set(np.unique(train_labels).tolist()))
    if missing:
        raise ValueError(f"class(es) {[CLASS_NAMES[c] for c in missing]} have no train images; cannot weight them")
    weights = compute_class_weight("balanced", classes=classes, y=train_labels)
    return {name: float(w) for name, w in zip(CLASS_NAMES, weights)}


def load_class_weights(path: str | os.PathLike) -> list[float]:
    """Weights from class_weights.json as a list in CLASS_NAMES order (for torch CrossEntropyLoss)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"class weights not found: {path} (run `dvc repro class_weights`)")
    with open(path) as fh:
        weights = json.load(fh)
    missing = [name for name in CLASS_NAMES if name not in weights]
    if missing:
        raise ValueError(f"{path}: no weight for class(es) {missing}")
    return [float(weights[name]) for name in CLASS_NAMES]
