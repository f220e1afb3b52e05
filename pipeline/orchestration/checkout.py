"""The coordinator's checkout: what must run, what each stage's workspace needs, and merging results back.

The coordinator never hands a worker a path of its own machine: files a stage needs from this
checkout (params.yaml, dvc.yaml, the merged dvc.lock, `cache: false` outputs of stages that did
not need a worker) go into one pack in the DVC remote, and results come back as packs too.
"""

from __future__ import annotations

import difflib
import json
import subprocess
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

from pipeline.core.params import ParamsError, check_orchestration
from pipeline.orchestration.dvc_graph import PACKED_GRAPH, StageNode, graph_bytes
from pipeline.orchestration.lock_merge import LOCK_FILE, merge_lock_text, write_lock_entries
from pipeline.orchestration.packs import PackStore, files_in, read_files
from pipeline.orchestration.worker_run import PIPELINE_FILES, dvc, run_command, subprocess_env

DEFAULT_STAGE_BOUND_S = 6 * 3600.0  # a stage running longer than this on a worker is cancelled
TIMEOUTS_PARAM = "orchestration"  # optional params.yaml section: {timeout_s: {default: s, <stage or group>: s}}


def git(repo_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo_dir, env=subprocess_env(), check=True, capture_output=True, text=True
    ).stdout


def uncommitted_stage_code(repo_dir: Path, graph: dict[str, StageNode]) -> list[str]:
    """Changed or untracked files that stages depend on (workers clone the commit, so they would not see them).

    params.yaml, dvc.yaml and dvc.lock are exempt (they travel in the coordinator's pack), so are stage outputs
    and .gitignore files (DVC writes them for outputs; a workspace writes the same ones, gitignore.py).
    """
    status = git(repo_dir, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    changed = [entry[3:] for entry in status.split("\0") if len(entry) > 3]
    outs = {out for node in graph.values() for out in (*node.cached_outs, *node.uncached_outs)}
    deps = {dep for node in graph.values() for dep in node.deps}

    def under(path: str, prefixes: set[str]) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)

    return sorted(p for p in changed if p not in PIPELINE_FILES and under(p, deps) and not under(p, outs)
                  and Path(p).name != ".gitignore")


def default_remote_url(repo_dir: Path) -> str:
    """URL of the checkout's default DVC remote (a relative local path made absolute, as DVC reads it)."""
    from dvc.repo import Repo

    with Repo(str(repo_dir)) as repo:
        config = repo.config
        name = config["core"].get("remote")
        if not name:
            raise ValueError(
                f"{repo_dir}: no default DVC remote; stage workspaces exchange data through one, e.g. "
                "`uv run dvc remote add -d storage /shared/dvc-remote` (or s3://..., gs://..., ssh://...)"
            )
        url = config["remote"][name]["url"]
    if "://" not in url and not Path(url).is_absolute():
        url = str((repo_dir / ".dvc" / url).resolve())
    return url


def check_pipeline_params(root: Path) -> bool:
    """This pipeline's params.yaml checked whole, as its first stage checks it (a bad loss ``alpha`` is
    refused by name before anything is dispatched); returns whether it was. Another DVC project (no
    pipeline/core/params.py in its checkout) keeps its own params, checked by its own stages."""
    if not (root / "pipeline" / "core" / "params.py").is_file():
        return False
    from pipeline.params.load import load_params  # here, not at the top: it brings pandas (~0.3 s) into every
    # worker run's start-up, and only the coordinator checks params

    load_params(root / "params.yaml")
    return True


