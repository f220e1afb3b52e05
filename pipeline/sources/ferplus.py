"""FER+ : FER2013's pixels relabelled by Microsoft's crowd votes (fer2013new.csv, same line order).

Labels follow Microsoft's own protocol (microsoft/FERPlus, src/ferplus.py, after Barsoum et al.
2016), the one FER+ results are reported on:
- a line whose ``Image name`` is empty is not part of FER+ (Microsoft's generate_training_data.py
  skips it);
- a single vote for an emotion is an outlier and is removed;
- "majority": the top emotion must hold more than half of the remaining votes, otherwise the image
  is unknown; "crossentropy" (train only): the top emotions, whole ties at a time, are taken until
  they hold 75 % of the votes (at most 3, stopping at unknown / not-a-face); fewer than half the
  votes covered or more than 3 emotions makes the image unknown; the target is their normalised
  vote distribution and the hard label its arg-max;
- images whose winner is unknown or not-a-face are dropped; val and test always use "majority".
  (Microsoft's reader tests ``argmax < emotion_count - 2`` with emotion_count = 8, which also
  drops fear and contempt winners; we follow its stated intent, "not unknown or non-face".)
The 8-class task keeps contempt (FER2013's 7 classes, then contempt); the 7-class option drops
contempt winners and removes contempt from the vote distributions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.core.constants import SPLIT_CODE, SPLITS
from pipeline.core.specs import Choice, Int
from pipeline.dataset.prepared import PreparedData
from pipeline.sources import fer2013
from pipeline.sources.common import LoadedDataset, bad_lines_error, decode_pixels, read_csv_table, require_columns
from pipeline.sources.expectations import gx_module, raise_if_failed, run_expectations, schema_expectations
from pipeline.sources.registry import Source

VOTES_FILE = "fer2013new.csv"
EMOTIONS: tuple[str, ...] = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
VOTE_COLUMNS: tuple[str, ...] = (*EMOTIONS, "unknown", "NF")
COLUMNS: tuple[str, ...] = ("Usage", "Image name", *VOTE_COLUMNS)
TO_CLASS: dict[str, str] = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                            "anger": "angry", "disgust": "disgust", "fear": "fear", "contempt": "contempt"}
CLASS_NAMES_7: tuple[str, ...] = fer2013.CLASS_NAMES
CLASS_NAMES_8: tuple[str, ...] = (*fer2013.CLASS_NAMES, "contempt")
CLASS_NAMES = CLASS_NAMES_8
TARGETS = ("majority", "crossentropy")
# Column of each class (in CLASS_NAMES_8 order) among the vote columns.
_VOTE_INDEX = np.array([EMOTIONS.index(next(e for e, c in TO_CLASS.items() if c == cls)) for cls in CLASS_NAMES_8])
_CLASS_OF_COLUMN = np.argsort(_VOTE_INDEX)  # vote column (emotions only) -> class index
UNKNOWN, NOT_FACE = 8, 9  # vote-column indices


def class_names(num_classes: int) -> tuple[str, ...]:
    if num_classes not in (7, 8):
        raise ValueError(f"params.yaml: data.ferplus_classes must be 7 or 8, got {num_classes!r}")
    return CLASS_NAMES_8 if num_classes == 8 else CLASS_NAMES_7


def votes_of(table: pd.DataFrame, path: str | os.PathLike) -> np.ndarray:
    """The vote columns as int64 (N, 10) in VOTE_COLUMNS order; non-integer votes are a ValueError."""
    require_columns(table, COLUMNS, path)
    votes = table[list(VOTE_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    bad = votes.isna().any(axis=1) | (votes < 0).any(axis=1)
    if bad.any():
        raise bad_lines_error(path, "vote counts are not non-negative integers", table.index[bad])
    return votes.to_numpy(np.int64)


def without_outliers(votes: np.ndarray) -> np.ndarray:
    """Votes with every single vote (a count of 1) removed, as Microsoft does."""
    votes = np.asarray(votes, np.float64).copy()
    votes[votes <= 1] = 0
    return votes


def majority_vote(votes: np.ndarray) -> np.ndarray:
    """Vote-column index of the winner holding > 50 % of the votes left after outlier removal, else UNKNOWN."""
    kept = without_outliers(votes)
    top = kept.max(axis=1)
    return np.where(top > 0.5 * kept.sum(axis=1), kept.argmax(axis=1), UNKNOWN)


def vote_distribution(row: np.ndarray) -> np.ndarray | None:
    """Microsoft's "crossentropy" target of one line (10 vote columns): normalised top votes, or None if unknown."""
    left = without_outliers(row[None])[0]
    total = left.sum()
    taken = np.zeros_like(left)
    count = 0
    while taken.sum() < 0.75 * total and count < 3:
        top = left.max()
        stop = False
        for i in np.flatnonzero(left == top):
            if i >= UNKNOWN:  # unknown / not-a-face reached: it counts only when it leads the votes
                if taken.sum() == 0:
                    taken[i], count = top, count + 1
                stop = True
                break
            taken[i], left[i], count = top, 0, count + 1
        if stop:
            break
    if taken.sum() <= 0.5 * total or count > 3 or taken.argmax() >= UNKNOWN:
        return None
    return taken / taken.sum()


