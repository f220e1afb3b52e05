"""The benchmark of a tiny model on the CPU produces every Table V field, including the
fresh-subprocess memory number and the ONNX parity check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.benchmark.benchmarking import BenchmarkSettings, benchmark_model
from pipeline.benchmark.speed import flops_per_image
from pipeline.core.runfacts import machine_keys_in
from pipeline.models import build_model, count_parameters

from tests.helpers import REPO_ROOT as REPO
TINY = {"width": 0.03125, "se_reduction": 1}
DEFAULT_BENCHMARK = yaml.safe_load((REPO / "params.yaml").read_text())["benchmark"]


def test_settings_from_params_adds_training_size_and_primary_size():
    section = {**DEFAULT_BENCHMARK, "input_sizes": [24], "primary_input_size": 64, "latency_runs": 3}
    settings = BenchmarkSettings.from_params(section, train_input_size=32)
    assert settings.input_sizes == (24, 32, 64) and settings.primary_input_size == 64 and settings.latency_runs == 3


def test_benchmark_tiny_model_every_field():
    settings = BenchmarkSettings(latency_runs=5, warmup_runs=1, throughput_batch=4, throughput_runs=1,
                                 onnx=True, onnx_atol=1e-3, input_sizes=(16, 24), primary_input_size=24)
    report = benchmark_model("tiny", TINY, "cpu", settings)
    params = count_parameters(build_model(TINY, 7))
    assert report["params"] == params
    assert report["size_mib_fp32"] == pytest.approx(params * 4 / 2**20)
    assert report["file_size_mib"] > report["size_mib_fp32"]  # weights plus buffers and pickle framing
    assert report["input_size"] == 24 and set(report["by_input_size"]) == {"16", "24"}
    small, big = report["by_input_size"]["16"], report["by_input_size"]["24"]
    assert 0 < small["flops_per_image"] < big["flops_per_image"] == report["flops_per_image"]
    for key in ("latency_ms_b1", "latency_ms_b1_p90", "throughput_img_s"):
        assert report[key] > 0, key
    assert report["latency_ms_b1_p90"] >= report["latency_ms_b1"]
    # Memory: measured once, at the primary size, in a fresh interpreter.
    assert "fresh subprocess" in report["memory_method"]
    assert report["peak_inference_memory_mib"] >= 0
    assert report["process_peak_rss_mib"] > 50  # torch itself is resident
    assert "peak_inference_memory_mib" not in small
    assert machine_keys_in(report) == []  # where it ran: the stage's run facts beside the folder (issue 28)
    onnx = report["onnx"]
    assert onnx["parity_ok"] and onnx["max_abs_diff_vs_torch"] <= settings.onnx_atol
    assert onnx["latency_ms_b1"] > 0 and onnx["file_size_mib"] > 0
    json.dumps(report)  # every field serialises


def test_flops_scale_with_width():
    narrow = flops_per_image(build_model(TINY, 7).eval(), 16)
    wide = flops_per_image(build_model({"width": 0.0625, "se_reduction": 1}, 7).eval(), 16)
    assert 2 * narrow < wide  # conv FLOPs grow ~quadratically with the channel width


def benchmark_stage(tmp_path: Path, models: dict, input_size: int, *names: str) -> subprocess.CompletedProcess:
    """`python -m stages.benchmark [names] --out reports/benchmark` in ``tmp_path``, on the repo's params
    with ``models`` and quick benchmark settings at ``input_size`` (train.input_size 16)."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["models"] = models
    params["emoxnet"]["models"] = {name: TINY for name in params["emoxnet"]["models"]}  # timed too: tiny, fast
    params["train"].update(input_size=16, device="cpu")
    params["benchmark"].update(input_sizes=[input_size], primary_input_size=input_size, latency_runs=3, warmup_runs=1,
                               throughput_batch=2, throughput_runs=1, onnx=False)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "stages.benchmark", *names, "--out", "reports/benchmark"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_benchmark_stage_writes_json(tmp_path):
    models = {**yaml.safe_load((REPO / "params.yaml").read_text())["models"], "tiny": TINY}
    proc = benchmark_stage(tmp_path, models, 20, "tiny")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "reports/benchmark/tiny.json").read_text())
    assert report["input_size"] == 20 and set(report["by_input_size"]) == {"16", "20"} and "onnx" not in report
    # every file in the folder is a DVC metric: the machine is in the run facts beside it, not in them
    assert machine_keys_in(report) == []
    facts = json.loads((tmp_path / "reports/benchmark_run.json").read_text())
    assert set(facts) == {"models", "emoxnet"} and set(facts["models"]) == {"tiny"}
    assert facts["models"]["tiny"]["device"].startswith("cpu") and facts["models"]["tiny"]["torch"]
    proc = benchmark_stage(tmp_path, models, 20, "huge")
    assert proc.returncode == 1 and "'huge'" in proc.stderr


def test_benchmark_stage_without_names_mirrors_params_models(tmp_path):
    models = {name: TINY for name in yaml.safe_load((REPO / "params.yaml").read_text())["models"]}  # all tiny: fast
    stale = tmp_path / "reports/benchmark/removed_model.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    proc = benchmark_stage(tmp_path, models, 16)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in stale.parent.glob("*.json")) == sorted(f"{name}.json" for name in models)
    emoxnet = yaml.safe_load((REPO / "params.yaml").read_text())["emoxnet"]["models"]
    assert sorted(p.stem for p in (stale.parent / "emoxnet").glob("*.json")) == sorted(emoxnet)


@pytest.mark.long  # two real benchmark stage runs
def test_benchmark_stage_re_measures_only_what_changed(tmp_path):
    """An unchanged architecture keeps its report byte for byte; a changed spec re-measures that one only."""
    models = {name: TINY for name in yaml.safe_load((REPO / "params.yaml").read_text())["models"]}
    assert benchmark_stage(tmp_path, models, 16, "teacher", "student_b").returncode == 0
    folder = tmp_path / "reports/benchmark"
    first = {p.name: p.read_bytes() for p in folder.glob("*.json")}
    assert json.loads(first["teacher.json"])["identity"]["spec"]["width"] == TINY["width"]
    again = benchmark_stage(tmp_path, models, 16, "teacher", "student_b")
    assert again.returncode == 0 and again.stderr.count("unchanged since its last measurement") == 2
    assert {p.name: p.read_bytes() for p in folder.glob("*.json")} == first
    changed = benchmark_stage(tmp_path, {**models, "student_b": {**TINY, "width": 0.0625}}, 16, "teacher", "student_b")
    assert changed.returncode == 0 and changed.stderr.count("unchanged since its last measurement") == 1
    after = {p.name: p.read_bytes() for p in folder.glob("*.json")}
    assert after["teacher.json"] == first["teacher.json"] and after["student_b.json"] != first["student_b.json"]
    # another machine (here: a recorded device that is not this one) re-measures, even with the same identity
    facts_file = tmp_path / "reports/benchmark_run.json"
    facts = json.loads(facts_file.read_text())
    facts["models"]["teacher"]["device"] = "cpu: another CPU (2 threads)"
    facts_file.write_text(json.dumps(facts))
    moved = benchmark_stage(tmp_path, {**models, "student_b": {**TINY, "width": 0.0625}}, 16, "teacher", "student_b")
    assert moved.returncode == 0 and moved.stderr.count("unchanged since its last measurement") == 1
    assert json.loads(facts_file.read_text())["models"]["teacher"]["device"] != "cpu: another CPU (2 threads)"
