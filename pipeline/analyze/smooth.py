"""Smoothing over a time window, hysteresis on the top label, and the valence index.

Per-frame predictions flicker; a researcher wants the expression that holds for a moment. The
raw probabilities stay in frames.csv beside the smoothed ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Valence index = sum of smoothed probabilities times these weights, in [-1, 1]: pleasant (happy)
# minus unpleasant (angry, disgust, fear, sad). Surprise and neutral count 0: surprise can be
# either, and its sign is read from the context. Classes not named here also count 0.
VALENCE_WEIGHTS: dict[str, float] = {"happy": 1.0, "angry": -1.0, "disgust": -1.0, "fear": -1.0, "sad": -1.0,
                                     "surprise": 0.0, "neutral": 0.0}


def smooth_probabilities(probs: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over ``window`` instants, skipping instants without a face (NaN rows),
    which stay NaN."""
    if window <= 1 or len(probs) == 0:
        return probs.copy()
    out = pd.DataFrame(probs).rolling(window, center=True, min_periods=1).mean().to_numpy(np.float32, copy=True)
    out[np.isnan(probs).any(axis=1)] = np.nan
    return out


def hysteresis_labels(smoothed: np.ndarray, margin: float) -> np.ndarray:
    """Top label per instant (-1 without a face) that switches only when a rival leads the current
    label by ``margin``; after a face-lost gap the plain argmax starts again."""
    n = len(smoothed)
    labels = np.full(n, -1, np.int64)
    if n == 0:
        return labels
    valid = ~np.isnan(smoothed).any(axis=1)
    argmax = np.where(valid, np.nan_to_num(smoothed, nan=-1.0).argmax(axis=1), -1)
    best = np.nan_to_num(smoothed, nan=-1.0).max(axis=1)
    current = -1
    for i in range(n):  # inherently sequential; a few µs per instant
        if not valid[i]:
            current = -1
        elif current == -1 or best[i] >= smoothed[i, current] + margin:
            current = int(argmax[i])
        labels[i] = current
    return labels


def valence(probs: np.ndarray, class_names: tuple[str, ...]) -> np.ndarray:
    weights = np.array([VALENCE_WEIGHTS.get(name, 0.0) for name in class_names], np.float32)
    return probs @ weights


def runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(label, first, last) of each maximal run of equal labels (label -1 = no face included)."""
    if len(labels) == 0:
        return []
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(labels)]]) - 1
    return [(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends)]
