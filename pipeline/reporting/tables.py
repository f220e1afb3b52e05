"""The paper's Tables II-VI as pandas DataFrames: ours beside the paper's, with the difference.

Pure functions of :class:`ReportInputs` (no file access), so tests and the Prefect flow can
build them from any metrics. Numeric cells stay numeric (NaN where absent) for the CSV files;
:func:`display_frame` turns a table into the strings the Markdown shows ("not run",
"n/a (not found)", "mean ± std").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipeline.reporting import paper
from pipeline.core.constants import SPLITS
from pipeline.models import build_model, count_parameters
from pipeline.reporting.paper import CLASS_NAMES

NOT_RUN = "not run"
TABLE_TITLES: dict[str, str] = {
    "table2_architectures": "Table II - architectures and parameter counts",
    "table3_class_counts": "Table III - class counts per split",
    "table4_accuracy": "Table IV - test accuracy per run",
    "table5_efficiency": "Table V - size, inference memory and latency, grouped by device",
    "table6_literature": "Table VI - our numbers beside the literature values",
}


@dataclass
class ReportInputs:
    """Everything the tables are built from; a missing file is simply an absent key / None."""

    data_source: str
    models: dict[str, dict]
    distill_runs: dict[str, dict]
    baseline_students: list[str]
    seeds: list[int] = field(default_factory=lambda: [0])
    validation: dict | None = None
    training: dict[str, dict] = field(default_factory=dict)  # run id -> models/.../metrics.json
    evaluation: dict[str, dict] = field(default_factory=dict)  # run id -> reports/eval/<id>/metrics.json
    benchmarks: dict[str, dict] = field(default_factory=dict)  # model name -> reports/benchmark/<name>.json
    confusion: dict[str, pd.DataFrame] = field(default_factory=dict)  # run id -> confusion.csv frame

    @property
    def paper_dataset(self) -> str:
        """The paper dataset our data is (or, for synthetic data, stands in for), as validate recorded it."""
        return (self.validation or {}).get("paper_dataset", self.data_source)

    @property
    def real_data(self) -> bool:
        return bool((self.validation or {}).get("real_data", False))


def run_ids(inputs: ReportInputs) -> list[dict[str, Any]]:
    """Table IV's rows in order: teacher, the distillation runs, the baselines."""
    teacher_model = "teacher"
    rows = [{"run": report_key("teacher", "teacher"), "kind": "teacher", "model": teacher_model, "T": None, "alpha": None}]
    for run, cfg in inputs.distill_runs.items():
        loss = cfg.get("loss", {})
        rows.append({"run": report_key("distill", run), "kind": "distill", "model": cfg.get("student"),
                     "T": loss.get("T"), "alpha": loss.get("alpha")})
    for student in inputs.baseline_students:
        rows.append({"run": report_key("baseline", student), "kind": "baseline", "model": student, "T": None,
                     "alpha": None})
    return rows


def report_key(kind: str, run: str) -> str:
    """A run's row name in the tables: the teacher, a distill run id, ``baseline_<student>``.

    Training and evaluation metrics both carry ``kind`` and ``run``, so the report finds them by
    content, not by a path convention shared with dvc.yaml.
    """
    return f"baseline_{run}" if kind == "baseline" else run


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _pct(value: Any) -> float:
    return float("nan") if value is None else 100.0 * float(value)


# --- Table II ---------------------------------------------------------------------------------
def table_architectures(inputs: ReportInputs) -> pd.DataFrame:
    rows = []
    for name, spec in inputs.models.items():
        bench = inputs.benchmarks.get(name) or {}
        ours = bench.get("params") or count_parameters(build_model(spec))
        ref = paper.PAPER_MODELS.get(name, {})
        paper_params = ref.get("params", paper.Ref(None)).value
        paper_size = paper.PAPER_EFFICIENCY.get(name, {}).get("size_mib", paper.Ref(None)).value
        ours_size = paper.fp32_mib(ours)
        rows.append({
            "model": name, "paper_name": ref.get("label", "n/a"), "width": spec.get("width"),
            "se_reduction": spec.get("se_reduction"), "channel_reduction": ref.get("channel_reduction", "n/a"),
            "params": ours, "paper_params": _nan(paper_params),
            "delta_params": _nan(None if paper_params is None else ours - paper_params),
            "size_mib_fp32": ours_size, "paper_size_mib": _nan(paper_size),
            "delta_size_mib": _nan(None if paper_size is None else ours_size - paper_size),
            "paper_source": ref.get("params", paper.Ref(None)).source,
        })
    return pd.DataFrame(rows)


