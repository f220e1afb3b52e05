"""Merging the dvc.lock entries that workers hand back into one dvc.lock.

Each worker returns its stage's entry; the coordinator merges them (for the workspaces of
downstream stages, and at the end into its own checkout), so its `dvc status` is clean afterwards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

from pipeline.core.atomic import atomic_path

LOCK_FILE = "dvc.lock"
LOCK_SCHEMA = "2.0"


def merge_lock_text(lock_text: str | None, entries: Mapping[str, dict], order: Iterable[str] = ()) -> str:
    """dvc.lock text with `entries` (stage item -> lock entry) replacing or adding those stages.

    Stages already in the lock keep their place; new ones are appended in `order` (graph order),
    the way DVC itself appends them. Formatting goes through DVC's own YAML dumper.
    """
    from dvc.utils.serialize import dumps_yaml, parse_yaml

    data = parse_yaml(lock_text, LOCK_FILE) if lock_text and lock_text.strip() else None
    data = dict(data or {})
    if data and data.get("schema") != LOCK_SCHEMA:
        raise ValueError(f"{LOCK_FILE}: unsupported schema {data.get('schema')!r} (expected {LOCK_SCHEMA!r})")
    stages = dict(data.get("stages") or {})
    rank = {name: index for index, name in enumerate(order)}
    for name in sorted(entries, key=lambda name: rank.get(name, len(rank))):
        entry = entries[name]
        if not isinstance(entry, Mapping) or "cmd" not in entry:
            raise ValueError(f"{LOCK_FILE} entry for stage {name!r} is not a stage lock entry: {entry!r}")
        stages[name] = dict(entry)
    return dumps_yaml({"schema": LOCK_SCHEMA, "stages": stages})


def write_lock_entries(repo_root: str | Path, entries: Mapping[str, dict], order: Iterable[str] = ()) -> Path:
    """Merge `entries` into `<repo_root>/dvc.lock` atomically (a crash leaves the old lock intact)."""
    lock_path = Path(repo_root) / LOCK_FILE
    old_text = lock_path.read_text() if lock_path.exists() else None
    new_text = merge_lock_text(old_text, entries, order)
    with atomic_path(lock_path) as tmp:
        Path(tmp).write_text(new_text)
    return lock_path
