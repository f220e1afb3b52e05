"""The emoxnet_report stage as dvc runs it, on tiny checkpoints: params and FLOPs counted on each
checkpoint (fed as its contract says), latencies read from the benchmark stage's reports (the stage
times nothing), tables written by the one Markdown writer."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import torch
import yaml

from pipeline.inputs.contract import InputContract
from pipeline.models import build_model, count_parameters, save_model
from pipeline.reporting.cells import frame_markdown
from tests.helpers import REPO_ROOT

CLASSES = tuple(f"c{i}" for i in range(7))
TINY = {"width": 0.03125, "se_reduction": 1}


def _write(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


def _report_stage(project) -> subprocess.CompletedProcess:
    """The emoxnet_report stage as dvc.yaml runs it, in ``project``."""
    return subprocess.run(
        [sys.executable, "-m", "stages.emoxnet_report", "--eval", "reports/emoxnet/eval",
         "--members", "models/emoxnet/members", "--teacher", "models/teacher", "--lite", "models/emoxnet/lite",
         "--lite-baseline", "models/emoxnet/lite_baseline", "--mini-eval", "reports/eval",
         "--mini-benchmarks", "reports/benchmark", "--out", "out"],
        cwd=project, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True, timeout=300)


def test_emoxnet_report_stage_writes_both_tables_and_the_page(tmp_path):
    torch.manual_seed(0)
    meta = InputContract(CLASSES, 16, "grayscale").to_meta()
    for folder in ("models/emoxnet/members/vgg13", "models/emoxnet/lite"):
        save_model(tmp_path / folder / "model.pt", build_model(TINY, 7), name="tiny", **meta)
    teacher_params = count_parameters(build_model(TINY, 7))
    _write(tmp_path / "reports/benchmark/teacher.json",
           {"params": teacher_params, "flops_per_image": 1000, "latency_ms_b1": 2.0, "input_size": 20})
    _write(tmp_path / "reports/benchmark/student_c.json",
           {"params": 1_259_911, "flops_per_image": 10, "latency_ms_b1": 4.0, "input_size": 20})
    for architecture, ms in (("vgg13", 3.0), ("lite", 1.5)):  # the benchmark stage's emoxnet/<model>.json
        _write(tmp_path / f"reports/benchmark/emoxnet/{architecture}.json", {"latency_ms_b1": ms, "input_size": 20})
    _write(tmp_path / "reports/eval/E6/metrics.json", {"kind": "distill", "model": "student_c", "test_acc": 0.45})
    members = {"teacher": {"family": "resemotenet", "weight": 0.5, "test_acc": 0.4},
               "vgg13": {"family": "vgg13_ferplus", "weight": 0.5, "test_acc": 0.3}}
    _write(tmp_path / "reports/emoxnet/eval/ensemble/metrics.json",
           {"members": members, "rule": "mean", "test_acc": 0.42, "best_member": "teacher",
            "gain_over_best_member": 0.02})
    _write(tmp_path / "reports/emoxnet/eval/lite/metrics.json", {"test_acc": 0.38})
    _write(tmp_path / "reports/emoxnet/eval/lite_baseline/metrics.json", {"test_acc": 0.33})
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["train"]["device"] = "cpu"
    params["benchmark"].update(primary_input_size=20, latency_runs=2, warmup_runs=1)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))

    proc = _report_stage(tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "out/emoxnet.csv")
    assert list(table["model"]) == ["teacher", "vgg13", "EmoXNet", "EmoXNetLite", "EmoXNetLite baseline"]
    ensemble = table.set_index("model").loc["EmoXNet"]
    assert ensemble["params"] == 2 * teacher_params  # the members' sum: the teacher's from its benchmark
    assert ensemble["gflops_at_20"] > 0 and ensemble["latency_ms_b1_at_20"] == 5.0  # 2.0 + 3.0, read, not timed
    assert table.set_index("model").loc["EmoXNetLite", "latency_ms_b1_at_20"] == 1.5
    comparison = pd.read_csv(tmp_path / "out/lite_vs_mini_resemotenet.csv")
    assert list(comparison["model"]) == ["EmoXNetLite", "EmoXNetLite baseline", "E6"]
    assert (tmp_path / "out/emoxnet.md").read_text() == frame_markdown(table)
    page = (tmp_path / "out/README.md").read_text()
    assert "(+2.00 points)" in page and "| EmoXNetLite baseline |" in page.replace("  ", " ")


def test_frame_markdown_aligns_counts_and_marks_missing_cells():
    frame = pd.DataFrame([{"model": "a", "params": 1_259_911, "acc": 45.5, "paper": None},
                          {"model": "bb", "params": 20_069_383, "acc": None, "paper": "x"}])
    lines = frame_markdown(frame).splitlines()
    assert lines[0] == "| model |     params |  acc | paper |"
    assert lines[1] == "|-------|-----------:|-----:|-------|"
    assert lines[2] == "| a     |  1,259,911 | 45.5 | n/a   |"
    assert lines[3] == "| bb    | 20,069,383 |  n/a | x     |"


def test_emoxnet_report_without_a_benchmark_of_an_architecture_names_it_and_writes_nothing(tmp_path):
    meta = InputContract(CLASSES, 16, "grayscale").to_meta()
    for folder in ("models/emoxnet/members/vgg13", "models/emoxnet/lite"):
        save_model(tmp_path / folder / "model.pt", build_model(TINY, 7), name="tiny", **meta)
    _write(tmp_path / "reports/emoxnet/eval/ensemble/metrics.json",
           {"members": {"vgg13": {"family": "vgg13_ferplus", "weight": 1.0, "test_acc": 0.3}}, "rule": "mean",
            "test_acc": 0.3, "best_member": "vgg13", "gain_over_best_member": 0.0})
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    params["benchmark"].update(primary_input_size=20)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    proc = _report_stage(tmp_path)
    assert proc.returncode != 0
    assert "vgg13/model.pt" in proc.stderr and "dvc repro benchmark" in proc.stderr
    assert not (tmp_path / "out").exists()
