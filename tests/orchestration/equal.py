"""What "a Prefect run equals `dvc repro`" compares between two checkouts of one commit, one run each way:
what `git status` shows (with the .gitignore files DVC writes), `dvc status`, every metrics file byte for
byte and each stage's dvc.lock entry (the hash of every output, deps and params)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import subprocess_env


def _run(repo: Path, *args: str) -> str:
    done = subprocess.run(args, cwd=repo, env=subprocess_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args} in {repo}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def metrics_files(repo: Path) -> dict[str, bytes]:
    """Every file `dvc metrics show` reads (declared per stage or at the top of dvc.yaml), with its bytes."""
    shown = json.loads(_run(repo, sys.executable, "-m", "dvc", "metrics", "show", "--json"))
    paths = {path for rev in shown.values() for path in rev.get("data", {})}
    return {path: (repo / path).read_bytes() for path in sorted(paths)}


def checkout_state(repo: Path) -> dict:
    """The checkout as a reviewer sees it after a run."""
    status = _run(repo, "git", "status", "--porcelain=v1", "--untracked-files=all").splitlines()
    ignores = {line[3:]: (repo / line[3:]).read_text() for line in status if line.endswith(".gitignore")}
    lock = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]
    return {"git status": sorted(status), ".gitignore": ignores, "metrics": metrics_files(repo), "dvc.lock": lock,
            "dvc status": json.loads(_run(repo, sys.executable, "-m", "dvc", "status", "--json") or "{}")}


def assert_same_checkout(prefect: dict, plain: dict) -> None:
    """Key by key, so a failure names what differs."""
    assert prefect["dvc status"] == {} and plain["dvc status"] == {}, (prefect["dvc status"], plain["dvc status"])
    for key in ("git status", ".gitignore", "metrics"):
        assert prefect[key] == plain[key], f"{key} differs after a Prefect run and after `dvc repro`"
    assert prefect["metrics"], "no metrics file to compare"
    assert sorted(prefect["dvc.lock"]) == sorted(plain["dvc.lock"])
    for stage, entry in plain["dvc.lock"].items():
        assert prefect["dvc.lock"][stage] == entry, f"dvc.lock entry of {stage} differs"
