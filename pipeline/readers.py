"""Readers: each data source into one in-memory form (uint8 images, labels in CLASS_NAMES order, splits).

Sources: ``fer2013`` (Kaggle CSV), ``ferplus`` (FER2013 pixels + Microsoft's vote counts),
``rafdb`` (basic set: label file + aligned JPEGs) and ``synthetic`` (our generator's CSV, read
by the FER2013 reader). Row numbers in messages and reports are 1-based data rows of the
source's main file (for CSVs the header is line 1, so file line = row + 1; for the RAF-DB label
file, which has no header, row = line).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.constants import CLASS_NAMES, SPLIT_CODE
from pipeline.prepared import PreparedData

SOURCES = ("synthetic", "fer2013", "ferplus", "rafdb")

FER_COLUMNS: tuple[str, ...] = ("emotion", "pixels", "Usage")
FER_SIZE = 48
FER_USAGE_TO_SPLIT: dict[str, str] = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}

FERPLUS_FILE = "fer2013new.csv"
FERPLUS_EMOTIONS: tuple[str, ...] = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")
FERPLUS_COLUMNS: tuple[str, ...] = ("Usage", "Image name", *FERPLUS_EMOTIONS, "unknown", "NF")
FERPLUS_TO_CLASS: dict[str, str] = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                                    "anger": "angry", "disgust": "disgust", "fear": "fear"}

RAFDB_DIR = "rafdb"
RAFDB_LABEL_FILE = "EmoLabel/list_patition_label.txt"
RAFDB_IMAGE_DIR = "Image/aligned"
RAFDB_SIZE = 100
# RAF-DB basic labels 1..7 -> class names.
RAFDB_TO_CLASS: dict[int, str] = {1: "surprise", 2: "fear", 3: "disgust", 4: "happy", 5: "sad", 6: "angry", 7: "neutral"}
RAFDB_PREFIX_TO_SPLIT: dict[str, str] = {"train": "train", "test": "test"}

SYNTHETIC_FILE = "synthetic.csv.gz"
_EXAMPLES = 5  # rows quoted in an error message


@dataclass(frozen=True)
class LoadedDataset:
    """A source read into memory: the prepared arrays plus where each image came from."""

    data: PreparedData
    rows: np.ndarray  # int64 (N,): 1-based data row of each image in the main file
    files: tuple[str, ...]
    dropped: dict[str, int] = field(default_factory=dict)  # rows left out, by reason (FER+)
    names: np.ndarray | None = None  # image file names where the source has them (RAF-DB)


# ---------------------------------------------------------------- files

def fer2013_csv_path(raw_dir: str | os.PathLike) -> Path:
    """data/raw/fer2013.csv, or its .gz."""
    for name in ("fer2013.csv", "fer2013.csv.gz"):
        path = Path(raw_dir) / name
        if path.exists():
            return path
    raise FileNotFoundError(f"FER2013 CSV not found: put fer2013.csv or fer2013.csv.gz in {raw_dir}")


def source_files(source: str, raw_dir: str | os.PathLike = "data/raw") -> list[Path]:
    """The raw files a source reads, main file first; raises if any is missing."""
    raw_dir = Path(raw_dir)
    if source == "synthetic":
        path = raw_dir / SYNTHETIC_FILE
        if not path.exists():
            raise FileNotFoundError(f"synthetic data not found: {path} (run `dvc repro generate`)")
        return [path]
    if source == "fer2013":
        return [fer2013_csv_path(raw_dir)]
    if source == "ferplus":
        votes = raw_dir / FERPLUS_FILE
        if not votes.exists():
            raise FileNotFoundError(f"FER+ vote file not found: {votes}")
        return [fer2013_csv_path(raw_dir), votes]
    if source == "rafdb":
        labels = raw_dir / RAFDB_DIR / RAFDB_LABEL_FILE
        if not labels.exists():
            raise FileNotFoundError(f"RAF-DB label file not found: {labels}")
        return [labels]
    raise ValueError(f"unknown data.source {source!r}; expected one of {', '.join(SOURCES)}")


# ---------------------------------------------------------------- FER2013 CSV

def read_csv_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV as strings, index = 1-based data row; an empty file is a ValueError."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: file is empty (expected a header line and data rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV: {exc}") from None
    table.index = pd.RangeIndex(1, len(table) + 1, name="row")
    return table


@dataclass(frozen=True)
class PixelScan:
    """Per-row facts about space-separated pixel strings, computed without a Python loop per token."""

    n_tokens: np.ndarray  # int64
    non_numeric: np.ndarray  # bool: a character other than digits and spaces
    min_value: np.ndarray  # int64, -1 where unknown (non-numeric or no tokens)
    max_value: np.ndarray  # int64, -1 where unknown


def scan_pixels(pixels: Sequence[str], chunk_size: int = 2048) -> PixelScan:
    """Token count, non-numeric flag and value range of each pixel string, chunk by chunk."""
    n = len(pixels)
    n_tokens = np.zeros(n, np.int64)
    non_numeric = np.zeros(n, bool)
    min_value = np.full(n, -1, np.int64)
    max_value = np.full(n, -1, np.int64)
    for start in range(0, n, chunk_size):
        chunk = ["" if not isinstance(p, str) else p for p in pixels[start:start + chunk_size]]
        text = "\n".join(chunk) + "\n"
        buf = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
        is_digit = (buf >= 48) & (buf <= 57)
        newline_at = np.flatnonzero(buf == 10)
        bad_at = np.flatnonzero(~(is_digit | (buf == 32) | (buf == 10) | (buf == 9) | (buf == 13)))
        bad_rows = np.zeros(len(chunk), bool)
        bad_rows[np.searchsorted(newline_at, bad_at)] = True
        token_starts = np.flatnonzero(is_digit & ~np.concatenate(([False], is_digit[:-1])))
        counts = np.bincount(np.searchsorted(newline_at, token_starts), minlength=len(chunk))
        n_tokens[start:start + len(chunk)] = counts
        non_numeric[start:start + len(chunk)] = bad_rows
        good = ~bad_rows & (counts > 0)
        if good.any():
            values = np.fromstring(" ".join(c for c, ok in zip(chunk, good) if ok), dtype=np.int64, sep=" ")
            offsets = np.concatenate(([0], np.cumsum(counts[good])[:-1]))
            idx = start + np.flatnonzero(good)
            min_value[idx] = np.minimum.reduceat(values, offsets)
            max_value[idx] = np.maximum.reduceat(values, offsets)
    return PixelScan(n_tokens, non_numeric, min_value, max_value)


def decode_pixels(pixels: Sequence[str], rows: np.ndarray, path: str | os.PathLike, size: int = FER_SIZE,
                  chunk_size: int = 2048) -> np.ndarray:
    """Space-separated pixel strings -> uint8 (N, size, size), parsed a chunk at a time by numpy.

    A bad row (wrong count, non-numeric token, value outside 0..255) is a ValueError naming it.
    """
    n, n_pixels = len(pixels), size * size
    images = np.empty((n, size, size), np.uint8)
    for start in range(0, n, chunk_size):
        chunk = pixels[start:start + chunk_size]
        try:
            values = np.fromstring(" ".join(chunk), dtype=np.int64, sep=" ")
        except (ValueError, TypeError):
            values = None
        ok = values is not None and values.size == len(chunk) * n_pixels and values.min(initial=0) >= 0 \
            and values.max(initial=0) <= 255
        if not ok:
            scan = scan_pixels(list(chunk))
            bad = scan.non_numeric | (scan.n_tokens != n_pixels) | (scan.min_value < 0) | (scan.max_value > 255)
            where = np.flatnonzero(bad)
            examples = [f"row {rows[start + i]} ({'non-numeric token' if scan.non_numeric[i] else f'{scan.n_tokens[i]} values, range {scan.min_value[i]}..{scan.max_value[i]}'})"
                        for i in where[:_EXAMPLES]]
            raise ValueError(f"{path}: pixels must be {n_pixels} integers 0..255 separated by spaces; bad "
                             f"{', '.join(examples) or 'rows in ' + str(rows[start]) + '..'} (1-based data rows; file line = row + 1)")
        images[start:start + len(chunk)] = values.reshape(-1, size, size)
    return images


def _require_columns(table: pd.DataFrame, columns: Sequence[str], path: str | os.PathLike) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(table.columns)}")


def _bad_rows_error(path: str | os.PathLike, what: str, rows: pd.Index | np.ndarray, values=None) -> ValueError:
    rows = list(rows)
    shown = ", ".join(f"row {r}" + (f" ({values[i]!r})" if values is not None else "") for i, r in enumerate(rows[:_EXAMPLES]))
    return ValueError(f"{path}: {what} in {len(rows)} row(s), e.g. {shown} (1-based data rows; file line = row + 1)")


def fer_labels_and_splits(table: pd.DataFrame, path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert the emotion and Usage columns of a FER2013 table."""
    _require_columns(table, FER_COLUMNS, path)
    emotion = table["emotion"].str.strip()
    valid = emotion.isin([str(i) for i in range(len(CLASS_NAMES))])
    if not valid.all():
        raise _bad_rows_error(path, f"emotion is not an integer 0..{len(CLASS_NAMES) - 1}", table.index[~valid],
                              list(emotion[~valid]))
    usage = table["Usage"].str.strip()
    split_names = usage.map(FER_USAGE_TO_SPLIT)
    unknown = split_names.isna()
    if unknown.any():
        raise _bad_rows_error(path, f"Usage is not one of {list(FER_USAGE_TO_SPLIT)}", table.index[unknown],
                              list(usage[unknown]))
    return emotion.astype(np.int64).to_numpy(), split_names.map(SPLIT_CODE).astype(np.int8).to_numpy()


