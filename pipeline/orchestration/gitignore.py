"""The .gitignore entries `dvc repro` writes for cached outputs, written where outputs arrive by `dvc pull`.

`dvc repro` adds each cached output to its folder's .gitignore (DVC's `Output.ignore`); `dvc pull` adds
none. Both the coordinator's checkout (a stage item run only through Prefect would otherwise leave its
checkpoint untracked in `git status`) and a worker's workspace (a stage whose dependency is a folder
holding pulled outputs hashes that folder's .gitignore too) therefore write them after pulling, and stage
them (with dvc.lock) where `core.autostage` is set, as `dvc repro` would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from pipeline.orchestration.dvc_graph import stage_address


def ignore_cached_outs(root: Path, stages: Iterable[str], written: Iterable[str] = ()) -> None:
    """Add these stage items' cached outputs to their .gitignore files, in the order given (graph order, as
    `dvc repro` runs them); entries already there are kept as they are. Where the project sets DVC's
    ``core.autostage``, the .gitignore files this changes and the ``written`` files (the merged dvc.lock) are
    `git add`ed, as `dvc repro` stages what it writes; otherwise nothing is staged."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo, repo.scm_context(quiet=True) as context:
        for path in written:
            context.track_file(str(Path(root).resolve() / path))  # DVC resolves a relative path against the cwd
        by_name = {stage_address(stage, Path(root).resolve()): stage for stage in repo.index.stages}
        for name in stages:
            by_name[name].ignore_outs()
