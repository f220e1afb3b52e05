"""RAF-DB basic: the label file (``train_00001.jpg 5`` per line) and aligned 100x100 RGB JPEGs.

Labels 1..7 are mapped to FER2013's class order; RAF-DB has no val split, so val is a seeded,
exactly stratified slice of train (``data.rafdb_val_fraction``, ``data.rafdb_val_seed``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.constants import SPLIT_CODE
from pipeline.core.specs import Float, Int
from pipeline.dataset.prepared import PreparedData
from pipeline.sources import fer2013
from pipeline.sources.common import EXAMPLES, LoadedDataset
from pipeline.sources.expectations import gx_module, run_expectations
from pipeline.sources.registry import Source

ROOT_DIR = "rafdb"
LABEL_FILE = "EmoLabel/list_patition_label.txt"
IMAGE_DIR = "Image/aligned"
IMAGE_SIZE = 100
TO_CLASS: dict[int, str] = {1: "surprise", 2: "fear", 3: "disgust", 4: "happy", 5: "sad", 6: "angry", 7: "neutral"}
PREFIX_TO_SPLIT: dict[str, str] = {"train": "train", "test": "test"}
CLASS_NAMES = fer2013.CLASS_NAMES


def read_label_file(path: str | os.PathLike) -> pd.DataFrame:
    """The label file as strings: name, label, n_fields; index = line number. Empty is a ValueError."""
    try:
        lines = Path(path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read as text: {exc}") from None
    if not any(line.strip() for line in lines):
        raise ValueError(f"{path}: file is empty (expected '<name> <label>' per line)")
    fields = [line.split() for line in lines]
    return pd.DataFrame({
        "name": [f[0] if f else None for f in fields],
        "label": [f[1] if len(f) > 1 else None for f in fields],
        "n_fields": [len(f) for f in fields],
    }, index=pd.RangeIndex(1, len(lines) + 1, name="line"))


def image_path(root: str | os.PathLike, name: str) -> Path:
    """train_00001.jpg -> <root>/Image/aligned/train_00001_aligned.jpg."""
    return Path(root) / IMAGE_DIR / f"{Path(name).stem}_aligned.jpg"


def inspect_image(path: Path, size: int = IMAGE_SIZE) -> tuple[np.ndarray | None, str]:
    """(RGB uint8 array or None, status) where status is 'ok', 'missing', 'corrupt', 'size WxH' or 'mode M'."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        return None, "missing"
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode != "RGB":
                return None, f"mode {img.mode}"
            if img.size != (size, size):
                return None, f"size {img.size[0]}x{img.size[1]}"
            return np.asarray(img, dtype=np.uint8), "ok"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None, "corrupt"