def read_fer2013(path: str | os.PathLike, source: str = "fer2013", table: pd.DataFrame | None = None) -> LoadedDataset:
    """The Kaggle FER2013 CSV (emotion,pixels,Usage): Training->train, PublicTest->val, PrivateTest->test.

    ``table`` is the CSV already read by read_csv_table (validation reads it once for both).
    """
    table = read_csv_table(path) if table is None else table
    if table.empty:
        raise ValueError(f"{path}: no data rows")
    labels, split = fer_labels_and_splits(table, path)
    pixels = table["pixels"].fillna("").to_numpy()
    images = decode_pixels(pixels, table.index.to_numpy(), path)
    return LoadedDataset(PreparedData(images, labels, split, source), table.index.to_numpy(np.int64), (str(path),))


# ---------------------------------------------------------------- FER+

def ferplus_votes(table: pd.DataFrame, path: str | os.PathLike) -> np.ndarray:
    """The vote columns as int64 (N, 10) in FERPLUS_COLUMNS[2:] order; non-integer votes are a ValueError."""
    _require_columns(table, FERPLUS_COLUMNS, path)
    vote_columns = list(FERPLUS_COLUMNS[2:])
    votes = table[vote_columns].apply(pd.to_numeric, errors="coerce")
    bad = votes.isna().any(axis=1) | (votes < 0).any(axis=1)
    if bad.any():
        raise _bad_rows_error(path, "vote counts are not non-negative integers", table.index[bad])
    return votes.to_numpy(np.int64)


