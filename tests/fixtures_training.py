"""Tiny data and models shared by the training-area tests (fast on 2 CPU cores)."""

from __future__ import annotations

import numpy as np

from pipeline.inputs.device_data import DeviceSplit
from pipeline.models import build_model
from pipeline.training.config import TrainConfig

TINY_SPEC = {"family": "resemotenet", "width": 0.03125, "se_reduction": 1}
INPUT_SIZE = 16


# A test's own full training settings (TrainConfig has no defaults: the params' are the schema's and params.yaml's).
TEST_TRAIN = dict(epochs=1, batch_size=32, lr=0.01, momentum=0.9, weight_decay=1e-4, plateau_factor=0.1,
                  plateau_patience=2, early_stopping_patience=0, seed=0, device="auto", bf16=False, compile=False,
                  eval_batch_size=256, input_size=32, deterministic=True, schedule="plateau", aug_shift=0.0,
                  aug_rotate=0.0, aug_scale=0.0)


def train_config(**overrides) -> TrainConfig:
    """TEST_TRAIN with ``overrides``."""
    return TrainConfig(**{**TEST_TRAIN, **overrides})


def tiny_model():
    return build_model(TINY_SPEC, 7)


def random_split(n: int, seed: int, size: int = INPUT_SIZE) -> DeviceSplit:
    """Images whose mean brightness depends on the label, so a model can learn something."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, n)
    images = rng.integers(0, 96, (n, 24, 24)) + (labels * 20)[:, None, None]
    return DeviceSplit.from_arrays(images.astype(np.uint8), labels, size, "cpu")
