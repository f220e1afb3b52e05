"""Class weights: scikit-learn's balanced weights, keyed and ordered by CLASS_NAMES."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from pipeline.dataset.class_weights import balanced_class_weights, load_class_weights
from pipeline.sources.fer2013 import CLASS_NAMES


def test_weights_equal_sklearn_and_round_trip(tmp_path):
    labels = np.random.default_rng(0).choice(7, size=500, p=[0.14, 0.02, 0.14, 0.25, 0.17, 0.11, 0.17])
    weights = balanced_class_weights(labels, CLASS_NAMES)
    assert list(weights) == list(CLASS_NAMES)
    expected = compute_class_weight("balanced", classes=np.arange(7), y=labels)
    np.testing.assert_allclose(list(weights.values()), expected)
    assert weights["disgust"] == max(weights.values())  # rarest class weighs most
    path = tmp_path / "class_weights.json"
    path.write_text(json.dumps(dict(reversed(list(weights.items())))))  # order in the file must not matter
    np.testing.assert_allclose(load_class_weights(path, CLASS_NAMES), expected)


def test_missing_class_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="disgust"):
        balanced_class_weights(np.array([0, 2, 3, 4, 5, 6]), CLASS_NAMES)
    with pytest.raises(FileNotFoundError, match="class_weights"):
        load_class_weights(tmp_path / "class_weights.json", CLASS_NAMES)
