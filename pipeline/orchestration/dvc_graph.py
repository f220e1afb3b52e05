"""The DVC stage graph as plain data, so the flow can schedule stage items without re-declaring them.

dvc.yaml stays the one definition of every step: this module only reads DVC's own index
(`dvc.repo.Repo(root).index.graph`, a networkx DiGraph whose edges point from a stage to the
stages producing its dependencies) and turns it into names and paths.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

import pipeline  # noqa: F401  (no-network environment before DVC is imported)


@dataclass(frozen=True)
class StageNode:
    """One runnable DVC stage item (`train_teacher`, `distill@E1`, ...)."""

    name: str
    upstream: tuple[str, ...]  # stage items whose outputs this one depends on
    deps: tuple[str, ...]  # dependency paths (files or directories), repo-relative
    cached_outs: tuple[str, ...]  # outputs stored in the DVC cache / remote
    uncached_outs: tuple[str, ...]  # `cache: false` outputs (metrics, plots, reports)


# The coordinator's stage graph, in every item's input pack: a worker reads it instead of building DVC's index
# again (~0.8 s per item); `.dvc/tmp` is ignored by git and by DVC.
PACKED_GRAPH = ".dvc/tmp/orchestration-graph.json"


def graph_bytes(nodes: dict[str, StageNode] | dict[str, dict]) -> bytes:
    """The stage items (nodes or their dicts) as the JSON a pack carries, in the graph's order: a worker writes
    the .gitignore entries of pulled outputs in that order, as `dvc repro` does, and a folder dependency's hash
    covers those files' bytes."""
    plain = {name: node if isinstance(node, dict) else asdict(node) for name, node in nodes.items()}
    return json.dumps(plain).encode()


def read_packed_graph(repo_root: str | Path) -> dict[str, StageNode] | None:
    """The graph the coordinator packed for this workspace (None when there is none)."""
    path = Path(repo_root) / PACKED_GRAPH
    if not path.is_file():
        return None
    return {name: StageNode(**{key: value if key == "name" else tuple(value) for key, value in node.items()})
            for name, node in json.loads(path.read_text()).items()}


def stage_address(stage, root: Path) -> str:
    """`distill@E1`, or `sub/dvc.yaml:name` outside the root's dvc.yaml. DVC's own `stage.addressing` is
    relative to the process cwd; this is relative to the repo root."""
    dvcfile = Path(os.path.relpath(stage.dvcfile.path, root)).as_posix()
    return stage.name if dvcfile == "dvc.yaml" else f"{dvcfile}:{stage.name}"


def load_stage_graph(repo_root: str | Path) -> dict[str, StageNode]:
    """All stage items of the DVC project at `repo_root`, upstream before downstream (dvc.yaml order otherwise)."""
    import networkx as nx
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    root = Path(repo_root).resolve()
    with Repo(str(root)) as repo:
        graph = repo.index.graph
        position = {stage: index for index, stage in enumerate(repo.index.stages)}

        def relative(fs_path: str) -> str:
            return Path(os.path.relpath(fs_path, root)).as_posix()

        ordered = nx.lexicographical_topological_sort(graph.reverse(copy=False), key=lambda stage: f"{position[stage]:09d}")
        nodes: dict[str, StageNode] = {}
        for stage in ordered:
            if not stage.cmd:  # `.dvc` data sources are not steps to run
                continue
            nodes[stage_address(stage, root)] = StageNode(
                name=stage_address(stage, root),
                upstream=tuple(stage_address(up, root) for up in graph.successors(stage) if up.cmd),
                deps=tuple(relative(dep.fs_path) for dep in stage.deps if not isinstance(dep, ParamsDependency)),
                cached_outs=tuple(relative(out.fs_path) for out in stage.outs if out.use_cache),
                uncached_outs=tuple(relative(out.fs_path) for out in stage.outs if not out.use_cache),
            )
    return nodes


def select_stages(graph: dict[str, StageNode], targets: Iterable[str] | None = None) -> list[str]:
    """The targets plus everything upstream of them, in graph order; all stages when no targets.

    A target may be a stage item (`distill@E1`) or a foreach group (`distill`, meaning all its items).
    """
    if not targets:
        return list(graph)
    wanted: set[str] = set()
    pending: list[str] = []
    for target in targets:
        matches = [name for name in graph if name == target or name.split("@", 1)[0] == target]
        if not matches:
            raise ValueError(f"unknown DVC stage {target!r}; dvc.yaml defines: {', '.join(graph)}")
        pending.extend(matches)
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(graph[name].upstream)
    return [name for name in graph if name in wanted]


def chain_lengths(graph: dict[str, StageNode], selected: list[str]) -> dict[str, int]:
    """For each selected item, the most items on a path from it down to the end of the pipeline (itself counted).

    The coordinator hands ready items to workers longest chain first: on two workers, the EmoXNet members that
    the teacher waits for run before a student baseline that only a report waits for (critical-path order).
    """
    chosen = set(selected)
    below: dict[str, list[str]] = {name: [] for name in selected}
    for name in selected:
        for up in graph[name].upstream:
            if up in chosen:
                below[up].append(name)
    length: dict[str, int] = {}
    for name in reversed(selected):  # `selected` is upstream-first, so every item below is done already
        length[name] = 1 + max((length[down] for down in below[name]), default=0)
    return length


def queue_offsets(graph: dict[str, StageNode], selected: list[str]) -> dict[str, float]:
    """How many seconds before the run's start each item's worker run is scheduled, so that workers (which take
    the earliest scheduled run first) take ready items longest chain first, and in dvc.yaml order among equal
    chains (student A's long runs before student C's short ones): one second per place in that order."""
    lengths = chain_lengths(graph, selected)
    order = sorted(selected, key=lambda name: -lengths[name])  # stable: dvc.yaml order among equal chains
    return {name: float(len(order) - place) for place, name in enumerate(order)}


def run_followers(graph: dict[str, StageNode], dispatched: list[str]) -> dict[str, list[str]]:
    """Items that ride in the worker run of the item before them: {leader: [follower, ...]} (in run order).

    An item follows item U when it depends on U and on nothing that U does not already wait for (so it is
    ready the moment U ends) and it is the only such item of U (so nothing that could run beside it is held
    back): `distill@E1` -> `evaluate_distill@E1`, the data chain generate -> validate -> prepare -> class_weights.
    Each worker run costs seconds around its stage (a queue, a new process, a workspace, its inputs);
    a follower pays none of them.
    """
    above: dict[str, set[str]] = {}
    for name in graph:  # upstream-first, so every item above is done already
        above[name] = set().union(*({up} | above.get(up, set()) for up in graph[name].upstream))
    after: dict[str, str] = {}
    for lead in dispatched:
        ready_with = [name for name in dispatched if lead in graph[name].upstream
                      and set(graph[name].upstream) <= {lead} | above[lead]]
        if len(ready_with) == 1:
            after[lead] = ready_with[0]
    groups: dict[str, list[str]] = {}
    following = set(after.values())
    for lead in dispatched:
        if lead in after and lead not in following:  # a chain's head
            chain = [after[lead]]
            while chain[-1] in after:
                chain.append(after[chain[-1]])
            groups[lead] = chain
    return groups
