"""Task markers (``start,end,label`` CSV) and the baseline segment, mapped onto sampled instants."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NO_TASK = ""


@dataclass(frozen=True)
class Marker:
    start: float
    end: float
    label: str


def parse_time(text: str) -> float:
    """Seconds from ``12.5``, ``1:02.5`` or ``1:02:03``."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or any(p.strip() == "" for p in parts):
        raise ValueError(f"not a time: {text!r} (use seconds, mm:ss or hh:mm:ss)")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def read_markers(path: str | os.PathLike) -> list[Marker]:
    """Markers from a CSV with a ``start,end,label`` header; errors name the file and the row."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"markers file not found: {path}")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if not {"start", "end", "label"} <= set(header):
            raise ValueError(f"{path}: header must name start,end,label (got {reader.fieldnames})")
        reader.fieldnames = header
        markers = []
        for row_no, row in enumerate(reader, start=2):
            try:
                start, end = parse_time(row["start"] or ""), parse_time(row["end"] or "")
            except ValueError as exc:
                raise ValueError(f"{path}, row {row_no}: {exc}") from None
            label = (row["label"] or "").strip()
            if not label:
                raise ValueError(f"{path}, row {row_no}: empty label")
            if not end > start:
                raise ValueError(f"{path}, row {row_no}: end {end} s is not after start {start} s")
            markers.append(Marker(start, end, label))
    if not markers:
        raise ValueError(f"{path}: no markers")
    return markers


def assign_tasks(t_sec: np.ndarray, markers: list[Marker]) -> np.ndarray:
    """Task label of every instant (first marker containing it, [start, end)); NO_TASK outside all."""
    out = np.full(len(t_sec), NO_TASK, dtype=object)
    for m in reversed(markers):  # earlier markers win where they overlap
        out[(t_sec >= m.start) & (t_sec < m.end)] = m.label
    return out


def baseline_mask(spec: str, t_sec: np.ndarray, tasks: np.ndarray) -> tuple[np.ndarray, str]:
    """Instants of the baseline: ``START,END`` (times) or a marker label; returns (mask, description)."""
    if "," in spec:
        a, b = (parse_time(p) for p in spec.split(",", 1))
        if not b > a:
            raise ValueError(f"--baseline {spec!r}: end is not after start")
        return (t_sec >= a) & (t_sec < b), f"{a:g}-{b:g} s"
    mask = tasks == spec
    if not mask.any():
        raise ValueError(f"--baseline {spec!r}: no marker has that label (labels: {sorted(set(tasks) - {NO_TASK})})")
    return mask, f"task {spec!r}"
