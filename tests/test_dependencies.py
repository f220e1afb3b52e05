"""A stage's dvc.yaml code deps are exactly what it imports (transitively, within the project), and
pipeline/ imports only downward: its subpackages stand on the layers of :data:`LAYERS`, with no circle.

The package is cut along the stages' dependency boundaries, so deps name whole folders; this test
keeps them from drifting both ways: add an import across a boundary and it names the stage and the
file; list a code folder (or file) the stage never imports and it names that dep, since a change
there would re-run the stage for nothing. Registries that discover their package's modules at run
time (pkgutil) count as importing them all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

PROJECT_PACKAGES = ("pipeline", "stages")


def module_file(name: str) -> Path | None:
    path = REPO_ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_files(path: Path) -> set[Path]:
    """Project files one module imports directly (including imports inside functions)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    found: set[Path] = set()
    for name in names:
        if name == "pkgutil":  # a registry: imports every module of its own package
            found.update(p for p in path.parent.glob("*.py"))
        if name.split(".")[0] not in PROJECT_PACKAGES:
            continue
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__ too
            file = module_file(".".join(parts[:depth]))
            if file is not None:
                found.add(file)
    return found


def closure(start: Path) -> set[Path]:
    seen: set[Path] = set()
    todo = [start]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        todo.extend(imported_files(path) - seen)
    return seen


def stage_entries() -> list[tuple[str, str, list[str]]]:
    """(stage item, module of its command, dep paths) for every stage item, as DVC resolves dvc.yaml."""
    from dvc.repo import Repo

    out = []
    with Repo(str(REPO_ROOT)) as repo:
        for stage in repo.index.stages:
            words = stage.cmd.split()
            assert words[:2] == ["python", "-m"], f"{stage.addressing}: command must be `python -m stages.<name>`"
            deps = [str(Path(d.def_path)) for d in stage.deps]
            out.append((stage.addressing, words[2], deps))
    return out


def empty_foreach_templates(resolved: list[tuple[str, str, list[str]]]) -> list[tuple[str, str, list[str]]]:
    """Foreach groups with no item under the default params (e.g. cross_evaluate: `cross_eval: {}`): their
    template's command module and code deps, so a group that only users enable is checked too."""
    import yaml

    have = {name.split("@")[0] for name, _, _ in resolved}
    out = []
    for name, stage in yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"].items():
        if "foreach" in stage and name not in have:
            words = stage["do"]["cmd"].split()
            deps = [d for d in stage["do"]["deps"] if d.startswith(("pipeline", "stages"))]
            out.append((f"{name}@<template>", words[2], deps))
    return out


STAGES = stage_entries()
STAGES += empty_foreach_templates(STAGES)


@pytest.mark.parametrize("stage, module, deps", STAGES, ids=[s[0] for s in STAGES])
def test_stage_deps_cover_every_imported_file(stage, module, deps):
    entry = module_file(module)
    assert entry is not None, f"{stage}: {module} not found"
    covered = [REPO_ROOT / d for d in deps]
    missing = sorted(str(f.relative_to(REPO_ROOT)) for f in closure(entry)
                     if not any(f == c or c in f.parents for c in covered))
    assert not missing, f"dvc.yaml stage {stage} imports files its deps do not cover: {missing}"


def unused_code_deps(entry: Path, deps: list[str]) -> list[str]:
    """Deps inside the project's packages (``pipeline/...``, ``stages/...``) that no imported file lies in."""
    files = closure(entry)
    unused = []
    for dep in deps:
        path = REPO_ROOT / dep
        if Path(dep).parts[0] not in PROJECT_PACKAGES:
            continue  # data, models, reports: inputs, not code
        if not any(f == path or path in f.parents for f in files):
            unused.append(dep)
    return unused


@pytest.mark.parametrize("stage, module, deps", STAGES, ids=[s[0] for s in STAGES])
def test_stage_deps_list_no_code_it_does_not_import(stage, module, deps):
    unused = unused_code_deps(module_file(module), deps)
    assert not unused, (f"dvc.yaml stage {stage} lists code it never imports (a change there re-runs it for "
                        f"nothing): {unused}")


def test_an_unused_code_dep_is_caught():
    entry = REPO_ROOT / "stages" / "generate.py"
    assert unused_code_deps(entry, ["pipeline/__init__.py", "pipeline/sources", "pipeline/evaluation",
                                    "data/raw"]) == ["pipeline/evaluation"]


def test_the_walker_follows_function_level_and_registry_imports():
    files = {str(f.relative_to(REPO_ROOT)) for f in closure(REPO_ROOT / "stages" / "validate.py")}
    assert "pipeline/sources/rafdb.py" in files  # reached only through the registry's pkgutil discovery
    assert "pipeline/core/params.py" in files and "pipeline/__init__.py" in files


