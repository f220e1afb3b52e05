"""What a worker does for one DVC stage item, in a workspace of its own.

DVC holds a repo-wide lock during `dvc repro`, so concurrent stages cannot share a checkout. Each
stage item therefore runs in a fresh `git clone` of the coordinator's repository at the
coordinator's commit, with the coordinator's params.yaml / dvc.yaml / dvc.lock written over it:

1. pull the cached outputs of the upstream stages from the DVC remote; write the upstream
   `cache: false` outputs handed over by the coordinator;
2. `dvc repro --single-item --pull <stage>` - DVC decides whether the stage must run (an
   unchanged stage whose outputs are already in the remote is only pulled, not re-run);
3. `dvc push <stage>`; hand back the stage's dvc.lock entry and its `cache: false` outputs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Callable, Mapping, Sequence

import yaml

from pipeline.orchestration.dvc_graph import load_stage_graph
from pipeline.orchestration.lock_merge import LOCK_FILE, encode_outputs, safe_relative, write_outputs

# Files of the coordinator's checkout that travel as parameters (they may be uncommitted there).
PIPELINE_FILES = ("params.yaml", "dvc.yaml", LOCK_FILE)
# On a worker machine, a DVC cache directory shared by all its stage workspaces (saves re-downloads).
SHARED_CACHE_ENV = "PIPELINE_DVC_CACHE_DIR"
WORKER_REMOTE = "orchestration"


class StageFailed(RuntimeError):
    """A DVC stage item could not be reproduced; the message names the stage and the failing command."""


def subprocess_env() -> dict[str, str]:
    """Environment for git/DVC/stage commands: no analytics, and `python` = this interpreter."""
    env = dict(os.environ)
    env.update({"DVC_NO_ANALYTICS": "1", "DO_NOT_TRACK": "1", "GIT_TERMINAL_PROMPT": "0"})
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def run_command(
    args: Sequence[str], cwd: str | Path, log: Callable[[str], None], stage: str, tail_lines: int = 40
) -> str:
    """Run `args`, streaming each output line to `log`; raise StageFailed with the output tail on failure."""
    log(f"$ {' '.join(args)}")
    tail: deque[str] = deque(maxlen=tail_lines)
    lines: list[str] = []
    with subprocess.Popen(
        list(args), cwd=cwd, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace", bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            lines.append(line)
            log(line)
        returncode = proc.wait()
    if returncode != 0:
        joined = "\n".join(tail)
        raise StageFailed(f"stage {stage!r}: `{' '.join(args)}` exited with {returncode}:\n{joined}")
    return "\n".join(lines)


def dvc(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def prepare_workspace(
    workspace: Path, repo_url: str, commit: str, pipeline_files: Mapping[str, str],
    remote_url: str | None, log: Callable[[str], None], stage: str,
) -> None:
    """Clone `repo_url` at `commit` into `workspace` and lay the coordinator's pipeline files over it."""
    run_command(["git", "clone", "--quiet", "--no-checkout", repo_url, str(workspace)], workspace.parent, log, stage)
    try:
        run_command(["git", "checkout", "--quiet", "--detach", commit], workspace, log, stage)
    except StageFailed as exc:
        raise StageFailed(f"stage {stage!r}: commit {commit} is not in {repo_url} (push it first?)\n{exc}") from exc
    for name, text in pipeline_files.items():
        if name not in PIPELINE_FILES:
            raise ValueError(f"unexpected pipeline file {name!r}; expected one of {PIPELINE_FILES}")
        (workspace / name).write_text(text)
    write_local_dvc_config(workspace, remote_url, os.environ.get(SHARED_CACHE_ENV))


def write_local_dvc_config(workspace: Path, remote_url: str | None, cache_dir: str | None) -> None:
    """`.dvc/config.local` of a stage workspace: the exchange remote as default, optionally a shared cache.

    Same file `dvc remote add --local -d` / `dvc cache dir --local` write, minus two DVC start-ups per stage.
    """
    sections = []
    if remote_url:
        sections.append(f"[core]\n    remote = {WORKER_REMOTE}\n['remote \"{WORKER_REMOTE}\"']\n    url = {remote_url}\n")
    if cache_dir:
        sections.append(f"[cache]\n    dir = {Path(cache_dir).resolve()}\n")
    if sections:
        (workspace / ".dvc" / "config.local").write_text("".join(sections))


def run_stage_in_workspace(
    stage: str,
    *,
    repo_url: str,
    commit: str,
    pipeline_files: Mapping[str, str],
    input_files: Mapping[str, str] | None = None,
    remote_url: str | None = None,
    log: Callable[[str], None] = print,
    workdir: str | Path | None = None,
) -> dict:
    """Reproduce one stage item in a fresh workspace; return its dvc.lock entry and uncached outputs.

    `input_files` (repo-relative path -> base64) are `cache: false` outputs of upstream stages
    (and of this stage, so an unchanged stage is recognised as such) from the coordinator.
    The result is JSON-serialisable: {stage, lock_entry, files, reproduced, commit, host, seconds}.
    """
    started = time.monotonic()
    safe_name = "".join(ch if ch.isalnum() else "-" for ch in stage)
    workspace = Path(tempfile.mkdtemp(prefix=f"dvc-stage-{safe_name}-", dir=workdir)) / "repo"
    try:
        log(f"stage {stage}: workspace {workspace} ({repo_url} @ {commit[:12]}) on {socket.gethostname()}")
        prepare_workspace(workspace, repo_url, commit, pipeline_files, remote_url, log, stage)
        graph = load_stage_graph(workspace)
        if stage not in graph:
            raise StageFailed(f"stage {stage!r} is not in dvc.yaml at {commit[:12]}; stages: {', '.join(graph)}")
        node = graph[stage]
        write_outputs(workspace, {safe_relative(k): v for k, v in (input_files or {}).items()})
        upstream_with_cache = [name for name in node.upstream if graph[name].cached_outs]
        if upstream_with_cache:
            run_command(dvc("pull", *upstream_with_cache), workspace, log, stage)
        output = run_command(dvc("repro", "--single-item", "--pull", stage), workspace, log, stage)
        if node.cached_outs:
            run_command(dvc("push", stage), workspace, log, stage)
        lock = yaml.safe_load((workspace / LOCK_FILE).read_text()) or {}
        entry = (lock.get("stages") or {}).get(stage)
        if entry is None:
            raise StageFailed(f"stage {stage!r}: no dvc.lock entry after `dvc repro`")
        files = encode_outputs(workspace, node.uncached_outs)
        missing = [p for p in node.uncached_outs if not (workspace / p).exists()]
        if missing:
            raise StageFailed(f"stage {stage!r}: declared outputs missing after `dvc repro`: {missing}")
        return {
            "stage": stage,
            "lock_entry": entry,
            "files": files,
            "reproduced": f"Running stage '{stage}'" in output,
            "commit": commit,
            "host": socket.gethostname(),
            "seconds": round(time.monotonic() - started, 3),
        }
    finally:
        shutil.rmtree(workspace.parent, ignore_errors=True)
