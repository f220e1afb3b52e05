"""Frontal-face detection with the Haar cascade that ships inside opencv-python-headless (<5).

Frames are downscaled to a fixed width first: webcam faces stay well above the cascade's 24 px
window and detection time stops depending on the recording's resolution.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

CASCADE = "haarcascade_frontalface_default.xml"


def cascade_path() -> str:
    path = os.path.join(cv2.data.haarcascades, CASCADE)
    if not os.path.exists(path):
        raise RuntimeError(f"{path} is missing: install opencv-python-headless<5 (OpenCV 5 wheels no longer ship cascades)")
    return path


class FaceDetector:
    """Boxes (x, y, w, h) in the input image's pixels plus the cascade's confidence (level weight)."""

    def __init__(self, detect_width: int = 320, min_face_frac: float = 0.08, scale_factor: float = 1.1,
                 min_neighbors: int = 5):
        self.cascade = cv2.CascadeClassifier(cascade_path())
        if self.cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {cascade_path()}")
        self.detect_width, self.min_face_frac = detect_width, min_face_frac
        self.scale_factor, self.min_neighbors = scale_factor, min_neighbors

    def __call__(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, w = gray.shape[:2]
        scale = min(1.0, self.detect_width / w) if self.detect_width else 1.0
        small = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else gray
        small = cv2.equalizeHist(small)
        side = max(24, int(self.min_face_frac * small.shape[0]))
        boxes, _, weights = self.cascade.detectMultiScale3(small, scaleFactor=self.scale_factor,
                                                           minNeighbors=self.min_neighbors, minSize=(side, side),
                                                           outputRejectLevels=True)
        if len(boxes) == 0:
            return np.zeros((0, 4), np.int32), np.zeros((0,), np.float32)
        boxes = np.round(np.asarray(boxes, np.float64) / scale).astype(np.int32)
        return boxes, np.asarray(weights, np.float32).reshape(-1)


def crop_faces(gray: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """(n, size, size) uint8 crops of ``boxes`` from a grayscale image (area interpolation)."""
    out = np.empty((len(boxes), size, size), np.uint8)
    h, w = gray.shape[:2]
    for i, (x, y, bw, bh) in enumerate(boxes):
        x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
        out[i] = cv2.resize(gray[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)
    return out
