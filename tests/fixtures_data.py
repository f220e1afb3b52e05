"""Tiny raw inputs in the exact real formats, written inside the tests (helpers for the data tests)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from tests.helpers import SHARED_DATA  # noqa: F401  (re-exported for the data tests)

FERPLUS_HEADER = "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF"


def fer_image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(48, 48), dtype=np.uint8)


def pixels_text(image: np.ndarray) -> str:
    return " ".join(str(v) for v in image.ravel())


def fer_rows(n_per_split: int = 7) -> list[tuple[str, str, str]]:
    """Rows (emotion, pixels, Usage): every class in every split, distinct images."""
    rows = []
    for s, usage in enumerate(("Training", "PublicTest", "PrivateTest")):
        for i in range(n_per_split):
            rows.append((str(i % 7), pixels_text(fer_image(100 * s + i)), usage))
    return rows


def write_fer_csv(path: Path, rows: list[tuple[str, str, str]], header: str = "emotion,pixels,Usage") -> Path:
    text = header + "\n" + "".join(f"{e},{p},{u}\n" for e, p, u in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def write_fer_csv_reordered(path: Path, rows: list[tuple[str, str, str]],
                            columns: tuple[str, ...] = ("Usage", "pixels", "emotion"),
                            label=lambda e: f"{e}.0") -> Path:
    """The same rows (emotion, pixels, Usage) with the columns in another order and each label as ``label(e)``."""
    text = ",".join(columns) + "\n" + "".join(
        ",".join({"emotion": label(e), "pixels": p, "Usage": u}[c] for c in columns) + "\n" for e, p, u in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path

def write_rafdb(root: Path, entries: list[tuple[str, int]], size: int = 100) -> Path:
    """A RAF-DB basic tree: EmoLabel/list_patition_label.txt and Image/aligned/<stem>_aligned.jpg (real JPEGs)."""
    from PIL import Image

    (root / "EmoLabel").mkdir(parents=True, exist_ok=True)
    (root / "Image" / "aligned").mkdir(parents=True, exist_ok=True)
    lines = []
    for k, (name, label) in enumerate(entries):
        rgb = np.zeros((size, size, 3), np.uint8)
        rgb[..., 0] = 20 * label
        rgb[..., 1] = 3 * k
        rgb[..., 2] = 128
        Image.fromarray(rgb).save(root / "Image" / "aligned" / f"{Path(name).stem}_aligned.jpg", quality=95)
        lines.append(f"{name} {label}\n")
    (root / "EmoLabel" / "list_patition_label.txt").write_text("".join(lines))
    return root


def rafdb_entries(n_train_per_class: int = 4, n_test_per_class: int = 1) -> list[tuple[str, int]]:
    entries, k = [], 0
    for label in range(1, 8):
        for _ in range(n_train_per_class):
            k += 1
            entries.append((f"train_{k:05d}.jpg", label))
    for label in range(1, 8):
        for _ in range(n_test_per_class):
            k += 1
            entries.append((f"test_{k:04d}.jpg", label))
    return entries
