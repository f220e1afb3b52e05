"""Check that an exported file computes what the PyTorch model computes, at two batch sizes."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn

from pipeline.export.metadata import ExportMeta


def check_parity(model: nn.Module, path: str | os.PathLike, meta: ExportMeta, atol: float = 1e-3,
                 batch_sizes: tuple[int, ...] = (1, 5), seed: int = 0) -> float:
    """Max |ONNX - PyTorch| logit difference over random batches; raises when above ``atol``.

    Two batch sizes, neither the one exported with, prove the batch axis is really dynamic.
    """
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model = model.to("cpu").eval()
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    for batch in batch_sizes:
        x = torch.randn(batch, meta.channels, meta.input_size, meta.input_size, generator=generator)
        with torch.no_grad():
            expected = model(x).numpy()
        got = session.run([meta.output_name], {meta.input_name: x.numpy()})[0]
        if got.shape != expected.shape:
            raise RuntimeError(f"{path}: ONNX output shape {got.shape} != PyTorch {expected.shape} at batch {batch}")
        worst = max(worst, float(np.abs(got - expected).max()))
    if not worst <= atol:
        raise RuntimeError(f"{path}: ONNX logits differ from PyTorch by {worst:.3g} > tolerance {atol}")
    return worst
