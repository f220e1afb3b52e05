"""What many tests share: the repository's paths, running git and DVC, tiny params, and a throwaway copy of the
project."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


# Every stage of the real pipeline in a couple of minutes on 2 cores, with as few items as the tests need:
# two runs of student A (so one can change while the other must not move), its baseline, one EmoXNet member.
TINY_PARAMS = {
    "synthetic": {"train": 140, "val": 70, "test": 70},  # 70: the least that holds every class (disgust ~1.5 %)
    "models": {"teacher": {"family": "resemotenet", "width": 0.0625, "se_reduction": 1},
               "student_a": {"family": "resemotenet", "width": 0.03125, "se_reduction": 1}},
    "train": {"input_size": 16, "batch_size": 32, "eval_batch_size": 64, "device": "cpu"},
    "teacher": {"epochs": 1},
    "student": {"epochs": 1},
    "distill": {"runs": {"E1": {"student": "student_a", "loss": {"name": "kd", "T": 3, "alpha": 0.2}},
                         "E2": {"student": "student_a", "loss": {"name": "kd", "T": 3, "alpha": 0.15}}}},
    "baseline": {"students": ["student_a"]},
    "benchmark": {"input_sizes": [16], "primary_input_size": 16, "latency_runs": 2, "warmup_runs": 1,
                  "throughput_batch": 4, "throughput_runs": 1, "onnx": False},
    "emoxnet": {"members": {"vgg13": {"model": "vgg13", "epochs": 1, "input_size": 16}},
                "lite": {"model": "lite", "epochs": 1, "input_size": 16,
                         "loss": {"name": "smoothed_kd", "epsilon": 0.1, "T": 1.0, "alpha": 0.5}}},
}
# What a project copy leaves out (outputs, tests, docs), except the report stage's tracked inputs.
SKIPPED = ("data/", "models/", "reports/", "tests/", "benchmarks/", "docs/", "dvc.lock")
KEPT = ("reports/cross_eval/README.md", "reports/examples/README.md", "reports/cross_cpu_band.json")


def tiny(params: dict) -> None:
    """TINY_PARAMS over ``params``, in place: ``models`` replaced whole, every other section key by key (copies:
    a test that edits the result must not change TINY_PARAMS for the tests after it)."""
    for section, values in copy.deepcopy(TINY_PARAMS).items():
        params[section] = values if section == "models" else {**params[section], **values}


def subprocess_env() -> dict[str, str]:
    """This venv's python first on PATH (stage commands call `python`), no analytics, a git identity."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DO_NOT_TRACK": "1", **GIT_ENV}
    env.pop("PYTHONPATH", None)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def run(args: list[str], cwd: Path, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
    """``args`` in ``cwd`` with :func:`subprocess_env`; with ``check``, a failure asserts with both outputs."""
    result = subprocess.run(args, cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def dvc(cwd: Path, *args: str, check: bool = True, timeout: int = 5400) -> subprocess.CompletedProcess:
    """`uv run dvc ...` as README writes it (``uv run`` resolves to this venv's python)."""
    return run([sys.executable, "-m", "dvc", *args], cwd, check=check, timeout=timeout)


def git(cwd: Path, *args: str) -> str:
    return run(["git", *args], cwd).stdout


def project_copy(dest: Path, params_update=None, stages: tuple[str, ...] | None = None) -> Path:
    """The project as a fresh clone would have it, without outputs, data or DVC cache: its tracked and new files
    (outputs, tests and docs left out), committed on ``main`` of a new git repo at ``dest``.

    ``params_update(params)`` edits the params in place (e.g. :func:`tiny`); ``stages`` keeps only those stages.
    """
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = REPO_ROOT / rel
        if (rel.startswith(SKIPPED) and rel not in KEPT) or not src.is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(src.read_bytes())
    (dest / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (dest / "data" / "raw" / ".gitkeep").write_text("")
    if stages is not None:
        pipeline_yaml = yaml.safe_load((dest / "dvc.yaml").read_text())
        pipeline_yaml["stages"] = {name: pipeline_yaml["stages"][name] for name in stages}
        pipeline_yaml.pop("artifacts", None)
        (dest / "dvc.yaml").write_text(yaml.safe_dump(pipeline_yaml, sort_keys=False))
    if params_update is not None:
        params = yaml.safe_load((dest / "params.yaml").read_text())
        params_update(params)
        (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "project copy")  # dvclive needs a commit to exist
    return dest
