"""Frontal-face detection with the Haar cascade that ships inside opencv-python-headless (<5).

Frames are downscaled to a fixed width first: webcam faces stay well above the cascade's 24 px
window and detection time stops depending on the recording's resolution.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

CASCADE = "haarcascade_frontalface_default.xml"
HINT_SIDE = 56  # px a tracked face is scaled to for the search around it (the cascade's window is 24)


def cascade_path() -> str:
    path = os.path.join(cv2.data.haarcascades, CASCADE)
    if not os.path.exists(path):
        raise RuntimeError(f"{path} is missing: install opencv-python-headless<5 (OpenCV 5 wheels no longer ship cascades)")
    return path


class FaceDetector:
    """Boxes (x, y, w, h) in the input image's pixels plus the cascade's confidence (level weight).

    A full scan searches the whole frame at every scale (~8 ms for a 640x480 frame with a face on one
    CPU core, ~2.5 ms without). Given ``hints`` (the tracked faces' last boxes), it searches only
    around each hint at scales near its size (~4 ms: the face's own windows pass many stages, so
    this is only ~2x cheaper). pipeline.analyze.follow decides which instants need which.
    """

    def __init__(self, detect_width: int = 320, min_face_frac: float = 0.15, scale_factor: float = 1.2,
                 hint_scale_factor: float = 1.1, min_neighbors: int = 5):
        self.cascade = cv2.CascadeClassifier(cascade_path())
        if self.cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {cascade_path()}")
        self.detect_width, self.min_face_frac = detect_width, min_face_frac
        # Full scans step scales by 1.2 (~35 % faster than 1.1, same hits on webcam-sized faces);
        # hint scans cover few scales anyway, so they step finely.
        self.scale_factor, self.hint_scale_factor, self.min_neighbors = scale_factor, hint_scale_factor, min_neighbors

    def _scan(self, image: np.ndarray, min_side: int, max_side: int = 0, scale_factor: float = 0.0
              ) -> tuple[np.ndarray, np.ndarray]:
        boxes, _, weights = self.cascade.detectMultiScale3(
            image, scaleFactor=scale_factor or self.scale_factor, minNeighbors=self.min_neighbors, minSize=(min_side, min_side),
            maxSize=(max_side, max_side) if max_side else (0, 0), outputRejectLevels=True)
        if len(boxes) == 0:
            return np.zeros((0, 4), np.float64), np.zeros((0,), np.float32)
        return np.asarray(boxes, np.float64).reshape(-1, 4), np.asarray(weights, np.float32).reshape(-1)

    def __call__(self, gray: np.ndarray, hints: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        h, w = gray.shape[:2]
        scale = min(1.0, self.detect_width / w) if self.detect_width else 1.0
        small = cv2.resize(gray, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else gray
        small = cv2.equalizeHist(small)
        if hints is None or len(hints) == 0:
            boxes, scores = self._scan(small, max(24, int(self.min_face_frac * small.shape[0])))
        else:
            boxes, scores = self._around(small, np.asarray(hints, np.float64) * scale)
        if len(boxes) == 0:
            return np.zeros((0, 4), np.int32), np.zeros((0,), np.float32)
        return np.round(boxes / scale).astype(np.int32), scores

    def _around(self, small: np.ndarray, hints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best detection near each hint: a region 1.8x the box scaled so the face is ~HINT_SIDE px,
        window sizes 0.7x-1.45x of it."""
        found, found_scores = [], []
        H, W = small.shape[:2]
        for x, y, bw, bh in hints:
            side = max(bw, bh)
            x0, y0 = int(max(0, x - 0.4 * side)), int(max(0, y - 0.4 * side))
            x1, y1 = int(min(W, x + bw + 0.4 * side)), int(min(H, y + bh + 0.4 * side))
            if x1 - x0 < 24 or y1 - y0 < 24:
                continue
            f = min(1.0, HINT_SIDE / side)  # the face at ~HINT_SIDE px: the cost no longer grows with its size
            region = small[y0:y1, x0:x1]
            if f < 1:
                region = cv2.resize(region, (max(24, round((x1 - x0) * f)), max(24, round((y1 - y0) * f))),
                                    interpolation=cv2.INTER_AREA)
            boxes, scores = self._scan(region, max(24, int(0.7 * side * f)), int(1.45 * side * f) + 1,
                                       self.hint_scale_factor)
            if len(boxes):
                best = int(np.argmax(scores))
                found.append(boxes[best] / f + np.array([x0, y0, 0, 0]))
                found_scores.append(scores[best])
        if not found:
            return np.zeros((0, 4)), np.zeros((0,), np.float32)
        boxes, scores = np.array(found), np.array(found_scores, np.float32)
        keep = []  # two hints on one face (a track just split) must not give it twice
        from pipeline.analyze.track import iou_matrix

        overlap = iou_matrix(boxes, boxes)
        for i in np.argsort(-scores):
            if all(overlap[i, j] < 0.5 for j in keep):
                keep.append(int(i))
        return boxes[keep], scores[keep]


def crop_faces(gray: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """(n, size, size[, 3]) uint8 crops of ``boxes`` from a grayscale (or an RGB) image (area interpolation)."""
    out = np.empty((len(boxes), size, size, *gray.shape[2:]), np.uint8)
    h, w = gray.shape[:2]
    for i, (x, y, bw, bh) in enumerate(boxes):
        x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
        out[i] = cv2.resize(gray[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)
    return out
