"""Read a folder of class-named subfolders of face images into arrays a model can score.

Images may be any size, grayscale or colour, PNG or JPEG (faces already cropped). Each is converted
to the model's image mode and resized to its input size the way ``analyze`` resizes face crops
(OpenCV, area interpolation), so a folder is scored as the analyser would see those faces.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pipeline.crosseval.aliases import canonical_class

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass
class LabelledFolder:
    """Images (N, S, S) grayscale or (N, S, S, 3) RGB uint8 and labels in the model's class indices."""

    root: Path
    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]  # the model's classes, in its order
    folders: dict[str, str]  # subfolder -> class it was scored as
    skipped: dict[str, str] = field(default_factory=dict)  # subfolder -> why it was left out
    counts: dict[str, int] = field(default_factory=dict)  # subfolder -> images read


def _read_image(path: Path, size: int, image_mode: str) -> np.ndarray:
    data = np.fromfile(str(path), dtype=np.uint8)  # imdecode: no silent None on odd paths
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None:
        raise ValueError(f"{path}: not a readable PNG/JPEG image")
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:  # 16-bit PNG
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(1, int(image.max())))
    if image_mode == "rgb":
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB if image.ndim == 2 else cv2.COLOR_BGR2RGB)
    elif image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def read_folder(root: str | os.PathLike, class_names: tuple[str, ...] | list[str], size: int,
                image_mode: str = "grayscale") -> LabelledFolder:
    """Every image under ``root/<class folder>/``; folders whose class the model lacks are skipped.

    Raises FileNotFoundError / ValueError naming the path for: a missing or empty folder, a folder
    with no subfolder that maps to a class, an unreadable image.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder (expected one subfolder of images per class)")
    subfolders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not subfolders:
        raise ValueError(f"{root}: no class subfolders (expected e.g. {root}/happy/*.png)")
    index = {name: i for i, name in enumerate(class_names)}
    images, labels, folders, skipped, counts = [], [], {}, {}, {}
    for sub in subfolders:
        cls = canonical_class(sub.name)
        if cls is None:
            skipped[sub.name] = "not a known emotion name (see pipeline/crosseval/aliases.py)"
            continue
        if cls not in index:
            skipped[sub.name] = f"class {cls!r} is not one of the model's classes"
            continue
        files = sorted(p for p in sub.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            skipped[sub.name] = "no PNG/JPEG images"
            continue
        for path in files:
            images.append(_read_image(path, size, image_mode))
            labels.append(index[cls])
        folders[sub.name], counts[sub.name] = cls, len(files)
    if not images:
        reasons = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        raise ValueError(f"{root}: no subfolder maps to a class of the model ({', '.join(class_names)}): {reasons}")
    return LabelledFolder(root, np.stack(images), np.asarray(labels, np.int64), tuple(class_names), folders,
                          skipped, counts)