# The import structure of pipeline/ itself. Each subpackage stands on one layer, bottom first; a module may
# import its own subpackage and any subpackage on a lower layer, never one on its own layer or above, so
# no two subpackages import each other, and a new subpackage must be placed here. The order is the code's:
LAYERS = (
    ("core", "browser"),                    # constants, atomic writes, devices, naming, the params schema; Chromium
    ("dataset", "inputs", "models"),        # the prepared arrays, what a network is fed, the architectures
    ("sources", "training", "evaluation"),  # readers into prepared arrays; the one trainer; test-split metrics
    ("params",                              # the strict params check, which asks the model and loss registries,
     "emoxnet", "ensemble", "export"),      # and what is built from trained models: EmoXNet, ensembles, ONNX files
    ("analyze", "benchmark", "crosseval"),  # what applies or measures those: usability videos, Table V, folders
    ("reporting",),                         # tables and pages from every output
    ("orchestration",),                     # runs the DVC pipeline as a whole
)
LAYER_OF = {package: i for i, layer in enumerate(LAYERS) for package in layer}
# What pipeline/ never imports: the stage entries call the library, never the other way round.
NOT_LIBRARY = ("stages", "tests", "benchmarks")


def module_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in one file, inside functions too; relative imports resolved."""
    package = path.relative_to(REPO_ROOT).with_suffix("").parts[:-1]  # where a relative import starts
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names  # `from pkg import submodule`
                      if module_file(f"{module}.{alias.name}") is not None]
    return found


def subpackage(module: str) -> str | None:
    """``core`` for pipeline.core.params, "" for pipeline itself; None outside pipeline."""
    parts = module.split(".")
    if parts[0] != "pipeline":
        return None
    return parts[1] if len(parts) > 1 and (REPO_ROOT / "pipeline" / parts[1] / "__init__.py").is_file() else ""


def pipeline_arrows() -> list[tuple[str, str, str, str]]:
    """(from subpackage, to subpackage, file:line, module) for every import between two subpackages of
    pipeline/ (pipeline/__init__.py, the no-network environment, is "" and may be imported by all)."""
    arrows = []
    for path in sorted((REPO_ROOT / "pipeline").rglob("*.py")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        source = subpackage(".".join(path.relative_to(REPO_ROOT).parts[:-1]))
        for line, module in module_imports(path):
            target = subpackage(module)
            if target is not None and target != source:
                arrows.append((source, target, f"{rel}:{line}", module))
    return arrows


def test_every_subpackage_of_pipeline_stands_on_one_layer():
    packages = sorted(p.parent.name for p in (REPO_ROOT / "pipeline").glob("*/__init__.py"))
    listed = [package for layer in LAYERS for package in layer]
    assert len(listed) == len(set(listed)), "a subpackage is listed twice in LAYERS"
    assert sorted(listed) == packages, f"LAYERS must list exactly the subpackages of pipeline/: {packages}"
    assert not [p for p in (REPO_ROOT / "pipeline").glob("*.py") if p.name != "__init__.py"], \
        "a module directly under pipeline/ stands on no layer: put it in a subpackage"


def test_pipeline_never_imports_the_stages():
    wrong = [f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
             for path in sorted((REPO_ROOT / "pipeline").rglob("*.py"))
             for line, module in module_imports(path) if module.split(".")[0] in NOT_LIBRARY]
    assert not wrong, f"library code calls an entry point (move the work into pipeline/ and call it from both): {wrong}"


def test_the_package_root_imports_no_subpackage():
    assert not [m for _, m in module_imports(REPO_ROOT / "pipeline" / "__init__.py") if m.startswith("pipeline.")]


def test_no_import_runs_up_or_across_the_layers():
    wrong = [f"{where}: {source} (layer {LAYER_OF[source]}) imports {module} (layer {LAYER_OF[target]})"
             for source, target, where, module in pipeline_arrows()
             if source and target and LAYER_OF[target] >= LAYER_OF[source]]
    assert not wrong, ("an import from a lower layer to a higher one, or between two subpackages of one layer "
                       f"(move the shared piece down, or change LAYERS where the order itself changed): {wrong}")


def circles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The groups of nodes that reach each other (strongly connected, two or more), each sorted (Tarjan)."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_circle_between_the_subpackages_of_pipeline():
    edges = {(source, target) for source, target, _, _ in pipeline_arrows() if source and target}
    assert not circles(edges), f"subpackages of pipeline/ that import each other in a circle: {circles(edges)}"


def test_the_circle_finder_and_the_import_reader_see_what_they_must():
    assert circles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d")}) == [["a", "b", "c"],
                                                                                              ["d", "e"]]
    assert not circles({("a", "b"), ("b", "c"), ("a", "c")})
    arrows = {(where.split(":")[0], module) for _, _, where, module in pipeline_arrows()}
    assert ("pipeline/analyze/cli.py", "pipeline.export.classifier") in arrows  # imported inside a function only
