"""The data stages wired by real DVC in a throwaway git repo: repro to class_weights, then a clean status."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import yaml

from tests.data_fixtures import REPO_ROOT


DATA_STAGES = ("generate", "validate", "prepare", "class_weights")


def _run(args, cwd, env):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_dvc_repro_class_weights_then_status_clean(tmp_path):
    for name in ("pipeline", "stages"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    # The data stages exactly as dvc.yaml declares them (the later stages need other helpers' code).
    pipeline_yaml = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())
    stages = {name: pipeline_yaml["stages"][name] for name in DATA_STAGES}
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}, sort_keys=False))
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["data"]["source"] = "synthetic"
    params["synthetic"].update(train=70, val=14, test=14)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    env.pop("PYTHONPATH", None)
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")  # stage cmds' `python` = this venv's
    dvc = [sys.executable, "-m", "dvc"]
    _run(["git", "init", "-q"], tmp_path, env)
    _run(dvc + ["init", "-q"], tmp_path, env)
    _run(dvc + ["repro", "class_weights"], tmp_path, env)

    weights = json.loads((tmp_path / "data" / "prepared" / "class_weights.json").read_text())
    assert list(weights)[:2] == ["angry", "disgust"] and weights["disgust"] > weights["happy"]
    counts = json.loads((tmp_path / "reports" / "class_counts.json").read_text())
    assert [counts[s]["total"] for s in ("train", "val", "test")] == [70, 14, 14]
    assert (tmp_path / "data" / "prepared" / "dataset.npz").exists()
    assert (tmp_path / "data" / "raw" / "synthetic.csv.gz").exists()
    status = _run(dvc + ["status", "class_weights"], tmp_path, env)
    assert "up to date" in status.lower() or status.strip() in ("", "{}"), status
