"""Applying a profile changes only the lines of the keys it sets: params.yaml's diff is exactly the profile."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

from pipeline.core.params import ParamsError
from pipeline.params.profiles import _span, apply_profile, merge
from tests.helpers import REPO_ROOT

PROFILES = sorted(p.name for p in (REPO_ROOT / "profiles").glob("*.yaml"))


def set_spans(base_text: str, keys: list[str]) -> set[int]:
    """Line numbers (0-based) of params.yaml that hold the entries of ``keys`` (dotted)."""
    lines = base_text.splitlines(keepends=True)
    doc = YAML().load(base_text)
    out: set[int] = set()
    for dotted in keys:
        node, end, parts = doc, len(lines), dotted.split(".")
        for i, part in enumerate(parts):
            if part not in node:
                break  # a new key: an insertion, checked separately
            start, end = _span(node, part, end, lines)
            if i == len(parts) - 1 or not hasattr(node[part], "lc"):
                out.update(range(start, end))
                break
            node = node[part]
    return out


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_changes_only_the_lines_of_the_keys_it_sets(profile: str, tmp_path: Path):
    params = tmp_path / "params.yaml"
    shutil.copy(REPO_ROOT / "params.yaml", params)
    before = params.read_text()
    keys = apply_profile(REPO_ROOT / "profiles" / profile, params)
    after = params.read_text()
    overrides = yaml.safe_load((REPO_ROOT / "profiles" / profile).read_text())
    assert yaml.safe_load(after) == merge(yaml.safe_load(before), overrides)  # it means exactly the merge
    allowed = set_spans(before, keys)
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        touched = set(range(i1, i2))
        assert touched <= allowed, f"{profile} changed lines it does not set: {[old[i] for i in sorted(touched - allowed)]}"
    seeds_line = f"seeds: [{', '.join(map(str, overrides.get('seeds', [0])))}] "  # flow lists stay flow, set or not
    assert after.endswith("\n") and any(line.startswith(seeds_line) for line in after.splitlines())
    apply_profile(REPO_ROOT / "profiles" / profile, params)
    assert params.read_text() == after  # applying it again changes nothing


def test_profile_failing_the_params_policy_leaves_params_untouched(tmp_path: Path):
    params = tmp_path / "params.yaml"
    params.write_text("train:\n  input_size: 32               # paper: 64\n  lr: 0.02\nseeds: [0]\n")
    profile = tmp_path / "p.yaml"
    profile.write_text("train:\n  input_size: 128\nseeds: [0, 1, 2]\n")
    with pytest.raises(ParamsError):  # a partial params file fails the strict policy: nothing written
        apply_profile(profile, params)
    assert params.read_text() == "train:\n  input_size: 32               # paper: 64\n  lr: 0.02\nseeds: [0]\n"


def test_profile_sets_a_new_run_and_a_seed_list_as_text_edits(tmp_path: Path):
    params = tmp_path / "params.yaml"
    shutil.copy(REPO_ROOT / "params.yaml", params)
    before = params.read_text()
    profile = tmp_path / "p.yaml"
    profile.write_text("seeds: [0, 1, 2]   # three seeds\ndistill:\n  runs:\n"
                       "    X1: {student: student_c, loss: {name: kd, T: 2, alpha: 0.25}}\n")
    assert apply_profile(profile, params) == ["distill.runs.X1.loss.T", "distill.runs.X1.loss.alpha",
                                              "distill.runs.X1.loss.name", "distill.runs.X1.student", "seeds"]
    diff = [line for line in difflib.unified_diff(before.splitlines(), params.read_text().splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert diff[0].startswith("-seeds: [0]") and diff[1].startswith("+seeds: [0, 1, 2]")
    assert diff[1].endswith("# one training run per seed; metrics reported as mean ± std")  # params.yaml's comment
    assert diff[2:] == ["+    X1: {student: student_c, loss: {name: kd, T: 2, alpha: 0.25}}"]