# --- Table III --------------------------------------------------------------------------------
def table_class_counts(inputs: ReportInputs) -> pd.DataFrame:
    counts = (inputs.validation or {}).get("class_counts")
    dataset = inputs.paper_dataset
    paper_counts = paper.PAPER_CLASS_COUNTS.get(dataset, {})
    paper_totals = paper.PAPER_SPLIT_TOTALS.get(dataset, {})
    real = paper.FER2013_KAGGLE_COUNTS if dataset == "FER2013" else {}
    rows = []
    for split in SPLITS:
        ours_split = (counts or {}).get(split)
        for cls in (*CLASS_NAMES, "total"):
            if cls == "total":
                ours = None if ours_split is None else sum(int(ours_split.get(c, 0)) for c in CLASS_NAMES)
                ref = paper_totals.get(split, paper.Ref(None))
                real_n = sum(real[split].values()) if real else None
            else:
                ours = None if ours_split is None else int(ours_split.get(cls, 0))
                ref = paper_counts.get(split, {}).get(cls, paper.Ref(None))
                real_n = real[split][cls] if real else None
            flags = []
            if ref.found and real_n is not None and ref.value != real_n:
                flags.append("paper != real data")
            if split == "test" and dataset == "FER2013":
                flags.append("paper's test column does not match the real data (see note)")
            rows.append({
                "split": split, "class": cls, "ours": _nan(ours), "paper": _nan(ref.value),
                "delta_vs_paper": _nan(None if ours is None or not ref.found else ours - ref.value),
                "real_fer2013": _nan(real_n),
                "delta_vs_real": _nan(None if ours is None or real_n is None else ours - real_n),
                "flag": "; ".join(flags), "paper_source": ref.source,
                "status": "ok" if ours is not None else NOT_RUN,
            })
    return pd.DataFrame(rows)


# --- Table IV ---------------------------------------------------------------------------------
def table_accuracy(inputs: ReportInputs) -> pd.DataFrame:
    dataset = inputs.paper_dataset
    rows = []
    for row in run_ids(inputs):
        run = row["run"]
        trained = inputs.training.get(run) or {}
        evaluated = inputs.evaluation.get(run) or {}
        acc = trained.get("test_acc", evaluated.get("test_acc"))
        acc_std = trained.get("test_acc_std") if "test_acc" in trained else None
        loss = trained.get("test_loss", evaluated.get("test_loss"))
        loss_std = trained.get("test_loss_std") if "test_loss" in trained else None
        same = paper.accuracy_ref(run, dataset)
        ours_pct = _pct(acc)
        status = "ok" if acc is not None else NOT_RUN
        if acc is not None and not trained:
            status = "evaluated only (no training metrics)"
        record = {
            **row,
            "seeds": len(trained.get("seeds") or []) or (1 if evaluated else 0),
            "data_source": inputs.data_source,
            "test_acc": ours_pct, "test_acc_std": _pct(acc_std),
            "test_loss": _nan(loss), "test_loss_std": _nan(loss_std),
            "macro_f1": _nan(evaluated.get("macro_f1")), "ece": _nan(evaluated.get("ece")),
        }
        for name in paper.PAPER_DATASETS:
            record[f"paper_{name}"] = _nan(paper.accuracy_ref(run, name).value)
        record["compared_with"] = f"paper {dataset}"
        record["delta_pp"] = ours_pct - same.value if same.found and acc is not None else float("nan")
        record["comparable"] = bool(inputs.real_data and same.found and acc is not None)
        record["paper_source"] = same.source
        record["status"] = status
        rows.append(record)
    return pd.DataFrame(rows)


