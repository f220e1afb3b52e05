"""The run-folder snapshot copies only what the params ran, on the params' data."""

from __future__ import annotations

import json
import shutil

import pytest

from pipeline.reporting.snapshot import snapshot
from tests.helpers import REPO_ROOT


def _metrics(path, **fields):
    path.mkdir(parents=True, exist_ok=True)
    (path / "metrics.json").write_text(json.dumps(fields))


def test_runs_of_another_profile_or_data_are_left_out(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO_ROOT / name, project / name)
    (project / "reports").mkdir()
    (project / "reports/validation.json").write_text(json.dumps({"real_data": False}))
    _metrics(project / "models/distill/E1", kind="distill", run="E1", dataset="synthetic")
    _metrics(project / "models/distill/E2", kind="distill", run="E2", dataset="fer2013")  # another profile's data
    _metrics(project / "models/distill/X9", kind="distill", run="X9", dataset="synthetic")  # not in params
    _metrics(project / "reports/eval/E1", kind="distill", run="E1", dataset="synthetic")
    for folder in ("models/distill/E1", "reports/eval/E1", "models/distill/X9"):  # run facts beside the metrics
        (project / folder / "run.json").write_text(json.dumps({"device": "cpu: test (2 threads)"}))
    (project / "reports/benchmark_run.json").write_text(json.dumps({"models": {}, "emoxnet": {}}))
    dest = tmp_path / "run"
    count = snapshot(project, dest, {"profile": "p", "commit": "c", "wall_time": "w"})
    copied = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert copied == ["benchmark_run.json", "eval/E1/metrics.json", "eval/E1/run.json",
                      "models/distill/E1/metrics.json", "models/distill/E1/run.json", "params.yaml", "run.json",
                      "validation.json"]
    assert json.loads((dest / "run.json").read_text())["profile"] == "p"  # the folder's own run.json
    assert count == len(copied)
    with pytest.raises(FileExistsError, match="already holds a run"):
        snapshot(project, dest, {})
