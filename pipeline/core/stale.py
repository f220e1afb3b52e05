"""Output folders that mirror a set of names (one report per model, one export per run) drop the files
of names no longer there, so nothing downstream reads a stale one as current."""

from __future__ import annotations

from collections.abc import Container, Iterable
from pathlib import Path


def remove_stale(folder: Path, patterns: Iterable[str], keep: Container[str]) -> list[Path]:
    """Delete the files in ``folder`` matching any of ``patterns`` whose stem is not in ``keep``; returns them, sorted."""
    stale = sorted(path for pattern in patterns for path in Path(folder).glob(pattern) if path.stem not in keep)
    for path in stale:
        path.unlink()
    return stale
