"""Balanced class weights for the class-weighted cross-entropy (FER2013's disgust is ~15x rarer than happy)."""

from __future__ import annotations

import json
import os
from typing import Sequence

import numpy as np


def balanced_class_weights(train_labels: np.ndarray, class_names: Sequence[str]) -> dict[str, float]:
    """scikit-learn's 'balanced' weights n / (k * count_c), keyed by class name in the data's class order.

    Every class must occur in train (a class without examples has no defined weight).
    """
    classes = np.arange(len(class_names))
    missing = sorted(set(classes.tolist()) - set(np.unique(train_labels).tolist()))
    if missing:
        raise ValueError(f"class(es) {[class_names[c] for c in missing]} have no train images; cannot weight them")
    from sklearn.utils.class_weight import compute_class_weight  # here: sklearn costs ~2 s to import per stage

    weights = compute_class_weight("balanced", classes=classes, y=train_labels)
    return {name: float(w) for name, w in zip(class_names, weights)}


def load_class_weights(path: str | os.PathLike, class_names: Sequence[str]) -> list[float]:
    """Weights from class_weights.json as a list in ``class_names`` order (for the cross-entropy)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"class weights not found: {path} (run `dvc repro class_weights`)")
    with open(path) as fh:
        weights = json.load(fh)
    if set(weights) != set(class_names):
        raise ValueError(f"{path}: classes {list(weights)} differ from the dataset's {list(class_names)}; "
                         "run `dvc repro class_weights`")
    return [float(weights[name]) for name in class_names]
