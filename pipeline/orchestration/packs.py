"""Stage files travel as packs in the DVC remote, so flow-run parameters carry only a hash.

A pack is a deterministic tar.gz of repo-relative files (params.yaml, dvc.lock, a stage's
`cache: false` outputs, ...), stored content-addressed beside DVC's own cache in the remote:
`<remote>/orchestration/packs/<sha256[:2]>/<sha256[2:]>.tar.gz`. The remote is reached through
DVC's filesystem layer, so the same code serves local directories, S3, GCS and SSH, and the
worker never needs a path of the coordinator's machine.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import uuid
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping

from pipeline.core.atomic import atomic_path

PACKS_DIR = "orchestration/packs"


def safe_relative(path: str) -> str:
    """`path` as a repo-relative POSIX path; refuses absolute paths and `..` (files come from other machines)."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ValueError(f"refusing file path {path!r}: must be relative and inside the repository")
    return pure.as_posix()


def files_in(root: str | Path, paths: Iterable[str]) -> list[str]:
    """Repo-relative files at `paths` under `root` (directories walked, missing paths skipped), sorted."""
    root = Path(root)
    found: set[str] = set()
    for rel in paths:
        target = root / safe_relative(rel)
        candidates = target.rglob("*") if target.is_dir() else [target]
        found.update(p.relative_to(root).as_posix() for p in candidates if p.is_file())
    return sorted(found)


def read_files(root: str | Path, files: Iterable[str]) -> dict[str, bytes]:
    """Contents of repo-relative `files` under `root`."""
    return {rel: (Path(root) / safe_relative(rel)).read_bytes() for rel in files}


def pack_bytes(entries: Mapping[str, bytes]) -> bytes:
    """A reproducible tar.gz of `entries` (repo-relative path -> contents): same files, same bytes, same hash."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=1, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for rel in sorted(entries):
                data = entries[rel]
                info = tarfile.TarInfo(safe_relative(rel))
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def unpack_bytes(data: bytes, root: str | Path) -> list[str]:
    """Write every file of a pack under `root`, each atomically; refuse members outside `root`."""
    root = Path(root)
    written = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                raise ValueError(f"pack member {member.name!r} is not a regular file")
            rel = safe_relative(member.name)
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                Path(tmp).write_bytes(tar.extractfile(member).read())
            written.append(rel)
    return written


class PackStore:
    """Content-addressed packs in one DVC remote (named in a repo's DVC config, or given by URL)."""

    def __init__(self, repo_root: str | Path, remote: str | None = None, url: str | None = None):
        from dvc.fs import get_cloud_fs
        from dvc.repo import Repo

        with Repo(str(repo_root)) as repo:
            kwargs = {"url": url} if url else {"name": remote or repo.config["core"].get("remote")}
            if not (kwargs.get("url") or kwargs.get("name")):
                raise ValueError(f"{repo_root}: no DVC remote to exchange stage files through")
            cls, config, self.base = get_cloud_fs(repo.config, **kwargs)
        self.fs = cls(**config)

    def path(self, digest: str) -> str:
        return self.fs.join(self.base, PACKS_DIR, digest[:2], f"{digest[2:]}.tar.gz")

    def put(self, data: bytes) -> str:
        """Store `data` once (skipped when the remote has it); return its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if self.fs.exists(target):
            return digest
        self.fs.makedirs(self.fs.parent(target), exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="pack-") as tmp:
            local = os.path.join(tmp, "pack.tar.gz")
            Path(local).write_bytes(data)
            partial = f"{target}.{uuid.uuid4().hex}.tmp"  # readers never see a half-written pack
            self.fs.put_file(local, partial)
            self.fs.mv(partial, target)
        return digest

    def get(self, digest: str) -> bytes:
        """The pack `digest`, checked against its hash."""
        with tempfile.TemporaryDirectory(prefix="pack-") as tmp:
            local = os.path.join(tmp, "pack.tar.gz")
            try:
                self.fs.get_file(self.path(digest), local)
            except FileNotFoundError as exc:
                raise FileNotFoundError(f"pack {digest[:12]} not in the DVC remote at {self.path(digest)}") from exc
            data = Path(local).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"pack {digest[:12]} in the DVC remote is corrupt (hash mismatch)")
        return data

    def put_entries(self, entries: Mapping[str, bytes]) -> str:
        return self.put(pack_bytes(entries))

    def unpack(self, digest: str, root: str | Path) -> list[str]:
        return unpack_bytes(self.get(digest), root)


@lru_cache(maxsize=8)
def store_for(repo_root: str, remote: str | None = None, url: str | None = None) -> PackStore:
    """One PackStore per (checkout, remote) in this process (building one opens the DVC repo)."""
    return PackStore(repo_root, remote=remote, url=url)
