"""Teacher soft targets, computed once: logits for every train image and for its mirror.

With flip-only augmentation these two rows are exactly what the teacher would output on any
augmented view, so students are distilled without ever running the teacher again.
"""

from __future__ import annotations

import os

import numpy as np
import torch

from pipeline.core.atomic import atomic_path
from pipeline.inputs.device_data import DeviceSplit, predict_logits
from pipeline.models import load_model


def compute_soft_targets(teacher: torch.nn.Module, train: DeviceSplit, batch_size: int = 256) -> np.ndarray:
    """float32 (N, 2, classes): [:, 0] = eval-mode logits of each image, [:, 1] = of its mirror."""
    plain = predict_logits(teacher, train, batch_size=batch_size, flip=False)
    mirrored = predict_logits(teacher, train, batch_size=batch_size, flip=True)
    return torch.stack([plain, mirrored], dim=1).float().cpu().numpy()


def save_soft_targets(path: str | os.PathLike, soft_targets: np.ndarray) -> None:
    with atomic_path(path, suffix=".npy") as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(soft_targets, dtype=np.float32))


def load_soft_targets(path: str | os.PathLike, num_train: int, num_classes: int) -> np.ndarray:
    """Load and check the table matches the train split it will be indexed with."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"soft targets not found: {path} (run `dvc repro soft_targets`)")
    table = np.load(path, allow_pickle=False)
    expected = (num_train, 2, num_classes)
    if table.shape != expected or table.dtype != np.float32:
        raise ValueError(f"{path}: soft targets are {table.dtype} {table.shape}, expected float32 {expected} "
                         "(the train split changed since the teacher ran? rerun soft_targets)")
    if not np.isfinite(table).all():
        bad = int(np.argwhere(~np.isfinite(table))[0][0])
        raise ValueError(f"{path}: non-finite teacher logits at train row {bad}")
    return table


def distribution_table(soft_labels: np.ndarray, floor: float = 1e-8) -> np.ndarray:
    """Label distributions (N, K) as a soft-target table (N, 2, K) of log-probabilities (the mirror shares its row).

    softmax(log p) = p, so a loss reading teacher logits reads these distributions unchanged: FER+'s
    vote distributions ("crossentropy" targets) go through the same table and losses as a teacher's.
    """
    logp = np.log(np.clip(np.asarray(soft_labels, np.float64), floor, None)).astype(np.float32)
    return np.ascontiguousarray(np.stack([logp, logp], axis=1))


def load_teacher(path: str | os.PathLike, input_size: int, device: torch.device | str = "cpu"):
    """(model, meta) of the teacher, refused when it was trained at another input size than the students'."""
    teacher, meta = load_model(path, map_location=device)
    if meta.get("input_size") not in (None, input_size):
        raise ValueError(f"{path} was trained at input size {meta['input_size']}, params.yaml train.input_size "
                         f"is {input_size}: retrain the teacher (dvc repro train_teacher)")
    return teacher, meta
