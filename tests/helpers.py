"""What many tests share: the repository's paths, running DVC, and a throwaway copy of the project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def subprocess_env() -> dict[str, str]:
    """This venv's python first on PATH (stage commands call `python`), no analytics, a git identity."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", **GIT_ENV}
    env.pop("PYTHONPATH", None)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def run(args: list[str], cwd: Path, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def dvc(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "dvc", *args], cwd, check=check)


def project_copy(dest: Path, params_update=None, stages: tuple[str, ...] | None = None) -> Path:
    """The project's code, dvc.yaml and params.yaml in a fresh git + DVC repo at ``dest``.

    ``params_update(params)`` edits the params in place; ``stages`` keeps only those stages.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("pipeline", "stages", "profiles"):
        shutil.copytree(REPO_ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    pipeline_yaml = yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())
    if stages is not None:
        pipeline_yaml["stages"] = {name: pipeline_yaml["stages"][name] for name in stages}
    pipeline_yaml.pop("artifacts", None)
    (dest / "dvc.yaml").write_text(yaml.safe_dump(pipeline_yaml, sort_keys=False))
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    if params_update is not None:
        params_update(params)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (dest / "data" / "raw").mkdir(parents=True, exist_ok=True)
    for tracked_input in ("cross_eval", "examples"):  # the report's (tracked) input folders, without their runs
        (dest / "reports" / tracked_input).mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / "reports" / tracked_input / "README.md", dest / "reports" / tracked_input / "README.md")
    shutil.copy(REPO_ROOT / "reports" / "cross_cpu_band.json", dest / "reports" / "cross_cpu_band.json")
    run(["git", "init", "-q"], dest)
    dvc(dest, "init", "-q")
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-qm", "project copy"], dest)  # dvclive needs a commit to exist
    return dest
