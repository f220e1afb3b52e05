"""A git repository of the project as it is now (code, dvc.yaml, profiles; no data or outputs) with tiny params."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import REPO_ROOT, run

# Every stage of the real pipeline in a couple of minutes on 2 cores, with as few items as the tests need:
# two runs of student A (so one can change while the other must not move), its baseline, one EmoXNet member.
TINY_PARAMS = {
    "synthetic": {"train": 140, "val": 70, "test": 70},
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
SKIPPED = ("data/", "models/", "reports/", "tests/", "benchmarks/", "docs/")
KEPT = ("reports/cross_eval/README.md", "reports/examples/README.md",  # tracked inputs of the report stage
        "reports/cross_cpu_band.json")


def git(cwd: Path, *args: str) -> str:
    return run(["git", *args], cwd).stdout


def dvc(cwd: Path, *args: str, timeout: int = 5400) -> str:
    """`uv run dvc ...` in this environment (``uv run`` resolves to this venv's python)."""
    return run([sys.executable, "-m", "dvc", *args], cwd, timeout=timeout).stdout


def tiny_origin(dest: Path) -> Path:
    """The project's tracked and new files (outputs and tests left out) with TINY_PARAMS, committed on main
    (clone it for a fresh checkout: no data, outputs or DVC cache)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in filter(None, listed):
        src = REPO_ROOT / rel
        if (rel.startswith(SKIPPED) and rel not in KEPT) or rel == "dvc.lock" or not src.is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(src.read_bytes())
    (dest / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (dest / "data" / "raw" / ".gitkeep").write_text("")
    params = yaml.safe_load((dest / "params.yaml").read_text())
    for section, values in TINY_PARAMS.items():  # `models` and the run lists replaced whole
        params[section] = values if section == "models" else {**params[section], **values}
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "tiny project")
    return dest
