"""Device-resident input pipeline: uint8 images resized once, augmented and normalised per batch on the device.

No per-sample Python work and no host->device copies in the hot loop: a split is moved to the
device once as uint8 (N, C, S, S); each batch is gathered by index, optionally flipped, then
scaled, broadcast to 3 channels and normalised with ImageNet statistics (the contract's mean/std).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from pipeline.core.constants import IMAGENET_MEAN, IMAGENET_STD
from pipeline.inputs.contract import InputContract


def resize_uint8(images: np.ndarray, size: int) -> torch.Tensor:
    """(N,H,W) or (N,H,W,3) uint8 -> (N,C,size,size) uint8 tensor, resized once (bilinear, antialiased)."""
    t = torch.from_numpy(np.ascontiguousarray(images))
    t = t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2)
    if t.shape[-1] == size and t.shape[-2] == size:
        return t.contiguous()
    out = torch.empty((t.shape[0], t.shape[1], size, size), dtype=torch.uint8)
    for start in range(0, len(t), 4096):  # chunked to bound float memory on big datasets
        chunk = t[start:start + 4096].float()
        resized = F.interpolate(chunk, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[start:start + 4096] = resized.round_().clamp_(0, 255).to(torch.uint8)
    return out


@dataclass
class DeviceSplit:
    """One split on the device: uint8 images (N,C,S,S) and int64 labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor

    @classmethod
    def from_arrays(cls, images: np.ndarray, labels: np.ndarray, input_size: int, device: torch.device | str) -> "DeviceSplit":
        return cls(resize_uint8(images, input_size).to(device), torch.as_tensor(labels, dtype=torch.int64).to(device))

    def __len__(self) -> int:
        return len(self.labels)


def random_affine(n: int, shift: float, rotate_deg: float, scale: float, generator: torch.Generator,
                  device: torch.device | str) -> torch.Tensor:
    """(n, 2, 3) affine matrices for ``F.affine_grid``: uniform shift (share of the side), rotation (degrees), zoom.

    Drawn once per epoch for the whole permutation from the trainer's seeded generator, like the flips.
    """
    u = torch.rand((n, 4), generator=generator, device=device) * 2 - 1  # uniform in [-1, 1)
    angle = torch.deg2rad(u[:, 0] * rotate_deg)
    zoom = 1.0 + u[:, 1] * scale
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    # affine_grid works in [-1, 1] coordinates: a shift of s * side is 2 * s there.
    return torch.stack([torch.stack([cos, -sin, u[:, 2] * 2 * shift], 1),
                        torch.stack([sin, cos, u[:, 3] * 2 * shift], 1)], 1)


def to_model_input(batch: torch.Tensor, flip: torch.Tensor | None = None, affine: torch.Tensor | None = None,
                   mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> torch.Tensor:
    """uint8 (B,C,S,S) -> normalised float (B,len(mean),S,S); ``flip`` is a bool (B,) mask of images to mirror.

    The one preprocessing of the project: training, evaluation and ``analyze`` (through
    :func:`preprocess_crops`) all go through it, with the mean/std a checkpoint's contract records.
    ``affine``: optional (B, 2, 3) matrices (:func:`random_affine`) applied by bilinear resampling with
    replicated borders, before the grey channel is broadcast to three (one channel's work, not three).
    """
    if flip is not None:
        batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
    x = batch.float().div_(255.0)
    if affine is not None:
        grid = F.affine_grid(affine, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    channels = len(mean)
    if x.shape[1] == 1:
        x = x.expand(-1, channels, -1, -1)
    mean_t = torch.tensor(tuple(mean), device=x.device).view(1, channels, 1, 1)
    std_t = torch.tensor(tuple(std), device=x.device).view(1, channels, 1, 1)
    return (x - mean_t) / std_t


def preprocess_crops(crops: np.ndarray, contract: InputContract) -> np.ndarray:
    """uint8 crops, (n, S, S) grey or (n, S, S, 3) RGB, at the contract's size -> float32 (n, C, S, S) model input.

    :func:`to_model_input` on the CPU, for consumers that hold numpy arrays (ONNX Runtime in ``analyze``).
    Grey crops given to an RGB model are broadcast to its three channels.
    """
    if crops.ndim not in (3, 4) or crops.shape[1:3] != (contract.input_size, contract.input_size):
        raise ValueError(f"crops must be (n, {contract.input_size}, {contract.input_size}[, 3]) uint8, got {crops.shape}")
    t = torch.from_numpy(np.ascontiguousarray(crops, dtype=np.uint8))
    t = t.unsqueeze(1) if t.ndim == 3 else t.permute(0, 3, 1, 2)
    return to_model_input(t, mean=contract.mean, std=contract.std).contiguous().numpy()


@torch.no_grad()
def predict_logits(model: torch.nn.Module, split: DeviceSplit, batch_size: int = 256, flip: bool = False,
                   mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> torch.Tensor:
    """Eval-mode logits (N, classes) in float32 for a whole split, optionally of its mirrored images."""
    was_training = model.training
    model.eval()
    outs = []
    for start in range(0, len(split), batch_size):
        batch = split.images[start:start + batch_size]
        if flip:
            batch = batch.flip(-1)
        outs.append(model(to_model_input(batch, mean=mean, std=std)).float())
    model.train(was_training)
    return torch.cat(outs) if outs else torch.empty((0, 0))
