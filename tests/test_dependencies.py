"""A stage's dvc.yaml code deps are exactly what it imports (transitively, within the project).

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
