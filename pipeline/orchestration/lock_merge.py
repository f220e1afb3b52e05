"""Moving stage results between workspaces: dvc.lock entries and the bytes of `cache: false` outputs.

A worker hands back its stage's dvc.lock entry and its uncached outputs (base64); the coordinator
merges the entries into its dvc.lock and writes the files, so its `dvc status` is clean afterwards.
"""

from __future__ import annotations

import base64
from pathlib import Path, PurePosixPath
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


def safe_relative(path: str) -> str:
    """`path` as a repo-relative POSIX path; refuses absolute paths and `..` (files come from other machines)."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"refusing file path {path!r}: must be relative and inside the repository")
    return pure.as_posix()


def encode_outputs(repo_root: str | Path, paths: Iterable[str]) -> dict[str, str]:
    """Base64 contents of the files at `paths` (directories walked), keyed by repo-relative path; missing ones skipped."""
    root = Path(repo_root)
    encoded: dict[str, str] = {}
    for rel in paths:
        target = root / safe_relative(rel)
        files = sorted(p for p in target.rglob("*") if p.is_file()) if target.is_dir() else [target]
        for file in files:
            if file.is_file():
                encoded[file.relative_to(root).as_posix()] = base64.b64encode(file.read_bytes()).decode("ascii")
    return encoded


def write_outputs(repo_root: str | Path, files: Mapping[str, str]) -> list[Path]:
    """Write base64 `files` (repo-relative path -> contents) under `repo_root`, each atomically."""
    root = Path(repo_root)
    written = []
    for rel, payload in sorted(files.items()):
        target = root / safe_relative(rel)
        data = base64.b64decode(payload.encode("ascii"), validate=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            Path(tmp).write_bytes(data)
        written.append(target)
    return written


def files_under(files: Mapping[str, str], paths: Iterable[str]) -> dict[str, str]:
    """The entries of `files` equal to or inside any of `paths` (a stage's deps or outs)."""
    prefixes = [safe_relative(p) for p in paths]
    return {
        rel: payload
        for rel, payload in files.items()
        if any(rel == prefix or rel.startswith(prefix + "/") for prefix in prefixes)
    }
