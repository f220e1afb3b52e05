"""The input contract: everything a consumer of a trained model needs to feed it and read its output.

Written into every checkpoint by the training stages (``save_model(..., **contract.to_meta())``) and
read back by evaluate, export and analyze with :meth:`InputContract.from_meta`; nothing downstream
guesses the image mode, the normalisation or the class set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from pipeline.core.constants import IMAGENET_MEAN, IMAGENET_STD

IMAGE_MODES = ("grayscale", "rgb")  # grayscale: one channel broadcast to `channels`; rgb: three channels as they are
MODEL_CHANNELS = 3  # every family takes three channels (the official ResEmoteNet code's input)
CONTRACT_KEYS = ("class_names", "input_size", "channels", "image_mode", "mean", "std")


def image_mode_of(images: np.ndarray) -> str:
    """'grayscale' for (N, H, W) uint8 images, 'rgb' for (N, H, W, 3): how the prepared data stores them."""
    if images.ndim == 3:
        return "grayscale"
    if images.ndim == 4 and images.shape[-1] == 3:
        return "rgb"
    raise ValueError(f"images must be (N, H, W) grayscale or (N, H, W, 3) RGB, got shape {images.shape}")


@dataclass(frozen=True)
class InputContract:
    class_names: tuple[str, ...]
    input_size: int
    image_mode: str
    channels: int = MODEL_CHANNELS
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD

    def __post_init__(self) -> None:
        if self.image_mode not in IMAGE_MODES:
            raise ValueError(f"image_mode must be one of {', '.join(IMAGE_MODES)}, got {self.image_mode!r}")
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError(f"mean/std need {self.channels} values each, got {self.mean} / {self.std}")
        if len(self.class_names) < 2:
            raise ValueError(f"need at least 2 class names, got {self.class_names}")

    @classmethod
    def for_images(cls, images: np.ndarray, class_names: Sequence[str], input_size: int) -> "InputContract":
        """The contract of a model trained on ``images`` (the prepared arrays) at ``input_size``."""
        return cls(tuple(class_names), int(input_size), image_mode_of(images))

    def to_meta(self) -> dict[str, Any]:
        """Plain values for a checkpoint's metadata (torch.load(weights_only=True) reads them back)."""
        return {"class_names": list(self.class_names), "input_size": int(self.input_size), "channels": int(self.channels),
                "image_mode": self.image_mode, "mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any], where: str = "checkpoint") -> "InputContract":
        """Read it back; a checkpoint saved before the contract existed is refused, not guessed at."""
        missing = [k for k in CONTRACT_KEYS if k not in meta]
        if missing:
            raise ValueError(f"{where}: the checkpoint lacks {', '.join(missing)} (saved by an older version, which "
                             "did not record how the model is fed); retrain it with `uv run dvc repro`")
        return cls(tuple(str(c) for c in meta["class_names"]), int(meta["input_size"]), str(meta["image_mode"]),
                   int(meta["channels"]), tuple(float(v) for v in meta["mean"]), tuple(float(v) for v in meta["std"]))

    def check_data(self, images: np.ndarray, class_names: Sequence[str], where: str = "checkpoint") -> None:
        """Refuse data the model was not trained on: another class set or another image mode."""
        if list(class_names) != list(self.class_names):
            raise ValueError(f"{where}: model trained on classes {list(self.class_names)}, the dataset has "
                             f"{list(class_names)}")
        mode = image_mode_of(images)
        if mode != self.image_mode:
            raise ValueError(f"{where}: model trained on {self.image_mode} images, the dataset's are {mode}")