def ferplus_majority(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label index into CLASS_NAMES or -1, reason) per row; reason is 'kept', 'tie', 'unknown', 'not_face' or 'contempt'.

    The majority vote wins; a tie for the top count, or a win for unknown / not-a-face, drops the
    row; contempt has no class in the 7-class task, so its winners are dropped too.
    """
    top = votes.max(axis=1)
    winner = votes.argmax(axis=1)
    tied = (votes == top[:, None]).sum(axis=1) > 1
    columns = np.array(FERPLUS_COLUMNS[2:])
    winner_name = columns[winner]
    reason = np.full(len(votes), "kept", dtype=object)
    reason[winner_name == "contempt"] = "contempt"
    reason[winner_name == "unknown"] = "unknown"
    reason[winner_name == "NF"] = "not_face"
    reason[tied] = "tie"
    class_of = {name: CLASS_NAMES.index(cls) for name, cls in FERPLUS_TO_CLASS.items()}
    labels = np.array([class_of.get(name, -1) for name in winner_name], np.int64)
    labels[reason != "kept"] = -1
    return labels, reason


def read_ferplus(fer_path: str | os.PathLike, ferplus_path: str | os.PathLike,
                 tables: tuple[pd.DataFrame, pd.DataFrame] | None = None) -> LoadedDataset:
    """FER2013 pixels relabelled by the FER+ majority vote; dropped rows are counted by reason."""
    fer, plus = tables if tables is not None else (read_csv_table(fer_path), read_csv_table(ferplus_path))
    if fer.empty or plus.empty:
        raise ValueError(f"{fer_path if fer.empty else ferplus_path}: no data rows")
    _, split = fer_labels_and_splits(fer, fer_path)
    if len(plus) != len(fer):
        raise ValueError(f"{ferplus_path} has {len(plus)} data rows but {fer_path} has {len(fer)}; they must match row by row")
    _require_columns(plus, FERPLUS_COLUMNS, ferplus_path)
    mismatch = plus["Usage"].str.strip().to_numpy() != fer["Usage"].str.strip().to_numpy()
    if mismatch.any():
        raise _bad_rows_error(ferplus_path, f"Usage differs from {fer_path} (files out of row order?)",
                              plus.index[mismatch])
    labels, reason = ferplus_majority(ferplus_votes(plus, ferplus_path))
    keep = reason == "kept"
    dropped = {r: int((reason == r).sum()) for r in ("unknown", "not_face", "tie", "contempt")}
    pixels = fer["pixels"].fillna("").to_numpy()[keep]
    rows = fer.index.to_numpy(np.int64)[keep]
    images = decode_pixels(pixels, rows, fer_path)
    data = PreparedData(images, labels[keep], split[keep], "ferplus")
    return LoadedDataset(data, rows, (str(fer_path), str(ferplus_path)), dropped)


# ---------------------------------------------------------------- RAF-DB

def read_rafdb_label_file(path: str | os.PathLike) -> pd.DataFrame:
    """The label file as strings: name, label, n_fields; index = 1-based line number."""
    lines = Path(path).read_text().splitlines()
    fields = [line.split() for line in lines]
    table = pd.DataFrame({
        "name": [f[0] if f else None for f in fields],
        "label": [f[1] if len(f) > 1 else None for f in fields],
        "n_fields": [len(f) for f in fields],
    }, index=pd.RangeIndex(1, len(lines) + 1, name="row"))
    return table


def rafdb_image_path(root: str | os.PathLike, name: str) -> Path:
    """train_00001.jpg -> <root>/Image/aligned/train_00001_aligned.jpg."""
    return Path(root) / RAFDB_IMAGE_DIR / f"{Path(name).stem}_aligned.jpg"


def inspect_image(path: Path, size: int = RAFDB_SIZE) -> tuple[np.ndarray | None, str]:
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


def stratified_val_split(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Bool mask of the rows moved to val: per class, a seeded random round(fraction * count) of its rows.

    Exactly stratified (each class keeps its share) and stable: the same labels, fraction and
    seed always pick the same rows.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"data.rafdb_val_fraction must be between 0 and 1, got {fraction}")
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), bool)
    for cls in range(len(CLASS_NAMES)):
        members = np.flatnonzero(labels == cls)
        mask[rng.permutation(members)[: int(round(fraction * len(members)))]] = True
    return mask


def read_rafdb(root: str | os.PathLike, val_fraction: float = 0.1, seed: int = 0) -> LoadedDataset:
    """RAF-DB basic: aligned 100x100 RGB images; val = a stratified ``val_fraction`` of train."""
    from tqdm import tqdm

    label_path = Path(root) / RAFDB_LABEL_FILE
    table = read_rafdb_label_file(label_path)
    if table.empty:
        raise ValueError(f"{label_path}: file is empty")
    bad = table["n_fields"] != 2
    if bad.any():
        raise ValueError(f"{label_path}: expected '<name> <label>' per line; bad line(s) {list(table.index[bad][:_EXAMPLES])}")
    valid_label = table["label"].isin([str(k) for k in RAFDB_TO_CLASS])
    if not valid_label.all():
        raise ValueError(f"{label_path}: label not in 1..7 at line(s) {list(table.index[~valid_label][:_EXAMPLES])}")
    prefix = table["name"].str.split("_").str[0]
    split_names = prefix.map(RAFDB_PREFIX_TO_SPLIT)
    if split_names.isna().any():
        raise ValueError(f"{label_path}: image name must start with train_ or test_ at line(s) "
                         f"{list(table.index[split_names.isna()][:_EXAMPLES])}")
    labels = np.array([CLASS_NAMES.index(RAFDB_TO_CLASS[int(v)]) for v in table["label"]], np.int64)
    split = np.array(split_names.map(SPLIT_CODE), dtype=np.int8)
    train_rows = np.flatnonzero(split == SPLIT_CODE["train"])
    val_mask = stratified_val_split(labels[train_rows], val_fraction, seed)
    split[train_rows[val_mask]] = SPLIT_CODE["val"]

    images = np.empty((len(table), RAFDB_SIZE, RAFDB_SIZE, 3), np.uint8)
    for i, (row, name) in enumerate(tqdm(zip(table.index, table["name"]), total=len(table), desc="RAF-DB images",
                                         mininterval=2.0)):
        path = rafdb_image_path(root, name)
        image, status = inspect_image(path)
        if image is None:
            raise ValueError(f"{path}: image {status} (expected {RAFDB_SIZE}x{RAFDB_SIZE} RGB JPEG), "
                             f"listed at line {row} of {label_path}")
        images[i] = image
    data = PreparedData(images, labels, split, "rafdb")
    return LoadedDataset(data, table.index.to_numpy(np.int64), (str(label_path),),
                         names=table["name"].to_numpy(dtype=str))


# ---------------------------------------------------------------- dispatch

def read_source(source: str, raw_dir: str | os.PathLike = "data/raw", rafdb_val_fraction: float = 0.1,
                rafdb_val_seed: int = 0) -> LoadedDataset:
    """Read ``data.source`` from ``raw_dir`` into the common in-memory form."""
    files = source_files(source, raw_dir)
    if source in ("synthetic", "fer2013"):
        return read_fer2013(files[0], source=source)
    if source == "ferplus":
        return read_ferplus(files[0], files[1])
    return read_rafdb(Path(raw_dir) / RAFDB_DIR, rafdb_val_fraction, rafdb_val_seed)
