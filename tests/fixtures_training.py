"""Tiny data and models shared by the training-area tests (fast on 2 CPU cores)."""

from __future__ import annotations

import numpy as np

from pipeline.inputs.device_data import DeviceSplit
from pipeline.models import build_model

TINY_SPEC = {"family": "resemotenet", "width": 0.03125, "se_reduction": 1}
INPUT_SIZE = 16


def tiny_model():
    return build_model(TINY_SPEC, 7)


def random_split(n: int, seed: int, size: int = INPUT_SIZE) -> DeviceSplit:
    """Images whose mean brightness depends on the label, so a model can learn something."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, n)
    images = rng.integers(0, 96, (n, 24, 24)) + (labels * 20)[:, None, None]
    return DeviceSplit.from_arrays(images.astype(np.uint8), labels, size, "cpu")
