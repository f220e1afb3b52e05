"""The report from a fixture of metrics files: every table, the deltas, "not run" rows, Fig. 4;
and Table III from the real FER2013 CSV when it is present."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline import paper
from pipeline.constants import CLASS_NAMES
from pipeline.models import build_model, count_parameters
from pipeline.report_tables import ReportInputs, table_class_counts
from pipeline.reporting import collect_inputs, render_markdown_tables, write_report

REPO = Path(__file__).resolve().parents[1]
SHARED_FER = REPO.parent / "shared" / "data" / "fer2013.csv.gz"
TINY = {"width": 0.03125, "se_reduction": 1}


def _params(source: str) -> dict:
    return {
        "data": {"source": source},
        "models": {"teacher": TINY, "student_a": {"width": 0.0625, "se_reduction": 1}},
        "distill": {"runs": {"E1": {"student": "student_a", "T": 3, "alpha": 0.2},
                             "E2": {"student": "student_a", "T": 3, "alpha": 0.15}}},
        "baseline": {"students": ["student_a"]},
        "seeds": [0, 1],
    }


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.fixture
def tree(tmp_path):
    """A repository-like tree: teacher and E1 trained and evaluated, E2 and the baseline not run."""
    counts = {split: dict(paper.FER2013_KAGGLE_COUNTS[split]) for split in ("train", "val", "test")}
    counts["train"]["angry"] += 5
    counts["test"]["happy"] -= 2
    _write(tmp_path / "reports/validation.json", {"class_counts": counts, "source": "fer2013"})
    _write(tmp_path / "models/teacher/metrics.json",
           {"kind": "teacher", "run": "teacher", "seeds": [0, 1], "test_acc": 0.80, "test_acc_std": 0.005,
            "test_loss": 0.7, "test_loss_std": 0.01, "device": "cpu"})
    _write(tmp_path / "models/distill/E1/metrics.json",
           {"kind": "distill", "run": "E1", "seeds": [0, 1], "test_acc": 0.76, "test_acc_std": 0.01,
            "test_loss": 0.8, "test_loss_std": 0.02, "device": "cpu"})
    rng = np.random.default_rng(0)
    for run, acc in (("teacher", 0.81), ("E1", 0.75)):
        actual = rng.integers(0, 7, 70)
        predicted = np.where(rng.random(70) < acc, actual, rng.integers(0, 7, 70))
        frame = pd.DataFrame({"actual": np.array(CLASS_NAMES)[actual], "predicted": np.array(CLASS_NAMES)[predicted]})
        (tmp_path / f"reports/eval/{run}").mkdir(parents=True)
        frame.to_csv(tmp_path / f"reports/eval/{run}/confusion.csv", index=False)
        _write(tmp_path / f"reports/eval/{run}/metrics.json",
               {"test_acc": float((frame.actual == frame.predicted).mean()), "macro_f1": 0.5, "ece": 0.04,
                "device": "cpu: test"})
    _write(tmp_path / "reports/benchmark/teacher.json",
           {"model": "teacher", "params": 1000, "size_mib_fp32": 310.0, "file_size_mib": 311.0, "input_size": 64,
            "flops_per_image": 2e9, "peak_inference_memory_mib": 12.5, "memory_method": "CPU: test method",
            "latency_ms_b1": 20.0, "latency_ms_b1_p90": 25.0, "throughput_img_s": 40.0,
            "device": "cpu: test (2 threads)", "torch_version": "2.x",
            "onnx": {"device": "onnxruntime test", "input_size": 64, "file_size_mib": 306.0,
                     "latency_ms_b1": 9.0, "latency_ms_b1_p90": 10.0, "max_abs_diff_vs_torch": 1e-8}})
    return tmp_path


def test_tables_deltas_and_not_run_rows(tree):
    tables = write_report(collect_inputs(tree, _params("fer2013")), tree / "reports/tables", tree / "reports/figures")

    arch = tables["table2_architectures"].set_index("model")
    # teacher's params come from its benchmark file (1000), student_a's from build_model.
    assert arch.loc["teacher", "delta_params"] == 1000 - 80_238_599
    ours_a = count_parameters(build_model({"width": 0.0625, "se_reduction": 1}))
    assert arch.loc["student_a", "delta_params"] == ours_a - 20_069_383
    assert arch.loc["student_a", "delta_size_mib"] == pytest.approx(ours_a * 4 / 2**20 - 76.56)

    counts = tables["table3_class_counts"].set_index(["split", "class"])
    assert counts.loc[("train", "angry"), "delta_vs_paper"] == 5
    assert counts.loc[("train", "total"), "delta_vs_paper"] == 5
    assert counts.loc[("test", "happy"), "delta_vs_real"] == -2
    assert counts.loc[("test", "total"), "delta_vs_paper"] == -2  # vs the paper's 3,589
    assert np.isnan(counts.loc[("test", "happy"), "paper"])  # not found: never invented
    assert "does not match" in counts.loc[("test", "happy"), "flag"]

    acc = tables["table4_accuracy"].set_index("run")
    assert acc.loc["teacher", "delta_pp"] == pytest.approx(80.0 - 79.79)
    assert acc.loc["E1", "delta_pp"] == pytest.approx(76.0 - 76.33)
    assert acc.loc["E1", "test_acc_std"] == pytest.approx(1.0) and acc.loc["E1", "comparable"]
    assert acc.loc["E2", "status"] == "not run" and np.isnan(acc.loc["E2", "delta_pp"])
    assert acc.loc["baseline_student_a", "status"] == "not run"

    eff = tables["table5_efficiency"]
    teacher = eff[(eff.model == "teacher") & (eff.runtime != "onnxruntime")].iloc[0]
    assert teacher["delta_size_mib"] == pytest.approx(310.0 - 306.09)
    assert teacher["gflops_per_image"] == pytest.approx(2.0)
    onnx_row = eff[eff.runtime == "onnxruntime"].iloc[0]
    assert onnx_row["device"] == "onnxruntime test" and onnx_row["latency_ms_b1"] == 9.0
    assert eff[eff.model == "student_a"].iloc[0]["status"] == "not run"

    lit = tables["table6_literature"].set_index(["method", "dataset"])
    assert lit.loc[("ResEmoteNet", "FER2013"), "delta_pp"] == pytest.approx(80.0 - 79.79)
    assert np.isnan(lit.loc[("ResEmoteNet", "RAF-DB"), "delta_pp"])  # ours are on FER2013
    assert lit.loc[("EmoXNetLite (distilled)", "FER+"), "literature_acc"] == 82.07


def test_markdown_files_and_figure(tree):
    write_report(collect_inputs(tree, _params("fer2013")), tree / "reports/tables", tree / "reports/figures")
    md = render_markdown_tables(tree / "reports/tables")
    assert set(md) == {"table2_architectures", "table3_class_counts", "table4_accuracy", "table5_efficiency",
                       "table6_literature"}
    assert (tree / "reports/tables/table4_accuracy.md").exists() and (tree / "reports/tables/table5_efficiency.md").exists()
    assert "76.00 ± 1.00" in md["table4_accuracy"] and "+0.21" in md["table4_accuracy"]
    assert "not run" in md["table4_accuracy"] and paper.NOT_FOUND in md["table4_accuracy"]
    # Table V: one section per device, never mixing torch-CPU and onnxruntime numbers.
    assert "## Device: cpu: test (2 threads)" in md["table5_efficiency"]
    assert "## Device: onnxruntime test" in md["table5_efficiency"] and "## Device: not run" in md["table5_efficiency"]
    for name in md:
        assert (tree / f"reports/tables/{name}.csv").exists()
    index = (tree / "reports/tables/README.md").read_text()
    assert "reports/eval/E2/metrics.json" in index and "fig4_confusion.png" in index
    assert (tree / "reports/figures/fig4_confusion.png").stat().st_size > 10_000


def test_synthetic_source_says_deltas_not_meaningful(tree):
    tables = write_report(collect_inputs(tree, _params("synthetic")), tree / "t", tree / "f")
    acc = tables["table4_accuracy"].set_index("run")
    assert acc.loc["teacher", "delta_pp"] == pytest.approx(80.0 - 79.79) and not acc.loc["teacher", "comparable"]
    assert "NOT meaningful" in (tree / "t/table4_accuracy.md").read_text()
    lit = tables["table6_literature"].set_index(["method", "dataset"])
    assert "not meaningful" in lit.loc[("ResEmoteNet", "FER2013"), "note"]


def test_report_stage_with_nothing_run(tmp_path):
    params = _params("synthetic")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "stages.report"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    table4 = pd.read_csv(tmp_path / "reports/tables/table4_accuracy.csv")
    assert (table4["status"] == "not run").all()
    assert (tmp_path / "reports/figures/fig4_confusion.png").exists()  # DVC's output exists even now
    # A corrupt input is a one-line error naming the file.
    (tmp_path / "reports/validation.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"validation\.json: not valid JSON \(line 1"):
        collect_inputs(tmp_path, params)


@pytest.mark.skipif(not SHARED_FER.exists(), reason=f"{SHARED_FER} not present")
def test_table3_from_real_fer2013():
    frame = pd.read_csv(SHARED_FER, usecols=["emotion", "Usage"])
    split_of = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
    counts = {split_of[usage]: {CLASS_NAMES[k]: int(v) for k, v in group["emotion"].value_counts().items()}
              for usage, group in frame.groupby("Usage")}
    assert counts == paper.FER2013_KAGGLE_COUNTS  # the reference counts in paper.py are the real data's
    table = table_class_counts(ReportInputs("fer2013", {}, {}, [], validation={"class_counts": counts}))
    table = table.set_index(["split", "class"])
    assert (table["delta_vs_real"] == 0).all()
    assert (table.loc["train", "delta_vs_paper"] == 0).all()  # the paper's train column is the real one
    assert table.loc[("val", "total"), "ours"] == table.loc[("test", "total"), "ours"] == 3589
