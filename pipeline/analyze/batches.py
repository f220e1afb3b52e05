"""Face crops classified in a worker thread, batch by batch, while the next instants are detected.

ONNX Runtime releases the GIL, so on two cores the model's time hides behind detection's instead
of adding to it; results come back in submission order.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from pipeline.export.classifier import OnnxClassifier


class BatchClassifier:
    """``submit`` batches of crops, ``results`` returns all their probabilities in order.

    ``inference_s`` is the model's own time (in the worker, overlapping detection); ``wait_s`` the
    time the caller then waited for the last batches."""

    def __init__(self, classifier: OnnxClassifier):
        self.classifier = classifier
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analyze-model")
        self.futures: list[Future] = []
        self.inference_s = self.wait_s = 0.0

    def _run(self, crops: np.ndarray) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.classifier(crops)
        finally:
            self.inference_s += time.perf_counter() - started

    def submit(self, crops: np.ndarray) -> None:
        self.futures.append(self.pool.submit(self._run, crops))

    def close(self) -> None:
        """Drop batches not started yet and wait for the one running (after an error)."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def results(self) -> np.ndarray:
        started = time.perf_counter()
        try:
            out = [f.result() for f in self.futures]
        finally:
            self.close()
            self.wait_s += time.perf_counter() - started
        n_classes = len(self.classifier.meta.class_names)
        return np.concatenate(out) if out else np.zeros((0, n_classes), np.float32)