# --- Table V ----------------------------------------------------------------------------------
def table_efficiency(inputs: ReportInputs) -> pd.DataFrame:
    """One row per (model, runtime); the device column groups them (never mixed in one group)."""
    rows = []
    for name in inputs.models:
        bench = inputs.benchmarks.get(name)
        ref = paper.PAPER_EFFICIENCY.get(name, {})
        paper_size = ref.get("size_mib", paper.Ref(None))
        paper_mem = ref.get("memory_mib", paper.Ref(None))
        paper_lat = ref.get("latency_ms", paper.Ref(None))
        base = {"model": name, "paper_size_mib": _nan(paper_size.value), "paper_memory_mib": _nan(paper_mem.value),
                "paper_latency_ms": _nan(paper_lat.value)}
        if not bench:
            rows.append({**base, "device": NOT_RUN, "runtime": NOT_RUN, "status": NOT_RUN})
            continue

        def delta(ours, ref_):
            return float("nan") if ours is None or not ref_.found else float(ours) - ref_.value

        size = bench.get("size_mib_fp32")
        torch_row = {
            **base, "device": bench.get("device", "unknown"), "runtime": f"torch {bench.get('torch_version', '')}".strip(),
            "input_size": bench.get("input_size"), "params": bench.get("params"),
            "size_mib_fp32": _nan(size), "delta_size_mib": delta(size, paper_size),
            "file_size_mib": _nan(bench.get("file_size_mib")),
            "gflops_per_image": _nan(None if bench.get("flops_per_image") is None else bench["flops_per_image"] / 1e9),
            "peak_inference_memory_mib": _nan(bench.get("peak_inference_memory_mib")),
            "delta_memory_mib": delta(bench.get("peak_inference_memory_mib"), paper_mem),
            "latency_ms_b1": _nan(bench.get("latency_ms_b1")), "latency_ms_b1_p90": _nan(bench.get("latency_ms_b1_p90")),
            "delta_latency_ms": delta(bench.get("latency_ms_b1"), paper_lat),
            "throughput_img_s": _nan(bench.get("throughput_img_s")),
            "memory_method": bench.get("memory_method", ""), "status": "ok",
        }
        rows.append(torch_row)
        onnx = bench.get("onnx")
        if onnx:
            rows.append({
                **base, "device": onnx.get("device", "onnxruntime"), "runtime": "onnxruntime",
                "input_size": onnx.get("input_size"), "params": bench.get("params"),
                "size_mib_fp32": _nan(size), "delta_size_mib": delta(size, paper_size),
                "file_size_mib": _nan(onnx.get("file_size_mib")),
                "latency_ms_b1": _nan(onnx.get("latency_ms_b1")), "latency_ms_b1_p90": _nan(onnx.get("latency_ms_b1_p90")),
                "delta_latency_ms": delta(onnx.get("latency_ms_b1"), paper_lat),
                "onnx_max_abs_diff": _nan(onnx.get("max_abs_diff_vs_torch")), "status": "ok",
            })
    columns = ["device", "runtime", "model", "input_size", "params", "size_mib_fp32", "paper_size_mib", "delta_size_mib",
               "file_size_mib", "gflops_per_image", "peak_inference_memory_mib", "paper_memory_mib", "delta_memory_mib",
               "latency_ms_b1", "latency_ms_b1_p90", "paper_latency_ms", "delta_latency_ms", "throughput_img_s",
               "onnx_max_abs_diff", "memory_method", "status"]
    return pd.DataFrame(rows).reindex(columns=columns)


