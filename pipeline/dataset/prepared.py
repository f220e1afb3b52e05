"""The prepared dataset: uint8 images, labels, split codes and the class names, in one compact .npz file.

Written once by the ``prepare`` stage; every later stage loads it straight onto the device. The
class set travels with the data (7 classes for FER2013/RAF-DB, 8 for FER+), so class weights,
model heads, confusion matrices and reports follow it instead of a global constant.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from pipeline.core.atomic import atomic_path
from pipeline.core.constants import SPLIT_CODE, SPLITS


@dataclass(frozen=True)
class PreparedData:
    images: np.ndarray  # uint8, (N, H, W) grayscale or (N, H, W, 3) RGB
    labels: np.ndarray  # int64, (N,), indices into class_names
    split: np.ndarray  # int8, (N,), indices into SPLITS
    source: str
    class_names: tuple[str, ...]
    # Optional per-image label distributions (N, classes), rows summing to 1: FER+'s vote
    # distributions ("crossentropy" targets); None when the labels are all there is.
    soft_labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.images.dtype != np.uint8 or self.images.ndim not in (3, 4) or len(self.images) != n:
            raise ValueError(f"images must be uint8 (N,H,W[,3]) with N={n}, got {self.images.dtype} {self.images.shape}")
        if len(self.split) != n:
            raise ValueError(f"split has {len(self.split)} entries for {n} images")
        if len(self.class_names) < 2:
            raise ValueError(f"need at least 2 classes, got {self.class_names}")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.class_names)):
            raise ValueError(f"labels outside 0..{len(self.class_names) - 1}")
        if self.soft_labels is not None and self.soft_labels.shape != (n, len(self.class_names)):
            raise ValueError(f"soft_labels must be (N, classes) = {(n, len(self.class_names))}, "
                             f"got {self.soft_labels.shape}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def subset(self, split_name: str) -> tuple[np.ndarray, np.ndarray]:
        """(images, labels) of one split; raises if the split is empty."""
        mask = self.split == SPLIT_CODE[split_name]
        if not mask.any():
            raise ValueError(f"split {split_name!r} is empty in the prepared {self.source} dataset")
        return self.images[mask], self.labels[mask]

    def soft_subset(self, split_name: str) -> np.ndarray | None:
        """The soft labels of one split (None when the data has none)."""
        return None if self.soft_labels is None else self.soft_labels[self.split == SPLIT_CODE[split_name]]

    def counts(self) -> dict[str, dict[str, int]]:
        """Class counts per split, keyed by split then class name (the paper's Table III)."""
        out: dict[str, dict[str, int]] = {}
        for name in SPLITS:
            labels = self.labels[self.split == SPLIT_CODE[name]]
            out[name] = {cls: int((labels == i).sum()) for i, cls in enumerate(self.class_names)}
        return out


def save_prepared(path: str | os.PathLike, data: PreparedData) -> None:
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            soft = {} if data.soft_labels is None else {"soft_labels": data.soft_labels.astype(np.float32)}
            np.savez(fh, images=data.images, labels=data.labels.astype(np.int64), split=data.split.astype(np.int8),
                     source=np.array(data.source), class_names=np.array(data.class_names), **soft)


def load_prepared(path: str | os.PathLike) -> PreparedData:
    if not os.path.exists(path):
        raise FileNotFoundError(f"prepared dataset not found: {path} (run `dvc repro prepare`)")
    with np.load(path, allow_pickle=False) as npz:
        if "class_names" not in npz:
            raise ValueError(f"{path} has no class_names (written by an older version): run `dvc repro prepare`")
        return PreparedData(images=npz["images"], labels=npz["labels"], split=npz["split"], source=str(npz["source"]),
                            class_names=tuple(str(c) for c in npz["class_names"]),
                            soft_labels=npz["soft_labels"] if "soft_labels" in npz else None)
