"""Labelled image folders built from real FER2013 PrivateTest faces, laid out as users lay out CK+ or
their own stills: class-named subfolders (with the datasets' own names), mixed sizes and formats."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.analyze.demo import read_fer_labelled
from pipeline.sources.fer2013 import CLASS_NAMES

# Folder name -> FER2013 label: the alias table's spellings (CK+, AffectNet), one numbered.
FOLDERS = {"anger": 0, "disgusted": 1, "fear": 2, "happiness": 3, "sadness": 4, "5_surprise": 5, "Neutral": 6}
PER_CLASS = 12


def write_folder(root: Path, faces: dict[int, list[np.ndarray]], contempt: bool = True) -> Path:
    """Even images as colour PNG upscaled to 96 px, odd ones as grey JPEG at 48 px; plus a contempt folder
    (a class 7-class models lack) and a folder with no emotion name."""
    for name, label in FOLDERS.items():
        folder = root / name
        folder.mkdir(parents=True)
        for i, face in enumerate(faces[label]):
            if i % 2 == 0:
                big = cv2.resize(face, (96, 96), interpolation=cv2.INTER_CUBIC)
                cv2.imwrite(str(folder / f"{i:03d}.png"), cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
            else:
                cv2.imwrite(str(folder / f"{i:03d}.jpg"), face, [cv2.IMWRITE_JPEG_QUALITY, 95])
    if contempt:
        (root / "contempt").mkdir()
        cv2.imwrite(str(root / "contempt" / "000.png"), faces[6][0])
        (root / "notes").mkdir()
        cv2.imwrite(str(root / "notes" / "000.png"), faces[6][0])
    return root


@pytest.fixture(scope="session")
def fer_faces(shared_data) -> dict[int, list[np.ndarray]]:
    """The first PER_CLASS PrivateTest faces of each label, by label."""
    faces, labels = read_fer_labelled(shared_data / "fer2013.csv.gz", PER_CLASS)
    return {label: list(faces[labels == label]) for label in range(len(CLASS_NAMES))}


@pytest.fixture(scope="session")
def labelled_folder(tmp_path_factory, fer_faces) -> Path:
    return write_folder(tmp_path_factory.mktemp("faces") / "faces", fer_faces)
