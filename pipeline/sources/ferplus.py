"""FER+ : FER2013's pixels relabelled by Microsoft's crowd votes (fer2013new.csv, same line order).

Label = the majority vote; a tie for the top count, or a win for unknown / not-a-face, drops the
image; contempt has no class in the 7-class task, so its winners are dropped too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.dataset.prepared import PreparedData
from pipeline.sources import fer2013
from pipeline.sources.common import LoadedDataset, bad_lines_error, decode_pixels, read_csv_table, require_columns
from pipeline.sources.expectations import gx_module, raise_if_failed, run_expectations, schema_expectations
from pipeline.sources.registry import Source

VOTES_FILE = "fer2013new.csv"
EMOTIONS: tuple[str, ...] = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
COLUMNS: tuple[str, ...] = ("Usage", "Image name", *EMOTIONS, "unknown", "NF")
TO_CLASS: dict[str, str] = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                            "anger": "angry", "disgust": "disgust", "fear": "fear"}
CLASS_NAMES = fer2013.CLASS_NAMES


def votes_of(table: pd.DataFrame, path: str | os.PathLike) -> np.ndarray:
    """The vote columns as int64 (N, 10) in COLUMNS[2:] order; non-integer votes are a ValueError."""
    require_columns(table, COLUMNS, path)
    votes = table[list(COLUMNS[2:])].apply(pd.to_numeric, errors="coerce")
    bad = votes.isna().any(axis=1) | (votes < 0).any(axis=1)
    if bad.any():
        raise bad_lines_error(path, "vote counts are not non-negative integers", table.index[bad])
    return votes.to_numpy(np.int64)


def majority(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label index into CLASS_NAMES or -1, reason) per line; reason is 'kept', 'tie', 'unknown', 'not_face' or 'contempt'."""
    top = votes.max(axis=1)
    winner_name = np.array(COLUMNS[2:])[votes.argmax(axis=1)]
    tied = (votes == top[:, None]).sum(axis=1) > 1
    reason = np.full(len(votes), "kept", dtype=object)
    reason[winner_name == "contempt"] = "contempt"
    reason[winner_name == "unknown"] = "unknown"
    reason[winner_name == "NF"] = "not_face"
    reason[tied] = "tie"
    class_of = {name: CLASS_NAMES.index(cls) for name, cls in TO_CLASS.items()}
    labels = np.array([class_of.get(name, -1) for name in winner_name], np.int64)
    labels[reason != "kept"] = -1
    return labels, reason


def read_tables(fer_path: Path, votes_path: Path, fer: pd.DataFrame, plus: pd.DataFrame) -> LoadedDataset:
    if fer.empty or plus.empty:
        raise ValueError(f"{fer_path if fer.empty else votes_path}: no data lines")
    _, split = fer2013.labels_and_splits(fer, fer_path)
    if len(plus) != len(fer):
        raise ValueError(f"{votes_path} has {len(plus)} data lines but {fer_path} has {len(fer)}; they must match line by line")
    require_columns(plus, COLUMNS, votes_path)
    mismatch = plus["Usage"].str.strip().to_numpy() != fer["Usage"].str.strip().to_numpy()
    if mismatch.any():
        raise bad_lines_error(votes_path, f"Usage differs from {fer_path} (files out of line order?)", plus.index[mismatch])
    labels, reason = majority(votes_of(plus, votes_path))
    keep = reason == "kept"
    dropped = {r: int((reason == r).sum()) for r in ("unknown", "not_face", "tie", "contempt")}
    lines = fer.index.to_numpy(np.int64)[keep]
    images = decode_pixels(fer["pixels"].fillna("").to_numpy()[keep], lines, fer_path, fer2013.IMAGE_SIZE)
    data = PreparedData(images, labels[keep], split[keep], "ferplus", CLASS_NAMES)
    return LoadedDataset(data, lines, (str(fer_path), str(votes_path)), dropped)


def check_votes_table(plus: pd.DataFrame, fer: pd.DataFrame, path: str | os.PathLike) -> list[dict]:
    """FER+ vote file checks: columns, one line per FER2013 line with the same Usage, integer votes."""
    E = gx_module().expectations
    results = run_expectations(plus, schema_expectations(COLUMNS), path, "ferplus_schema")
    raise_if_failed(results)
    numeric = plus[list(COLUMNS[2:])].apply(pd.to_numeric, errors="coerce")
    integral = numeric.notna() & (numeric >= 0) & (numeric == numeric.round())
    derived = pd.DataFrame({
        "Usage": plus["Usage"],
        "votes_are_counts": integral.all(axis=1),
        "usage_matches_fer2013": plus["Usage"] == fer["Usage"].reindex(plus.index),
    }, index=plus.index)
    expectations = [
        E.ExpectTableRowCountToEqual(value=len(fer)),
        E.ExpectColumnValuesToBeInSet(column="Usage", value_set=list(fer2013.USAGE_TO_SPLIT)),
        E.ExpectColumnValuesToBeInSet(column="votes_are_counts", value_set=[True]),
        E.ExpectColumnValuesToBeInSet(column="usage_matches_fer2013", value_set=[True]),
    ]
    return results + run_expectations(derived, expectations, path, "ferplus_rows")


def _files(raw_dir: Path) -> list[Path]:
    votes = Path(raw_dir) / VOTES_FILE
    if not votes.exists():
        raise FileNotFoundError(f"FER+ vote file not found: {votes}")
    return [fer2013.csv_path(raw_dir), votes]


def _check(files: list[Path], options: dict[str, Any]) -> list[dict]:
    fer, plus = read_csv_table(files[0]), read_csv_table(files[1])
    results = fer2013.check_table(fer, files[0])
    raise_if_failed(results)
    return results + check_votes_table(plus, fer, files[1])


def _read(files: list[Path], options: dict[str, Any]) -> LoadedDataset:
    loaded = read_tables(files[0], files[1], read_csv_table(files[0]), read_csv_table(files[1]))
    return LoadedDataset(loaded.data, loaded.lines, loaded.files, loaded.dropped,
                         extra={"dropped": {**loaded.dropped, "total": int(sum(loaded.dropped.values()))}})


SOURCE = Source(name="ferplus", description="FER2013 pixels + Microsoft FER+ majority votes (7 classes)",
                class_names=CLASS_NAMES, files=_files, check=_check, read=_read, paper_dataset="FER+", real=True)
