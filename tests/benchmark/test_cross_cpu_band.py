"""benchmarks/cross_cpu_band.py end to end on tiny params: two `dvc repro report`s in clones of HEAD (the
second with the kernels held to AVX2), one measurement file with both runs' rows and the band = max |Δ|."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from tests.helpers import REPO_ROOT, run, tiny


@pytest.mark.long  # trains the tiny pipeline twice
def test_measures_the_band_of_a_tiny_params_file(tmp_path):
    params = yaml.safe_load((REPO_ROOT / "params.yaml").read_text())
    tiny(params)
    params["train"]["portable_kernels"] = True  # pinned: another machine's bits must be these
    tiny_file = tmp_path / "tiny.yaml"
    tiny_file.write_text(yaml.safe_dump(params, sort_keys=False))
    out = tmp_path / "band.json"
    run([sys.executable, "benchmarks/cross_cpu_band.py", "--params", str(tiny_file), "--out", str(out),
         "--target", "report"], REPO_ROOT, timeout=1800)
    record = json.loads(out.read_text())
    runs = ["teacher", "E1", "E2", "baseline_student_a"]
    assert [row["run"] for row in record["rows"]] == runs
    assert all(row["delta_pp"] == round(row["acc_b"] - row["acc_a"], 4) for row in record["rows"])
    assert record["band_pp"] == max(abs(row["delta_pp"]) for row in record["rows"])
    assert record["band_pp"] == 0, record["rows"]  # AVX2 kernels and 2 threads in both runs, one core or two
    assert record["kernels"]["b"] == "ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_CBWR=AVX2, one core"
    assert record["settings"]["input_size"] == 16 and record["cpu"] and record["wall_s"]["a"] > 0
