"""Which files of a finished run a committed run folder keeps, and the copy that puts them there (used by the
Table IV snapshot and the EmoXNet run folders alike)."""

from __future__ import annotations

import shutil
from pathlib import Path

# Files of a run's folder that the report reads (training: metrics and curves; evaluation: metrics, confusion).
# run.json: where each ran (device, threads, versions; pipeline.core.runfacts), read by the report too.
TRAINING_FILES = ("metrics.json", "run.json", "dvclive/plots/metrics/**/*.tsv", "dvclive/metrics.json")
EVAL_FILES = ("metrics.json", "run.json", "confusion.csv")


def copy_files(src_root: Path, patterns: tuple[str, ...], dest_root: Path) -> int:
    """Copy the files under ``src_root`` matching ``patterns`` to the same relative paths under ``dest_root``."""
    copied = 0
    for pattern in patterns:
        for src in sorted(src_root.glob(pattern)):
            if src.is_file():
                dest = dest_root / src.relative_to(src_root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dest)
                copied += 1
    return copied
