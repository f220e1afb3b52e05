"""What every source reader shares: the in-memory form, CSV reading and pixel-string decoding.

Row numbers everywhere (messages, reports, duplicate lists) are **file line numbers** of the
source's main file: a CSV's header is line 1, its first image line 2; the RAF-DB label file has
no header, so its first image is line 1.
"""

from __future__ import annotations

import gzip
import os
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.dataset.prepared import PreparedData

EXAMPLES = 5  # lines quoted in an error message


@dataclass(frozen=True)
class LoadedDataset:
    """A source read into memory: the prepared arrays plus where each image came from."""

    data: PreparedData
    lines: np.ndarray  # int64 (N,): file line of each image in the main file
    files: tuple[str, ...]
    dropped: dict[str, int] = field(default_factory=dict)  # lines left out, by reason (FER+)
    names: np.ndarray | None = None  # image file names where the source has them (RAF-DB)
    extra: dict = field(default_factory=dict)  # source-specific facts for the validation report

    def select(self, keep: np.ndarray) -> "LoadedDataset":
        """The same dataset restricted to the images where ``keep`` is true."""
        d = self.data
        data = PreparedData(d.images[keep], d.labels[keep], d.split[keep], d.source, d.class_names,
                            None if d.soft_labels is None else d.soft_labels[keep])
        return LoadedDataset(data, self.lines[keep], self.files, dict(self.dropped),
                             None if self.names is None else self.names[keep], dict(self.extra))


def read_csv_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV (plain or .gz) as strings, index = file line number; unreadable files are a ValueError naming them."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: file is empty (expected a header line and data lines)") from None
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise ValueError(f"{path}: not a valid gzip file or truncated ({exc}); re-copy or re-download it") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable CSV: {exc}") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot be read: {exc}") from None
    table.index = pd.RangeIndex(2, len(table) + 2, name="line")
    return table


def require_columns(table: pd.DataFrame, columns: Sequence[str], path: str | os.PathLike) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(table.columns)}")


def bad_lines_error(path: str | os.PathLike, what: str, lines: Sequence[int], values: Sequence | None = None) -> ValueError:
    lines = list(lines)
    shown = ", ".join(f"line {n}" + (f" ({values[i]!r})" if values is not None else "") for i, n in enumerate(lines[:EXAMPLES]))
    return ValueError(f"{path}: {what} on {len(lines)} line(s), e.g. {shown}")


@dataclass(frozen=True)
class PixelScan:
    """Per-line facts about space-separated pixel strings, computed without a Python loop per token."""

    n_tokens: np.ndarray  # int64
    non_numeric: np.ndarray  # bool: a token that is not an (optionally negative) integer
    min_value: np.ndarray  # int64, valid where ``known``
    max_value: np.ndarray  # int64, valid where ``known``

    @property
    def known(self) -> np.ndarray:
        return ~self.non_numeric & (self.n_tokens > 0)


def scan_pixels(pixels: Sequence[str], chunk_size: int = 2048) -> PixelScan:
    """Token count, non-numeric flag and value range of each pixel string, chunk by chunk."""
    n = len(pixels)
    n_tokens = np.zeros(n, np.int64)
    non_numeric = np.zeros(n, bool)
    min_value = np.zeros(n, np.int64)
    max_value = np.zeros(n, np.int64)
    for start in range(0, n, chunk_size):
        chunk = ["" if not isinstance(p, str) else p for p in pixels[start:start + chunk_size]]
        text = "\n".join(chunk) + "\n"
        buf = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
        is_digit = (buf >= 48) & (buf <= 57)
        is_minus = buf == 45
        prev = np.concatenate(([32], buf[:-1]))
        nxt = np.concatenate((buf[1:], [32]))
        # a '-' is numeric only as a sign: after a separator and before a digit
        sign_ok = is_minus & np.isin(prev, (32, 9, 10, 13)) & (nxt >= 48) & (nxt <= 57)
        newline_at = np.flatnonzero(buf == 10)
        allowed = is_digit | sign_ok | (buf == 32) | (buf == 10) | (buf == 9) | (buf == 13)
        bad_rows = np.zeros(len(chunk), bool)
        bad_rows[np.searchsorted(newline_at, np.flatnonzero(~allowed))] = True
        number_char = is_digit | sign_ok
        token_starts = np.flatnonzero(number_char & ~np.concatenate(([False], number_char[:-1])))
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


def pixel_problem(text: str, n_pixels: int) -> str:
    """What is wrong with one pixel string, quoting the offending token (called for a few bad lines only)."""
    if not isinstance(text, str) or not text.strip():
        return "no pixel values"
    tokens = text.split()
    for token in tokens:
        try:
            value = int(token)
        except ValueError:
            return f"non-numeric token {token!r}"
        if not 0 <= value <= 255:
            return f"value {token} outside 0..255"
    if len(tokens) != n_pixels:
        return f"{len(tokens)} values, expected {n_pixels}"
    return "ok"


def decode_pixels(pixels: Sequence[str], lines: np.ndarray, path: str | os.PathLike, size: int,
                  chunk_size: int = 2048) -> np.ndarray:
    """Space-separated pixel strings -> uint8 (N, size, size), parsed a chunk at a time by numpy.

    A bad line (wrong count, non-numeric token, value outside 0..255) is a ValueError naming it
    and quoting the offending token.
    """
    n, n_pixels = len(pixels), size * size
    images = np.empty((n, size, size), np.uint8)
    for start in range(0, n, chunk_size):
        chunk = pixels[start:start + chunk_size]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # a bad token ends parsing early; caught below
                values = np.fromstring(" ".join(chunk), dtype=np.int64, sep=" ")
        except (ValueError, TypeError):
            values = None
        ok = values is not None and values.size == len(chunk) * n_pixels and values.min(initial=0) >= 0 \
            and values.max(initial=0) <= 255
        if not ok:
            problems = [(lines[start + i], pixel_problem(p, n_pixels)) for i, p in enumerate(chunk)]
            bad = [(line, why) for line, why in problems if why != "ok"][:EXAMPLES]
            shown = ", ".join(f"line {line}: {why}" for line, why in bad)
            raise ValueError(f"{path}: pixels must be {n_pixels} integers 0..255 separated by spaces; {shown}")
        images[start:start + len(chunk)] = values.reshape(-1, size, size)
    return images