def label_votes(votes: np.ndarray, is_train: np.ndarray, num_classes: int,
                target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label or -1, reason, soft label rows (N, num_classes)) of every line, by the protocol above.

    reason is 'kept', 'unknown' (no majority, or unknown won), 'not_face' or 'contempt' (7 classes).
    Soft labels are the vote distribution for "crossentropy" train lines, one-hot otherwise.
    """
    if target not in TARGETS:
        raise ValueError(f"params.yaml: data.ferplus_target must be one of {', '.join(TARGETS)}, got {target!r}")
    n = len(votes)
    soft10 = np.zeros((n, len(VOTE_COLUMNS)), np.float64)
    winner = majority_vote(votes)
    soft10[np.arange(n), winner] = 1.0
    if target == "crossentropy":
        for i in np.flatnonzero(is_train):
            dist = vote_distribution(votes[i])
            soft10[i] = 0.0
            if dist is None:
                soft10[i, UNKNOWN] = 1.0
            else:
                soft10[i] = dist
            winner[i] = soft10[i].argmax()
    soft = soft10[:, _VOTE_INDEX]  # CLASS_NAMES_8 order
    labels = _CLASS_OF_COLUMN[np.minimum(winner, len(EMOTIONS) - 1)]  # ties: first in Microsoft's column order
    reason = np.full(n, "kept", dtype=object)
    reason[winner == UNKNOWN] = "unknown"
    reason[winner == NOT_FACE] = "not_face"
    if num_classes == 7:
        reason[(reason == "kept") & (labels == CLASS_NAMES_8.index("contempt"))] = "contempt"
        soft = soft[:, :7]
    keep = reason == "kept"
    soft[keep] /= soft[keep].sum(axis=1, keepdims=True)
    labels = np.where(keep, labels, -1)
    return labels.astype(np.int64), reason, soft.astype(np.float32)


def class_counts(labels: np.ndarray, split: np.ndarray, names: tuple[str, ...]) -> dict[str, dict[str, int]]:
    return {s: {c: int(((split == SPLIT_CODE[s]) & (labels == i)).sum()) for i, c in enumerate(names)} for s in SPLITS}


def read_tables(fer_path: Path, votes_path: Path, fer: pd.DataFrame, plus: pd.DataFrame, num_classes: int,
                target: str) -> LoadedDataset:
    if fer.empty or plus.empty:
        raise ValueError(f"{fer_path if fer.empty else votes_path}: no data lines")
    names = class_names(num_classes)
    _, split = fer2013.labels_and_splits(fer, fer_path)
    if len(plus) != len(fer):
        raise ValueError(f"{votes_path} has {len(plus)} data lines but {fer_path} has {len(fer)}; they must match line by line")
    require_columns(plus, COLUMNS, votes_path)
    mismatch = plus["Usage"].str.strip().to_numpy() != fer["Usage"].str.strip().to_numpy()
    if mismatch.any():
        raise bad_lines_error(votes_path, f"Usage differs from {fer_path} (files out of line order?)", plus.index[mismatch])
    votes = votes_of(plus, votes_path)
    is_train = split == SPLIT_CODE["train"]
    labels, reason, soft = label_votes(votes, is_train, num_classes, target)
    reason[plus["Image name"].fillna("").str.strip().to_numpy() == ""] = "not_in_ferplus"
    keep = reason == "kept"
    dropped = {r: int((reason == r).sum()) for r in ("not_in_ferplus", "unknown", "not_face", "contempt")}
    lines = fer.index.to_numpy(np.int64)[keep]
    images = decode_pixels(fer["pixels"].fillna("").to_numpy()[keep], lines, fer_path, fer2013.IMAGE_SIZE)
    data = PreparedData(images, labels[keep], split[keep], "ferplus", names,
                        soft_labels=soft[keep] if target == "crossentropy" else None)
    named = reason != "not_in_ferplus"
    both = {str(k): class_counts(label_votes(votes[named], np.zeros(int(named.sum()), bool), k, "majority")[0],
                                 split[named], class_names(k)) for k in (8, 7)}
    extra = {"dropped": {**dropped, "total": int(sum(dropped.values()))},
             "ferplus": {"protocol": "microsoft/FERPlus: single votes dropped, majority > 50 % else unknown",
                         "target": target, "classes": num_classes, "majority_counts_by_class_set": both}}
    return LoadedDataset(data, lines, (str(fer_path), str(votes_path)), dropped, extra=extra)


def check_votes_table(plus: pd.DataFrame, fer: pd.DataFrame, path: str | os.PathLike) -> list[dict]:
    """FER+ vote file checks: columns, one line per FER2013 line with the same Usage, integer votes."""
    E = gx_module().expectations
    results = run_expectations(plus, schema_expectations(COLUMNS), path, "ferplus_schema")
    raise_if_failed(results)
    numeric = plus[list(VOTE_COLUMNS)].apply(pd.to_numeric, errors="coerce")
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


def _read(files: list[Path], options: Mapping[str, Any]) -> LoadedDataset:
    """``options``: the loaded ``data`` section (its FER+ keys' defaults are the schema's)."""
    return read_tables(files[0], files[1], read_csv_table(files[0]), read_csv_table(files[1]),
                       num_classes=options["ferplus_classes"], target=options["ferplus_target"])


SOURCE = Source(name="ferplus", description="FER2013 pixels + Microsoft FER+ votes, Microsoft's protocol (8 or 7 classes)",
                class_names=CLASS_NAMES, files=_files, check=_check, read=_read, paper_dataset="FER+", real=True,
                options={"ferplus_classes": Int(min=7, max=8, optional=True, default=8),  # 8: contempt kept (the FER+ task)
                         "ferplus_target": Choice(values=TARGETS, optional=True, default="majority")},  # train targets
                aliases=TO_CLASS)  # its vote columns' names (happiness, sadness, anger...)
