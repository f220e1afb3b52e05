"""FER2013, the Kaggle CSV (emotion,pixels,Usage): its reader and its Great Expectations checks.

Training -> train, PublicTest -> val, PrivateTest -> test; 48x48 grayscale; labels 0..6 in the
order below, which the FER2013-derived sources (synthetic, RAF-DB's mapping) share.
What is unambiguous is taken: the columns are found by name, in any order, and a label written as
an integral number (``3.0``) is that integer; ``3.5`` (or ``x``) is refused naming the file and line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.constants import SPLIT_CODE
from pipeline.dataset.prepared import PreparedData
from pipeline.sources.common import (LoadedDataset, bad_lines_error, decode_pixels, pixel_problem, read_csv_table,
                                     require_columns, scan_pixels)
from pipeline.sources.expectations import gx_module, raise_if_failed, run_expectations, schema_expectations
from pipeline.sources.registry import Source

CLASS_NAMES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
COLUMNS: tuple[str, ...] = ("emotion", "pixels", "Usage")
IMAGE_SIZE = 48
USAGE_TO_SPLIT: dict[str, str] = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
FILE_NAMES = ("fer2013.csv", "fer2013.csv.gz")


def csv_path(raw_dir: str | os.PathLike) -> Path:
    """data/raw/fer2013.csv or its .gz; both present is refused (which one is meant is ambiguous)."""
    present = [Path(raw_dir) / name for name in FILE_NAMES if (Path(raw_dir) / name).exists()]
    if len(present) > 1:
        raise ValueError(f"both {present[0]} and {present[1]} exist; keep one (which is meant is ambiguous)")
    if not present:
        raise FileNotFoundError(f"FER2013 CSV not found: put fer2013.csv or fer2013.csv.gz in {raw_dir}")
    return present[0]


def canonical_labels(emotion: pd.Series) -> pd.Series:
    """The emotion column as label strings, an integral number however written (``3.0``, `` 3 ``, ``03``) as
    its integer (``3``); anything else (``3.5``, ``x``, blank) as written, stripped, for the checks to refuse
    by line; a missing value stays missing."""
    text = emotion.astype(object).where(emotion.notna(), "").astype(str).str.strip()
    number = pd.to_numeric(text, errors="coerce")
    integral = number.notna() & (number.abs() < 2 ** 31) & (number == np.floor(number))
    text[integral] = number[integral].astype(np.int64).astype(str)
    return text.where(emotion.notna())


def labels_and_splits(table: pd.DataFrame, path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert the emotion and Usage columns of a FER2013 table."""
    require_columns(table, COLUMNS, path)
    emotion = canonical_labels(table["emotion"]).fillna("")
    valid = emotion.isin([str(i) for i in range(len(CLASS_NAMES))])
    if not valid.all():
        raise bad_lines_error(path, f"emotion is not an integer 0..{len(CLASS_NAMES) - 1}", table.index[~valid],
                              list(emotion[~valid]))
    usage = table["Usage"].fillna("").str.strip()
    split_names = usage.map(USAGE_TO_SPLIT)
    unknown = split_names.isna()
    if unknown.any():
        raise bad_lines_error(path, f"Usage is not one of {list(USAGE_TO_SPLIT)}", table.index[unknown], list(usage[unknown]))
    return emotion.astype(np.int64).to_numpy(), split_names.map(SPLIT_CODE).astype(np.int8).to_numpy()


def read_table(path: str | os.PathLike, source: str = "fer2013", table: pd.DataFrame | None = None) -> LoadedDataset:
    """A FER2013-schema CSV into memory; ``table`` is the CSV already read (validation reads it once)."""
    table = read_csv_table(path) if table is None else table
    if table.empty:
        raise ValueError(f"{path}: no data lines")
    labels, split = labels_and_splits(table, path)
    images = decode_pixels(table["pixels"].fillna("").to_numpy(), table.index.to_numpy(), path, IMAGE_SIZE)
    return LoadedDataset(PreparedData(images, labels, split, source, CLASS_NAMES), table.index.to_numpy(np.int64),
                         (str(path),))


def check_table(table: pd.DataFrame, path: str | os.PathLike) -> list[dict]:
    """FER2013-schema checks: columns (by name, any order), labels (``3.0`` is 3), Usage and splits, pixel count
    and range, classes in train."""
    E = gx_module().expectations
    results = run_expectations(table, schema_expectations(COLUMNS), path, "fer_schema")
    raise_if_failed(results)
    scan = scan_pixels(table["pixels"].to_numpy())
    n_pixels = IMAGE_SIZE * IMAGE_SIZE
    known = scan.known
    bad_token = np.where(scan.non_numeric, "non-numeric token", None).astype(object)
    for i in np.flatnonzero(scan.non_numeric)[:20]:  # quote the offending token of the first few lines
        bad_token[i] = pixel_problem(table["pixels"].iloc[i], n_pixels)
    emotion = canonical_labels(table["emotion"])
    derived = pd.DataFrame({
        "emotion": emotion,
        "Usage": table["Usage"],
        "pixels_missing": table["pixels"].isna(),
        "n_pixels": scan.n_tokens,
        "pixels_non_numeric": bad_token,
        "pixel_min": np.where(known, scan.min_value, np.nan),
        "pixel_max": np.where(known, scan.max_value, np.nan),
        "train_emotion": emotion.where(table["Usage"] == "Training"),
    }, index=table.index)
    labels = [str(i) for i in range(len(CLASS_NAMES))]
    usages = list(USAGE_TO_SPLIT)
    expectations = [
        E.ExpectColumnValuesToNotBeNull(column="emotion"),
        E.ExpectColumnValuesToNotBeNull(column="Usage"),
        E.ExpectColumnValuesToBeInSet(column="pixels_missing", value_set=[False]),
        E.ExpectColumnValuesToBeInSet(column="emotion", value_set=labels),
        E.ExpectColumnValuesToBeInSet(column="Usage", value_set=usages),
        E.ExpectColumnDistinctValuesToContainSet(column="Usage", value_set=usages),
        E.ExpectColumnValuesToBeNull(column="pixels_non_numeric"),
        E.ExpectColumnValuesToBeBetween(column="n_pixels", min_value=n_pixels, max_value=n_pixels),
        E.ExpectColumnValuesToBeBetween(column="pixel_min", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="pixel_max", max_value=255),
        E.ExpectColumnDistinctValuesToContainSet(column="train_emotion", value_set=labels),
    ]
    return results + run_expectations(derived, expectations, path, "fer_rows")


def _check(files: list[Path], options: dict[str, Any]) -> list[dict]:
    return check_table(read_csv_table(files[0]), files[0])


def _read(files: list[Path], options: dict[str, Any]) -> LoadedDataset:
    return read_table(files[0], "fer2013")


SOURCE = Source(name="fer2013", description="FER2013, Kaggle CSV (emotion,pixels,Usage)", class_names=CLASS_NAMES,
                files=lambda raw_dir: [csv_path(raw_dir)], check=_check, read=_read,
                paper_dataset="FER2013", real=True)
