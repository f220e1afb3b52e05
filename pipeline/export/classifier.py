"""Batched ONNX Runtime inference of an exported model, preprocessing read from its metadata.

The one way an exported file is applied: ``analyze``, ``evaluate-folder``, the cross_evaluate stage
and the release card's scores all go through :class:`OnnxClassifier`, so each applies a model as
it was scored.
"""

from __future__ import annotations

import os

import numpy as np

from pipeline.export.metadata import ExportMeta, read_meta


class OnnxClassifier:
    """Face crops, (n, S, S) grey or (n, S, S, 3) RGB uint8 -> class probabilities (n, classes) float32."""

    def __init__(self, path: str | os.PathLike, threads: int = 0, flip_average: bool | None = None):
        import onnxruntime as ort

        self.path = str(path)
        self.meta: ExportMeta = read_meta(path)
        # Test-time flip averaging: the model's metadata says whether its reported accuracy used it,
        # so every consumer (analyze, evaluate-folder) applies the model as it was scored.
        self.flip_average = bool(self.meta.extra.get("flip_average", False) if flip_average is None else flip_average)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        self.session = ort.InferenceSession(self.path, options, providers=providers)
        self.providers = self.session.get_providers()

    @property
    def input_size(self) -> int:
        return self.meta.input_size

    @property
    def image_mode(self) -> str:
        """'grayscale' or 'rgb': the crops this model was trained on (its ONNX metadata says)."""
        return self.meta.image_mode

    def preprocess(self, crops: np.ndarray) -> np.ndarray:
        """The training input path itself (pipeline.inputs.device_data.to_model_input), with the file's mean/std."""
        from pipeline.inputs.device_data import preprocess_crops

        return preprocess_crops(crops, self.meta.contract)

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        if len(crops) == 0:
            return np.zeros((0, len(self.meta.class_names)), np.float32)
        x = self.preprocess(crops)
        probs = self._softmax(self.session.run([self.meta.output_name], {self.meta.input_name: x})[0])
        if self.flip_average:
            mirrored = np.ascontiguousarray(x[..., ::-1])
            probs = 0.5 * (probs + self._softmax(self.session.run([self.meta.output_name],
                                                                  {self.meta.input_name: mirrored})[0]))
        return probs.astype(np.float32)

    @staticmethod
    def _softmax(logits: np.ndarray) -> np.ndarray:
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)
