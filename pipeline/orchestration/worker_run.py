"""What a worker does for one DVC stage item, in a workspace of its own.

DVC holds a repo-wide lock during `dvc repro`, so concurrent stages cannot share a checkout. Each
stage item therefore runs in a fresh `git clone` of the coordinator's repository at the
coordinator's commit:

1. unpack the input packs named by the coordinator (its params.yaml / dvc.yaml / dvc.lock and the
   upstream `cache: false` outputs) from the DVC remote; write the upstream cached outputs'
   .gitignore entries, as `dvc repro` would have;
2. in one DVC process (pipeline.orchestration.dvc_batch): `dvc pull` the upstream cached outputs,
   `dvc repro --single-item --pull <stage>` - DVC decides whether the stage must run (an unchanged
   stage whose outputs are already in the remote is only pulled, not re-run) - and `dvc push <stage>`;
3. pack the stage's `cache: false` outputs into the remote and hand back the pack's hash with the
   stage's dvc.lock entry.

Only hashes travel through Prefect. The workspace goes when the run ends, fails or is cancelled;
one left by a killed worker is swept by the next run on that machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable, Sequence

import yaml

from pipeline.orchestration.dvc_batch import TIMING_PREFIX, batch_args, read_timings
from pipeline.orchestration.dvc_graph import load_stage_graph, read_packed_graph
from pipeline.orchestration.gitignore import ignore_cached_outs
from pipeline.orchestration.packs import PackStore, files_in, read_files

LOCK_FILE = "dvc.lock"
# Files of the coordinator's checkout that travel in its pack (they may be uncommitted there).
PIPELINE_FILES = ("params.yaml", "dvc.yaml", LOCK_FILE)
# On a worker machine, a DVC cache directory shared by all its stage workspaces (saves re-downloads).
SHARED_CACHE_ENV = "PIPELINE_DVC_CACHE_DIR"
WORKER_REMOTE = "orchestration"
WORKSPACE_PREFIX = "dvc-stage-"
OWNER_FILE = "owner.pid"

_live: set[subprocess.Popen] = set()
_live_lock = threading.Lock()


class StageFailed(RuntimeError):
    """A DVC stage item could not be reproduced; the message is short: stage, where, the error's own lines."""


def worker_name() -> str:
    """This Prefect worker's name (set by the worker for its flow runs), else the host name."""
    return os.environ.get("PREFECT__WORKER_NAME") or socket.gethostname()


def subprocess_env() -> dict[str, str]:
    """Environment for git/DVC/stage commands: no analytics, and `python` = this interpreter."""
    env = dict(os.environ)
    env.update({"DVC_NO_ANALYTICS": "1", "DO_NOT_TRACK": "1", "GIT_TERMINAL_PROMPT": "0"})
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def error_excerpt(lines: Sequence[str], own_lines: int = 3, limit: int = 6, width: int = 240) -> str:
    """What went wrong, in a few lines: the stage's own last words (e.g. its exception) and DVC's `ERROR:` lines.

    Each line is cut to `width`, so a stage printing megabytes cannot flood the message.
    """
    lines = [line.strip() for line in lines if line.strip() and not line.startswith(TIMING_PREFIX)]  # not a batch's clock
    cut = next((i for i, line in enumerate(lines) if line.startswith("ERROR")), len(lines))
    picked = lines[max(0, cut - own_lines):cut] + lines[cut:]
    return "\n".join(f"  {line[:width]}" for line in picked[-limit:])


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def terminate_commands() -> None:
    """Kill every command this process is running (with its children): used when the run is stopped."""
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        _kill_group(proc)


def run_command(args: Sequence[str], cwd: str | Path, log: Callable[[str], None], stage: str, timeout_s: float | None = None,
                shown: Callable[[], str] | None = None) -> str:
    """Run `args` in a process group of its own, streaming lines to `log`; raise a short StageFailed on failure.

    The group is killed if this call is interrupted (cancellation, timeout, signal), so no stage
    process outlives its run. ``shown``: what the error calls the command (asked when it fails: a batch
    of DVC commands names the one that failed), instead of `args` themselves.
    """
    log(f"$ {' '.join(args)}")
    tail: deque[str] = deque(maxlen=200)
    lines: list[str] = []
    proc = subprocess.Popen(
        list(args), cwd=cwd, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, errors="replace", bufsize=1, start_new_session=True,
    )
    with _live_lock:
        _live.add(proc)
    timer = threading.Timer(timeout_s, _kill_group, args=(proc,)) if timeout_s else None
    try:
        if timer:
            timer.start()
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            lines.append(line)
            log(line)
        returncode = proc.wait()
    finally:
        if timer:
            timer.cancel()
        _kill_group(proc)  # the stage's own children too, whatever happened
        proc.wait()
        with _live_lock:
            _live.discard(proc)
    if returncode != 0:
        why = f"killed after the stage's {timeout_s:.0f} s bound" if timer and returncode < 0 else f"exited with {returncode}"
        what = shown() if shown else " ".join("python" if arg == sys.executable else arg for arg in args)
        raise StageFailed(f"`{what}` {why}:\n{error_excerpt(tail)}")
    return "\n".join(lines)