def stage_bounds(root: Path, stages: list[str], default_s: float,
                 known: Iterable[str] | None = None) -> dict[str, float]:
    """Per-stage bound on a worker run: params.yaml `orchestration.timeout_s.<item or group>`, else `default`.

    The section is checked like every params section (a misspelt key or a bad value is refused by name);
    with ``known`` (every stage item of dvc.yaml), a stage name that is neither an item nor a group is refused too.
    """
    params = yaml.safe_load((root / "params.yaml").read_text()) or {}
    table = check_orchestration(params.get(TIMEOUTS_PARAM)).get("timeout_s", {})
    if known is not None:
        names = {n for item in known for n in (item, item.split("@", 1)[0])}
        unknown = sorted(k for k in table if k != "default" and k not in names)
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(names), n=1)
            groups = sorted({item.split("@", 1)[0] for item in known})
            raise ParamsError(f"params.yaml: orchestration.timeout_s names {unknown[0]!r}, which is no stage, "
                              "foreach group or item of dvc.yaml"
                              + (f"; did you mean {close[0]!r}?" if close else
                                 f" (stages: default, {', '.join(groups)}; or one item such as distill@E1)"))
    fallback = float(table.get("default", default_s))
    return {s: float(table.get(s, table.get(s.split("@", 1)[0], fallback))) for s in stages}


def up_to_date_results(
    root: Path, graph: dict[str, StageNode], selected: list[str], lock_text: str | None, log: Callable[..., None],
) -> dict[str, dict[str, Any]]:
    """Results for stage items that need no worker: clean in this checkout's `dvc status` and
    nothing upstream of them dispatched. Their cached outputs are pushed so that workers of
    downstream items can pull them (a no-op when the remote has them already)."""
    status = json.loads(run_command(dvc("status", "--json", *selected), root, lambda line: None, "coordinator checkout") or "{}")
    lock_stages = (yaml.safe_load(lock_text) or {}).get("stages", {}) if lock_text else {}
    dispatched: set[str] = set()
    for name in selected:
        if name in status or name not in lock_stages or any(up in dispatched for up in graph[name].upstream):
            dispatched.add(name)
    clean = [name for name in selected if name not in dispatched]
    needed = [name for name in clean if graph[name].cached_outs and any(name in graph[d].upstream for d in dispatched)]
    if needed:
        run_command(dvc("push", *needed), root, lambda line: log("%s", line), "coordinator checkout")
    return {
        name: {"stage": name, "lock_entry": lock_stages[name], "outputs": None, "files": [], "reproduced": False,
               "commit": "", "host": "coordinator", "worker": "coordinator", "seconds": 0.0}
        for name in clean
    }


def stage_inputs(
    root: Path, store: PackStore, nodes: list[StageNode], lock_text: str | None, upstream_results: list[dict[str, Any]],
    up_to_date: Mapping[str, Any], graph_nodes: Mapping[str, dict],
) -> list[str]:
    """Pack hashes a worker unpacks, in order: this checkout's files for the run's items (`nodes`: a stage
    and its followers), then the outputs of the upstream items run elsewhere."""
    merged_lock = merge_lock_text(lock_text, {r["stage"]: r["lock_entry"] for r in upstream_results})
    local_outs = [out for node in nodes for out in node.uncached_outs]  # their own: lets DVC see an unchanged stage as unchanged
    for name in dict.fromkeys(up for node in nodes for up in node.upstream):
        if name in up_to_date:  # not run on a worker: its uncached outputs are here
            local_outs += graph_nodes[name]["uncached_outs"]
    entries = read_files(root, [*PIPELINE_FILES[:2], *files_in(root, local_outs)])
    entries[LOCK_FILE] = merged_lock.encode()
    entries[PACKED_GRAPH] = graph_bytes(graph_nodes)
    return [store.put_entries(entries), *(r["outputs"] for r in upstream_results if r.get("outputs"))]


def merge_results(root: Path, store: PackStore, results: Mapping[str, dict[str, Any]], order: list[str]) -> list[str]:
    """Unpack workers' outputs into the checkout and merge their dvc.lock entries; return the stages
    whose cached outputs must still be pulled."""
    for result in results.values():
        if result.get("outputs"):
            store.unpack(result["outputs"], root)
    if results:
        write_lock_entries(root, {s: r["lock_entry"] for s, r in results.items()}, order=order)
    return [s for s, r in results.items() if r["host"] != "coordinator"]