# --- Table VI ---------------------------------------------------------------------------------
def table_literature(inputs: ReportInputs, accuracy: pd.DataFrame | None = None) -> pd.DataFrame:
    accuracy = table_accuracy(inputs) if accuracy is None else accuracy
    ours_by_run = dict(zip(accuracy["run"], accuracy["test_acc"]))
    rows = []
    for lit in paper.LITERATURE:
        candidates = [(run, ours_by_run.get(run, float("nan"))) for run in lit.ours]
        done = [(run, acc) for run, acc in candidates if not math.isnan(acc)]
        best_run, best = max(done, key=lambda item: item[1]) if done else (None, float("nan"))
        same_dataset = lit.dataset == inputs.paper_dataset
        if not lit.ours:
            note = "no counterpart in this pipeline"
        elif not done:
            note = NOT_RUN
        elif not same_dataset:
            note = f"ours on {inputs.data_source}, literature on {lit.dataset}: not compared"
        elif not inputs.real_data:
            note = "ours on synthetic data: delta not meaningful"
        else:
            note = ""
        delta = best - lit.accuracy.value if (done and same_dataset and lit.accuracy.found) else float("nan")
        rows.append({"method": lit.method, "dataset": lit.dataset, "literature_acc": _nan(lit.accuracy.value),
                     "our_run": best_run or ("/".join(lit.ours) if lit.ours else "-"),
                     "data_source": inputs.data_source, "ours_acc": best, "delta_pp": delta,
                     "note": note, "literature_source": lit.accuracy.source})
    return pd.DataFrame(rows)


def build_tables(inputs: ReportInputs) -> dict[str, pd.DataFrame]:
    """All report tables by file stem (table2_architectures ... table6_literature)."""
    accuracy = table_accuracy(inputs)
    return {
        "table2_architectures": table_architectures(inputs),
        "table3_class_counts": table_class_counts(inputs),
        "table4_accuracy": accuracy,
        "table5_efficiency": table_efficiency(inputs),
        "table6_literature": table_literature(inputs, accuracy),
    }


# --- display ----------------------------------------------------------------------------------
_SETTING_COLUMNS = frozenset({"T", "alpha", "width", "se_reduction", "input_size", "seeds"})
_COUNT_COLUMNS = frozenset({"ours", "paper", "delta_vs_paper", "real_fer2013", "delta_vs_real",
                            "params", "paper_params", "delta_params"})


def _cell(value: Any, column: str, status: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if column.startswith("paper") or column.startswith("literature"):
            return paper.NOT_FOUND
        if column in _SETTING_COLUMNS:
            return "-"
        if status == NOT_RUN:
            return NOT_RUN
        return "n/a"
    if column in _SETTING_COLUMNS and isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    if column in _COUNT_COLUMNS and isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
        sign = "+" if column.startswith("delta") and value > 0 else ""
        return f"{sign}{int(value):,}"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and abs(value) >= 1000:
            return f"{int(value):,}"
        if column in ("ece", "macro_f1", "test_loss") or "diff" in column:
            return f"{value:.3g}" if "diff" in column else f"{value:.4f}"
        text = f"{value:.2f}"
        if text in ("-0.00", "0.00"):
            return "0.00"
        return ("+" if column.startswith("delta") and value > 0 else "") + text
    return str(value)


def display_frame(table: pd.DataFrame) -> pd.DataFrame:
    """Strings for Markdown: ``x`` with ``x_std`` becomes "mean ± std"; gaps say why they are gaps."""
    out = {}
    statuses = table["status"].astype(str).tolist() if "status" in table else [""] * len(table)
    for column in table.columns:
        if column.endswith("_std") and column[:-4] in table.columns:
            continue
        cells = [_cell(v, column, s) for v, s in zip(table[column].tolist(), statuses)]
        std_col = f"{column}_std"
        if std_col in table.columns:
            stds = table[std_col].tolist()
            cells = [c if (isinstance(sd, float) and math.isnan(sd)) or sd is None else f"{c} ± {_cell(sd, column, '')}"
                     for c, sd in zip(cells, stds)]
        out[column] = cells
    return pd.DataFrame(out)
