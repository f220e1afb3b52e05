"""The benchmark scripts README shows are not imported by any test run: at least they must start."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT

SCRIPTS = sorted((REPO_ROOT / "benchmarks").glob("*.py"))


def test_there_are_benchmark_scripts():
    assert len(SCRIPTS) >= 3


# Every script's `--help`, run as `python script --help` runs it (as __main__, its folder on sys.path), one after
# another in one interpreter: torch and the rest are imported once, not once per script (~3 s each).
HELP_ALL = """
import contextlib, io, json, runpy, sys
results = {}
for path in sys.argv[1:]:
    sys.argv, sys.path[0], out = [path, "--help"], path.rsplit("/", 1)[0], io.StringIO()
    code = None
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:
        code = repr(exc)
    results[path] = {"exit": code, "usage": "usage:" in out.getvalue()}
print(json.dumps(results))
"""


def test_every_script_imports_and_prints_its_help():
    proc = subprocess.run([sys.executable, "-c", HELP_ALL, *map(str, SCRIPTS)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    failed = {path: r for path, r in results.items() if r["exit"] not in (0, None) or not r["usage"]}
    assert not failed and len(results) == len(SCRIPTS), failed


@pytest.mark.long
def test_gpu_check_runs_its_parts_on_cpu(tmp_path):
    """benchmarks/gpu_check.py as the device runs it, on CPU at toy size: the subset it carries, the step
    timings per variant with the bit check, paper-profile epochs through the trainer, one JSON."""
    import json

    import numpy as np

    from pipeline.dataset.prepared import PreparedData, load_prepared, save_prepared

    rng = np.random.default_rng(0)
    n = 120
    split = np.array([0] * 80 + [1] * 30 + [2] * 10, dtype=np.int8)
    save_prepared(tmp_path / "dataset.npz", PreparedData(rng.integers(0, 256, (n, 48, 48), dtype=np.uint8),
                                                         np.arange(n) % 7, split, "fer2013", tuple("abcdefg")))
    script = [sys.executable, str(REPO_ROOT / "benchmarks" / "gpu_check.py")]
    made = subprocess.run([*script, "subset", str(tmp_path / "dataset.npz"), str(tmp_path / "subset.npz"),
                           "--train", "48", "--val", "100"], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    subset = load_prepared(tmp_path / "subset.npz")
    assert (subset.split == 0).sum() == 48 and (subset.split == 1).sum() == 30 and not (subset.split == 2).any()
    out = tmp_path / "gpu_check.json"
    done = subprocess.run([*script, "run", "--data", str(tmp_path / "subset.npz"), "--out", str(out), "--repo",
                           str(REPO_ROOT), "--models", "student_c", "--variants", "fp32_deterministic", "bf16",
                           "--steps", "3", "--warmup", "1", "--epoch-model", "student_c", "--max-epochs", "2"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [(row["model"], row["variant"]) for row in report["steps"]] == [("student_c", "fp32_deterministic"),
                                                                             ("student_c", "bf16")]
    assert report["paper_settings"]["input_size"] == 64 and report["paper_settings"]["batch_size"] == 16
    assert report["bitwise_repeatable"] == {"student_c": True}
    assert [epoch["epoch"] for epoch in report["teacher_epochs"]] == [1, 2] and not report["skipped"]
    assert report["paper_80_epochs_full_train_s_estimate"] > 0


def test_distill_overhead_times_kd_online_with_a_saved_teacher(tmp_path):
    """benchmarks/distill_overhead.py --teacher: plain, kd and kd_online epochs through the trainer, three ratios."""
    from pipeline.models import build_model, save_model

    save_model(tmp_path / "teacher.pt", build_model({"family": "resemotenet", "width": 0.0625, "se_reduction": 1}, 7))
    proc = subprocess.run([sys.executable, "benchmarks/distill_overhead.py", "--student", "student_c", "--images", "64",
                           "--input-size", "16", "--batch", "32", "--epochs", "1", "--repeats", "1", "--augment",
                           "--teacher", str(tmp_path / "teacher.pt"), "--threads", "1"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "median epoch: plain" in proc.stdout and "kd_online" in proc.stdout and "to kd" in proc.stdout
