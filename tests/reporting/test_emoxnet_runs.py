"""A committed EmoXNet run folder: made from a project's EmoXNet outputs by the command docs show, its claims judged
from the copied metrics (two seeds per Lite side), and listed on the verdict page apart from Table IV folders."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from pipeline.reporting import emoxnet_runs
from pipeline.reporting.examples import examples_lines, run_folders
from tests.helpers import REPO_ROOT


def _write(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))


def _training(folder, test_acc, std, seeds=(0, 1), epochs=6):
    _write(folder / "metrics.json", {"kind": "lite", "run": folder.name, "seeds": list(seeds), "test_acc": test_acc,
                                     "test_acc_std": std, "val_acc": test_acc})
    _write(folder / "run.json", {"device": "cpu"})
    for split in ("train", "val"):
        rows = "".join(f"{1700000000 + e}\t{e}\t{test_acc - 0.1 / (e + 1):.4f}\n" for e in range(epochs))
        _write(folder / f"dvclive/plots/metrics/{split}/acc.tsv", "timestamp\tstep\tacc\n" + rows)


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "project"
    shutil.copyfile(REPO_ROOT / "dvc.yaml", root.mkdir() or root / "dvc.yaml")
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["data"]["source"] = "ferplus"
    _write(root / "params.yaml", yaml.safe_dump(params, sort_keys=False))
    _write(root / "reports/validation.json", {"success": True})
    _write(root / "reports/emoxnet/tables/emoxnet.csv", "model,test_acc\nEmoXNet,84.0\n")
    _write(root / "reports/emoxnet/tables/README.md", "# EmoXNet / EmoXNetLite on `ferplus`\n")
    members = {name: {"family": spec["model"], "weight": 0.5, "test_acc": 0.8}
               for name, spec in params["emoxnet"]["members"].items()}
    per_class = {"happy": {"recall": 0.95, "support": 90}, "contempt": {"recall": 0.0, "support": 10}}
    _write(root / "reports/emoxnet/eval/ensemble/metrics.json", {"members": members, "test_acc": 0.8401,
                                                                 "macro_f1": 0.612, "per_class": per_class})
    # left by an earlier member set (the default's generated data): not this run's, never copied
    _write(root / "reports/emoxnet/eval/members/old_member/metrics.json", {"test_acc": 0.15})
    _write(root / "reports/benchmark/emoxnet/old_arch.json", {"latency_ms_b1": 9.0, "input_size": 64})
    for name in members:
        _training(root / "models/emoxnet/members" / name, 0.80, 0.0, seeds=(0,))
    _training(root / "models/emoxnet/lite", 0.8150, 0.0020)
    _training(root / "models/emoxnet/lite_baseline", 0.8050, 0.0030)
    _write(root / "reports/benchmark/emoxnet/lite.json", {"latency_ms_b1": 1.0, "input_size": 48})
    return root


def test_snapshot_copies_renders_and_judges(project, tmp_path):
    examples = tmp_path / "examples"
    dest = examples / "ferplus-emoxnet"
    proc = subprocess.run([sys.executable, "-m", "pipeline.reporting.emoxnet_runs", str(dest), "--project", str(project),
                           "--profile", "profiles/emoxnet-ferplus.yaml", "--wall-time", "1 h", "--commit", "abc"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert emoxnet_runs.is_emoxnet_folder(dest)
    assert (dest / "models/lite/dvclive/plots/metrics/val/acc.tsv").is_file()
    assert (dest / "eval/ensemble/metrics.json").is_file() and (dest / "benchmark/lite.json").is_file()
    assert (dest / "figures/curves.png").stat().st_size > 10_000
    readme = (dest / "README.md").read_text()
    assert readme.startswith("# EmoXNet / EmoXNetLite on `ferplus`")
    assert "EmoXNet ensemble accuracy: ours 84.01 %" in readme and "paper 85.07 %: **reproduced**" in readme
    assert "EmoXNetLite above its CE baseline: ours +1.00 pp" in readme and "seed spread ±0.30 pp" in readme
    assert "member vgg13" in readme and "Wall time: 1 h" in readme
    assert not (dest / "eval/members/old_member").exists() and not (dest / "benchmark/old_arch.json").exists()
    per_class = readme.split("## Per class (test recall)")[1].split("##")[0]
    assert "| contempt |" in per_class and "95.0" in per_class and "0.612" in per_class and "84.01" in per_class

    # Listed on the verdict page in its own section, not read as a Table IV run folder.
    assert run_folders(examples) == []
    lines = examples_lines(examples, tmp_path)
    assert lines[0] == "## Committed EmoXNet runs"
    assert any("[ferplus-emoxnet](examples/ferplus-emoxnet/README.md)" in line for line in lines)

    again = subprocess.run([sys.executable, "-m", "pipeline.reporting.emoxnet_runs", str(dest), "--project",
                            str(project), "--profile", "p", "--wall-time", "w"], cwd=REPO_ROOT, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode != 0 and "already holds a run" in again.stderr


def test_lite_gain_inside_the_spread_is_not_reproduced(project, tmp_path):
    _training(project / "models/emoxnet/lite", 0.8070, 0.0040)
    emoxnet_runs.snapshot(project, tmp_path / "run", {"profile": "p", "commit": "c", "wall_time": "w"})
    (gain,) = [c for c in emoxnet_runs.claims(tmp_path / "run") if c.claim.startswith("EmoXNetLite above")]
    assert gain.verdict == "not reproduced" and gain.why == "seed spread ±0.40 pp"
