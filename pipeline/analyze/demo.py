"""Recordings with a known ground truth, built from real face images (FER2013 rows) with OpenCV's
VideoWriter: what the tests and the speed benchmark analyse.

A script says, for each frame, which faces are drawn where; :func:`write_video` renders it, so a
test knows exactly at which instants a face was present.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.analyze.detect import FaceDetector


def read_fer_faces(csv_gz: str | os.PathLike, n: int = 200) -> np.ndarray:
    """The first ``n`` 48x48 faces of a FER2013-schema CSV (``emotion,pixels,Usage``)."""
    faces = []
    with gzip.open(csv_gz, "rt") if str(csv_gz).endswith(".gz") else open(csv_gz) as fh:
        header = fh.readline().strip().split(",")
        col = header.index("pixels")
        for line in fh:
            faces.append(np.array(line.strip().split(",")[col].split(), np.uint8).reshape(48, 48))
            if len(faces) == n:
                break
    return np.stack(faces)


def read_fer_labelled(csv_gz: str | os.PathLike, per_class: int, usage: str = "PrivateTest",
                      n_classes: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """The first ``per_class`` faces of each label among the ``usage`` rows, in file order:
    (faces (n, 48, 48) uint8, labels (n,)), grouped by label."""
    faces: dict[int, list[np.ndarray]] = {label: [] for label in range(n_classes)}
    with gzip.open(csv_gz, "rt") if str(csv_gz).endswith(".gz") else open(csv_gz) as fh:
        header = fh.readline().strip().split(",")
        cols = [header.index(c) for c in ("emotion", "pixels", "Usage")]
        for line in fh:
            emotion, pixels, row_usage = (line.rstrip("\n").split(",")[c] for c in cols)
            label = int(emotion)
            if row_usage == usage and len(faces[label]) < per_class:
                faces[label].append(np.array(pixels.split(), np.uint8).reshape(48, 48))
                if all(len(v) == per_class for v in faces.values()):
                    break
    labels = np.concatenate([[label] * len(v) for label, v in faces.items()]).astype(np.int64)
    return np.stack([f for v in faces.values() for f in v]), labels


def background(width: int, height: int) -> np.ndarray:
    """A plain, smooth BGR backdrop (a wall), with nothing face-like on it."""
    ramp = np.linspace(70, 130, width, dtype=np.float32)[None, :] + np.linspace(0, 20, height, dtype=np.float32)[:, None]
    return cv2.merge([ramp.astype(np.uint8)] * 3)


def place(frame: np.ndarray, face: np.ndarray, x: int, y: int, size: int) -> None:
    """Draw a grayscale face, scaled to ``size`` px, at (x, y) into a BGR frame."""
    big = cv2.resize(face, (size, size), interpolation=cv2.INTER_CUBIC)
    frame[y:y + size, x:x + size] = big[:, :, None]


def detectable_faces(faces: np.ndarray, size: int = 112, width: int = 320, height: int = 240) -> np.ndarray:
    """Faces the Haar cascade finds exactly once when drawn alone, at both positions a script uses:
    ground truth for 'a face was drawn' must also mean 'a face can be found'."""
    detector = FaceDetector(detect_width=width)
    keep = []
    for i, face in enumerate(faces):
        ok = True
        for x in (20, width - size - 20):
            frame = background(width, height)
            place(frame, face, x, (height - size) // 2, size)
            boxes, _ = detector(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
            ok &= len(boxes) == 1
        if ok:
            keep.append(i)
    return faces[keep]


@dataclass(frozen=True)
class Shot:
    """From ``start_s`` to ``end_s``: draw these faces (index into the face bank) at these x positions."""

    start_s: float
    end_s: float
    faces: tuple[int, ...] = ()
    xs: tuple[int, ...] = ()


def write_video(path: str | os.PathLike, shots: list[Shot], bank: np.ndarray, fps: float, size: int = 112,
                width: int = 320, height: int = 240, fourcc: str = "MJPG", drift_px: float = 0.0) -> int:
    """Render the script; returns the frame count. Faces drift ``drift_px`` per frame (a moving head)."""
    end = max(s.end_s for s in shots)
    n = int(round(end * fps))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path} with codec {fourcc}")
    base = background(width, height)
    y = (height - size) // 2
    try:
        for i in range(n):
            t = i / fps
            frame = base.copy()
            for shot in shots:
                if shot.start_s <= t < shot.end_s:
                    for face, x in zip(shot.faces, shot.xs):
                        dx = int(round(drift_px * ((i % 40) - 20)))  # back and forth, stays in frame
                        place(frame, bank[face % len(bank)], int(np.clip(x + dx, 0, width - size)), y, size)
            writer.write(frame)
    finally:
        writer.release()
    return n


def face_present(shots: list[Shot], t: np.ndarray) -> np.ndarray:
    """Ground truth: whether any face is drawn at each time."""
    present = np.zeros(len(t), bool)
    for s in shots:
        if s.faces:
            present |= (t >= s.start_s) & (t < s.end_s)
    return present