def dvc(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def write_local_dvc_config(workspace: Path, remote_url: str | None, cache_dir: str | None) -> None:
    """`.dvc/config.local` of a stage workspace: the exchange remote as default, DVC's site cache inside
    the workspace's folder (so it goes with it), optionally a cache shared by the machine's workspaces.

    Same file `dvc remote add --local -d` / `dvc config --local` write, minus DVC start-ups per stage.
    """
    core = f"[core]\n    site_cache_dir = {workspace.parent / 'dvc-site-cache'}\n"
    if remote_url:
        core += f"    remote = {WORKER_REMOTE}\n['remote \"{WORKER_REMOTE}\"']\n    url = {remote_url}\n"
    if cache_dir:
        core += f"[cache]\n    dir = {Path(cache_dir).resolve()}\n"
    (workspace / ".dvc" / "config.local").write_text(core)


def sweep_stale_workspaces(parent: str | Path | None = None) -> list[Path]:
    """Remove stage workspaces whose owning process is gone (a worker killed with its whole tree)."""
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{WORKSPACE_PREFIX}*"):
        try:
            pid = int((folder / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        except PermissionError:
            pass
    return removed


def run_stage_in_workspace(
    stage: str,
    *,
    repo_url: str,
    commit: str,
    inputs: Sequence[str],
    remote_url: str,
    followers: Sequence[str] = (),
    log: Callable[[str], None] = print,
    timeout_s: float | None = None,
    workdir: str | Path | None = None,
) -> dict:
    """Reproduce one stage item (and its `followers`, dvc_graph.run_followers) in a fresh workspace; return its
    dvc.lock entry and the hash of its outputs pack.

    `inputs` are pack hashes in the remote, unpacked in order over the clone: first the
    coordinator's pipeline files (and any uncached files it holds), then upstream stages' outputs.
    The result is small and JSON-serialisable:
    {stage, lock_entry, outputs, files, reproduced, commit, host, worker, seconds, phases, followers}; `seconds`
    and `phases` are the whole run's: `phases` splits it into workspace (clone, checkout), inputs (packs, pulls),
    repro (`dvc repro`, the stages themselves included) and outputs (push, pack); benchmarks/prefect_overhead.py
    reads them. `followers` maps each follower to a result of the same kind, or to {stage, error} when it failed
    (or was not run because one before it failed): the stage's result stands, the follower is retried alone.
    """
    started = mark = time.monotonic()
    phases: dict[str, float] = {}

    def phase_done(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 3)
        mark = now

    sweep_stale_workspaces(workdir)
    safe_name = "".join(ch if ch.isalnum() else "-" for ch in stage)
    holder = Path(tempfile.mkdtemp(prefix=f"{WORKSPACE_PREFIX}{safe_name}-", dir=workdir))
    (holder / OWNER_FILE).write_text(str(os.getpid()))
    workspace = holder / "repo"
    where = f"worker {worker_name()} ({socket.gethostname()})"
    items = [stage, *followers]
    try:
        log(f"stage {' + '.join(items)}: workspace {workspace} ({repo_url} @ {commit[:12]}) on {where}")
        run_command(["git", "clone", "--quiet", "--no-checkout", repo_url, str(workspace)], holder, log, stage)
        try:
            run_command(["git", "checkout", "--quiet", "--detach", commit], workspace, log, stage)
        except StageFailed as exc:
            raise StageFailed(f"commit {commit[:12]} is not in {repo_url} (push it first?)\n{exc}") from exc
        write_local_dvc_config(workspace, remote_url, os.environ.get(SHARED_CACHE_ENV))
        phase_done("workspace")
        store = PackStore(workspace, remote=WORKER_REMOTE)
        for digest in inputs:
            store.unpack(digest, workspace)
        graph = read_packed_graph(workspace)  # the coordinator's, else DVC's index of the workspace
        if graph is None or not set(items) <= set(graph):
            graph = load_stage_graph(workspace)
        unknown = [name for name in items if name not in graph]
        if unknown:
            raise StageFailed(f"{unknown[0]} not in dvc.yaml at {commit[:12]}; stages: {', '.join(graph)}")
        upstream_with_cache = [name for name in graph if name not in items and graph[name].cached_outs
                               and any(name in graph[item].upstream for item in items)]
        # The .gitignore entries `dvc repro` leaves for those outputs, where these stages hash them: in a folder one
        # depends on (elsewhere they change nothing a stage reads; each costs DVC's index, ~0.5 s). Written before
        # the pull below brings the files, so their folders first.
        folders = [dep.rstrip("/") + "/" for item in items for dep in graph[item].deps]
        hashed = [name for name in upstream_with_cache
                  if any(out.startswith(folder) for out in graph[name].cached_outs for folder in folders)]
        if hashed:
            for name in hashed:
                for out in graph[name].cached_outs:
                    (workspace / out).parent.mkdir(parents=True, exist_ok=True)
            ignore_cached_outs(workspace, hashed)
        phase_done("inputs")
        # pull the upstream outputs, then reproduce and push each item: one DVC process (dvc_batch), so DVC starts
        # once, not three times per item
        commands, owners = ([["pull", *upstream_with_cache]], [stage]) if upstream_with_cache else ([], [])
        for item in items:
            commands.append(["repro", "--single-item", "--pull", item])
            owners.append(item)
            if graph[item].cached_outs:
                commands.append(["push", item])
                owners.append(item)
        seen: list[str] = []

        def batch_log(line: str) -> None:
            seen.append(line)
            log(line)

        def current() -> int:  # the command the batch is running (or ran last): the one that failed
            return max(sum(line.startswith("$ dvc ") for line in seen), 1) - 1

        failing, error = None, ""  # a follower that failed, and its error (the stage's own failure is the run's)
        try:
            run_command([sys.executable, "-m", "pipeline.orchestration.dvc_batch", *batch_args(*commands)], workspace,
                        batch_log, stage, timeout_s, shown=lambda: "dvc " + " ".join(commands[current()]))
        except StageFailed as exc:
            failing, error = owners[current()], f"stage {owners[current()]!r} failed on {where}: {exc}"
            if failing == stage:
                raise
        output = "\n".join(seen)
        timings = read_timings(output)
        phase_done("repro")  # the whole batch: its pull is counted with the inputs, its pushes with the outputs
        spent = {item: {"repro": 0.0, "outputs": 0.0} for item in items}  # a follower's own; the stage's are the run's
        for owner, command, (_, seconds) in zip(owners, commands, timings):
            spent[owner]["outputs" if command[0] == "push" else "repro"] += seconds
        pulled = timings[0][1] if upstream_with_cache and timings else 0.0
        pushed = sum(item_spent["outputs"] for item_spent in spent.values())
        phases["inputs"] = round(phases["inputs"] + pulled, 3)
        phases["repro"] = round(phases["repro"] - pulled - pushed, 3)
        lock = (yaml.safe_load((workspace / LOCK_FILE).read_text()) or {}).get("stages") or {}
        results: dict[str, dict] = {}
        for item in items[:items.index(failing)] if failing else items:  # those the batch ran through
            packing = time.monotonic()
            try:
                results[item] = _item_result(workspace, item, graph[item], lock, output, store)
            except StageFailed as exc:
                if item == stage:
                    raise
                failing, error = item, f"stage {item!r} failed on {where}: {exc}"
                break
            results[item].update(commit=commit, host=socket.gethostname(), worker=worker_name(),
                                 seconds=round(sum(spent[item].values()) + time.monotonic() - packing, 3),
                                 phases={name: round(seconds, 3) for name, seconds in spent[item].items()})
        for item in items[len(results):]:  # the failed follower, and those after it that never ran
            results[item] = {"stage": item, "error": error if item == failing else
                             f"stage {item!r} not run on {where}: {failing} failed before it in the same worker run"}
        phase_done("outputs")
        phases["outputs"] = round(phases["outputs"] + pushed, 3)
        leader = results.pop(stage)
        return {**leader, "seconds": round(time.monotonic() - started, 3), "phases": phases, "followers": results}
    except StageFailed as exc:
        raise StageFailed(f"stage {stage!r} failed on {where}: {exc}") from None
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def _item_result(workspace: Path, item: str, node, lock: dict, output: str, store: PackStore) -> dict:
    """One reproduced item's part of a result: its dvc.lock entry and its `cache: false` outputs, packed."""
    entry = lock.get(item)
    if entry is None:
        raise StageFailed("no dvc.lock entry after `dvc repro`")
    missing = [p for p in node.uncached_outs if not (workspace / p).exists()]
    if missing:
        raise StageFailed(f"declared outputs missing after `dvc repro`: {missing}")
    files = files_in(workspace, node.uncached_outs)
    return {"stage": item, "lock_entry": entry, "outputs": store.put_entries(read_files(workspace, files)) if files else None,
            "files": files, "reproduced": f"Running stage '{item}'" in output}
