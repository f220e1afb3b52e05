"""The commit of the checkout doing the work, recorded by export and analyze beside their outputs."""

from __future__ import annotations

import os
import subprocess


def git_commit(cwd: str | os.PathLike = ".") -> str:
    """HEAD of the checkout doing the export, ``+dirty`` when it has uncommitted changes; 'unknown' outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10)
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=30)
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