def stratified_val_split(labels: np.ndarray, fraction: float, seed: int, num_classes: int) -> np.ndarray:
    """Bool mask of the rows moved to val: per class, a seeded random round(fraction * count) of its rows."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"params.yaml: data.rafdb_val_fraction must be between 0 and 1, got {fraction}")
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), bool)
    for cls in range(num_classes):
        members = np.flatnonzero(labels == cls)
        mask[rng.permutation(members)[: int(round(fraction * len(members)))]] = True
    return mask


def read(root: str | os.PathLike, val_fraction: float, seed: int) -> LoadedDataset:
    """RAF-DB basic into memory; a bad line or image is a ValueError naming the image path and the line."""
    from tqdm import tqdm

    label_path = Path(root) / LABEL_FILE
    table = read_label_file(label_path)
    bad = table["n_fields"] != 2
    if bad.any():
        raise ValueError(f"{label_path}: expected '<name> <label>' per line; bad line(s) {list(table.index[bad][:EXAMPLES])}")
    valid_label = table["label"].isin([str(k) for k in TO_CLASS])
    if not valid_label.all():
        raise ValueError(f"{label_path}: label not in 1..7 on line(s) {list(table.index[~valid_label][:EXAMPLES])}")
    split_names = table["name"].str.split("_").str[0].map(PREFIX_TO_SPLIT)
    if split_names.isna().any():
        raise ValueError(f"{label_path}: image name must start with train_ or test_ on line(s) "
                         f"{list(table.index[split_names.isna()][:EXAMPLES])}")
    labels = np.array([CLASS_NAMES.index(TO_CLASS[int(v)]) for v in table["label"]], np.int64)
    split = np.array(split_names.map(SPLIT_CODE), dtype=np.int8)
    train_rows = np.flatnonzero(split == SPLIT_CODE["train"])
    split[train_rows[stratified_val_split(labels[train_rows], val_fraction, seed, len(CLASS_NAMES))]] = SPLIT_CODE["val"]

    images = np.empty((len(table), IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    for i, (line, name) in enumerate(tqdm(zip(table.index, table["name"]), total=len(table), desc="RAF-DB images",
                                          mininterval=2.0)):
        path = image_path(root, name)
        image, status = inspect_image(path)
        if image is None:
            raise ValueError(f"{path}: image {status} (expected {IMAGE_SIZE}x{IMAGE_SIZE} RGB JPEG), "
                             f"listed on line {line} of {label_path}")
        images[i] = image
    data = PreparedData(images, labels, split, "rafdb", CLASS_NAMES)
    extra = {"val_split": {"from": "train", "fraction": val_fraction, "seed": seed,
                           "method": "per class, a seeded random round(fraction * count) of its train images"}}
    return LoadedDataset(data, table.index.to_numpy(np.int64), (str(label_path),),
                         names=table["name"].to_numpy(dtype=str), extra=extra)


def check(root: str | os.PathLike) -> list[dict]:
    """Label file and images: line format, labels 1..7, both splits, every class in train, every listed
    image present, decodable and 100x100 RGB (a failing image is reported with its path)."""
    from tqdm import tqdm

    E = gx_module().expectations
    label_path = Path(root) / LABEL_FILE
    table = read_label_file(label_path)
    statuses = []
    for name in tqdm(table["name"], desc="RAF-DB images", mininterval=2.0):
        path = image_path(root, name) if isinstance(name, str) else None
        status = inspect_image(path)[1] if path is not None else "missing"
        statuses.append("ok" if status == "ok" else f"{status}: {path.relative_to(root) if path else name}")
    labels = [str(k) for k in TO_CLASS]
    derived = table.assign(split=table["name"].str.split("_").str[0], image=statuses)
    derived["train_label"] = derived["label"].where(derived["split"] == "train")
    expectations = [
        E.ExpectTableRowCountToBeBetween(min_value=1),
        E.ExpectColumnValuesToBeBetween(column="n_fields", min_value=2, max_value=2),
        E.ExpectColumnValuesToMatchRegex(column="name", regex=r"^(?:train|test)_\d+\.jpg$"),
        E.ExpectColumnValuesToBeInSet(column="label", value_set=labels),
        E.ExpectColumnDistinctValuesToContainSet(column="split", value_set=list(PREFIX_TO_SPLIT)),
        E.ExpectColumnDistinctValuesToContainSet(column="train_label", value_set=labels),
        E.ExpectColumnValuesToBeInSet(column="image", value_set=["ok"]),
    ]
    return run_expectations(derived, expectations, label_path, "rafdb")


def _files(raw_dir: Path) -> list[Path]:
    labels = Path(raw_dir) / ROOT_DIR / LABEL_FILE
    if not labels.exists():
        raise FileNotFoundError(f"RAF-DB label file not found: {labels}")
    return [labels]


def _root(files: list[Path]) -> Path:
    return files[0].parents[1]  # <root>/EmoLabel/list_patition_label.txt


SOURCE = Source(name="rafdb", description="RAF-DB basic (label file + aligned 100x100 JPEGs)", class_names=CLASS_NAMES,
                files=_files, check=lambda files, options: check(_root(files)),
                read=lambda files, options: read(_root(files), float(options["rafdb_val_fraction"]),
                                                 int(options["rafdb_val_seed"])),
                paper_dataset="RAF-DB", real=True,
                options={"rafdb_val_fraction": Float(min=0, max=1, min_exclusive=True, max_exclusive=True),
                         "rafdb_val_seed": Int(min=0)},
                paper_splits={"train": ("train", "val"), "test": ("test",)})  # val is carved out of Training
