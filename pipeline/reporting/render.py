"""Write the paper's tables (Markdown + CSV, with an index) and Fig. 4 from the pipeline's outputs.

Reads whatever exists: a run that was not trained or evaluated becomes a "not run" row, never a
crash. Every table says which data source and device its numbers come from.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.core.atomic import atomic_path, write_text
from pipeline.reporting import paper
from pipeline.reporting.tables import NOT_RUN, TABLE_TITLES, ReportInputs, build_tables, display_frame, report_key, run_ids

FIG4_NAME = "fig4_confusion.png"
MARKDOWN_FILES = {name: f"{name}.md" for name in TABLE_TITLES}  # e.g. table4_accuracy.md


def _read_json(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        with open(path) as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc


def _read_confusion(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    frame = pd.read_csv(path)
    missing = {"actual", "predicted"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; expected 'actual,predicted'")
    return frame


RUN_KINDS = ("teacher", "distill", "baseline")


def _runs_under(folder: Path) -> dict[str, tuple[Path, dict]]:
    """{report key: (folder, metrics)} for every ``*/metrics.json`` below ``folder`` that names a run."""
    found: dict[str, tuple[Path, dict]] = {}
    for path in sorted(folder.glob("**/metrics.json")):
        metrics = _read_json(path)
        if metrics and metrics.get("kind") in RUN_KINDS and "run" in metrics:
            found[report_key(metrics["kind"], metrics["run"])] = (path.parent, metrics)
    return found


def collect_inputs(params: dict[str, Any], validation: str | os.PathLike, models_dir: str | os.PathLike,
                   eval_dir: str | os.PathLike, benchmark_dir: str | os.PathLike) -> ReportInputs:
    """Read every report input that exists; runs are found by the kind/run their metrics carry."""
    inputs = ReportInputs(
        data_source=params["data"]["source"],
        models=dict(params["models"]),
        distill_runs=dict(params["distill"]["runs"]),
        baseline_students=list(params["baseline"]["students"]),
        seeds=list(params["seeds"]),
        validation=_read_json(Path(validation)),
    )
    wanted = {row["run"] for row in run_ids(inputs)}
    for key, (_, metrics) in _runs_under(Path(models_dir)).items():
        if key in wanted:
            inputs.training[key] = metrics
    for key, (folder, metrics) in _runs_under(Path(eval_dir)).items():
        if key in wanted:
            inputs.evaluation[key] = metrics
            frame = _read_confusion(folder / "confusion.csv")
            if frame is not None:
                inputs.confusion[key] = frame
    for name in inputs.models:
        bench = _read_json(Path(benchmark_dir) / f"{name}.json")
        if bench is not None:
            inputs.benchmarks[name] = bench
    return inputs


def missing_inputs(inputs: ReportInputs) -> list[str]:
    """Human-readable list of what the report could not find."""
    missing = []
    if inputs.validation is None:
        missing.append("reports/validation.json (Table III has no 'ours' column)")
    elif "class_counts" not in inputs.validation:
        missing.append("reports/validation.json has no 'class_counts' key (Table III has no 'ours' column)")
    for row in run_ids(inputs):
        if row["run"] not in inputs.training:
            missing.append(f"training metrics of {row['run']}")
        if row["run"] not in inputs.evaluation:
            missing.append(f"reports/eval/{row['run']}/metrics.json")
    missing += [f"reports/benchmark/{name}.json" for name in inputs.models if name not in inputs.benchmarks]
    return missing


def data_note(inputs: ReportInputs) -> str:
    if inputs.real_data:
        return (f"Our numbers: data.source = `{inputs.data_source}` (compared with the paper's "
                f"{inputs.paper_dataset} values). Our training settings may differ from the paper's "
                f"(T={paper.PAPER_TRAINING['T']}, SGD lr {paper.PAPER_TRAINING['lr']}, batch "
                f"{paper.PAPER_TRAINING['batch_size']}, {paper.PAPER_TRAINING['epochs']} epochs, 64x64): see params.yaml.")
    return (f"**Our numbers come from data.source = `{inputs.data_source}`, not the paper's data.** "
            f"Deltas against the paper's {inputs.paper_dataset} values are printed for completeness but are "
            "NOT meaningful: they compare different data (and a short default training schedule). They only "
            "show that the pipeline runs end to end.")


def to_markdown(frame: pd.DataFrame) -> str:
    """GitHub Markdown of a display frame; cells are printed as given (no re-parsing of numbers)."""
    return frame.to_markdown(index=False, disable_numparse=True)


def _devices(table: pd.DataFrame) -> list[str]:
    return [d for d in table["device"].dropna().unique().tolist() if d != NOT_RUN]


def table_markdown(name: str, table: pd.DataFrame, inputs: ReportInputs) -> str:
    """One table's Markdown file: title, data source and device, notes, the table(s)."""
    lines = [f"# {TABLE_TITLES[name]}", "", data_note(inputs), ""]
    if name == "table3_class_counts":
        lines += [f"Paper counts: {inputs.paper_dataset} (the paper's Table III). `real_fer2013`: the real "
                  f"FER2013 counts ({paper.KAGGLE_FER2013}; val = PublicTest, test = PrivateTest).",
                  "", f"Note: {paper.PAPER_TEST_COUNTS_NOTE}", ""]
    if name == "table4_accuracy":
        devices = sorted({str(m.get("device")) for m in [*inputs.training.values(), *inputs.evaluation.values()]
                          if m.get("device")})
        lines += ["Accuracy in %, mean ± std over seeds where several were run; `delta_pp` = ours - paper "
                  f"(percentage points) against the paper's {inputs.paper_dataset} value; `comparable` says whether "
                  "that delta compares like with like. macro-F1 and ECE (15 bins) come from the test-set "
                  "evaluation of the saved model.",
                  f"Devices used: {', '.join(devices) if devices else 'n/a'}.", ""]
    if name == "table6_literature":
        lines += ["The paper's full Table VI was not retrievable; these are the literature values found, "
                  "each with its source. Ours: the best of the corresponding runs.", ""]
    if name == "table5_efficiency":
        lines += ["Flat numbers at the input size in `input_size` (the paper's 64x64 by default; "
                  "reports/benchmark/<model>.json also has the training input size). Size = params x 4 B / 2^20. "
                  "Memory = peak increase during one batch-1 forward (method below). Latency = median "
                  "(and p90) batch-1 forward. Paper memory/latency values were not retrievable "
                  "(and were measured on other hardware).", ""]
        methods = sorted({m for m in table["memory_method"].dropna().unique() if m})
        lines += [f"Memory method: {m}" for m in methods] + [""]
        for device in _devices(table) + ([NOT_RUN] if (table["device"] == NOT_RUN).any() else []):
            part = table[table["device"] == device].drop(columns=["memory_method"]).dropna(axis=1, how="all")
            lines += [f"## Device: {device}", "", to_markdown(display_frame(part)), ""]
        return "\n".join(lines)
    lines += [to_markdown(display_frame(table)), ""]
    return "\n".join(lines)


def figure_confusion_grid(path: str | os.PathLike, inputs: ReportInputs) -> bool:
    """Fig. 4: the confusion matrices of every evaluated run in one grid; False if there are none."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = [(row["run"], row["model"]) for row in run_ids(inputs) if row["run"] in inputs.confusion]
    if not frames:  # still write the figure: DVC expects the output, and it says why it is empty
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "Fig. 4: no run has been evaluated yet (reports/eval/*/confusion.csv)", ha="center")
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png", dpi=110)
        plt.close(fig)
        return False

    from pipeline.evaluation.figures import plot_confusion

    cols = min(3, len(frames))
    rows = math.ceil(len(frames) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.6 * rows), squeeze=False)
    for ax, (run, model) in zip(axes.flat, frames):
        metrics = inputs.evaluation.get(run, {})
        acc = metrics.get("test_acc")
        title = f"{run} ({model})" + (f" - {100 * acc:.2f}%" if acc is not None else "")
        class_names = metrics.get("class_names") or (inputs.validation or {}).get("class_names") or paper.CLASS_NAMES
        plot_confusion(ax, inputs.confusion[run], title, class_names, cbar=False)
    for ax in list(axes.flat)[len(frames):]:
        ax.axis("off")
    fig.suptitle(f"Fig. 4 - confusion matrices on the test split (data: {inputs.data_source})")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return True


def write_report(inputs: ReportInputs, tables_dir: str | os.PathLike, figures_dir: str | os.PathLike) -> dict[str, pd.DataFrame]:
    """Every table as CSV + Markdown, the README index, and Fig. 4; returns the tables."""
    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    tables = build_tables(inputs)
    for name, table in tables.items():
        with atomic_path(tables_dir / f"{name}.csv", suffix=".csv") as tmp:
            table.to_csv(tmp, index=False)
        write_text(tables_dir / MARKDOWN_FILES[name], table_markdown(name, table, inputs))
    has_fig = figure_confusion_grid(figures_dir / FIG4_NAME, inputs)
    write_text(tables_dir / "README.md", index_markdown(inputs, tables, has_fig))
    return tables


def index_markdown(inputs: ReportInputs, tables: dict[str, pd.DataFrame], has_fig: bool) -> str:
    devices = sorted({d for d in _devices(tables["table5_efficiency"])} |
                     {str(m["device"]) for m in inputs.evaluation.values() if m.get("device")})
    lines = ["# Report: Mini-ResEmoteNet reproduction, ours beside the papers'", "", data_note(inputs), "",
             f"Devices: {', '.join(devices) if devices else 'n/a'}.", "", "| table | Markdown | CSV |", "|---|---|---|"]
    lines += [f"| {TABLE_TITLES[n]} | [{n}.md]({n}.md) | [{n}.csv]({n}.csv) |" for n in tables]
    lines += ["", f"Fig. 4 (confusion matrices): "
              + (f"[../figures/{FIG4_NAME}](../figures/{FIG4_NAME})" if has_fig else "not produced: no run evaluated"), ""]
    missing = missing_inputs(inputs)
    lines += ["## Missing inputs (rows say \"not run\")", ""] + ([f"- {m}" for m in missing] or ["- none"]) + [""]
    lines += ["## Reference sources", "", "Values not found in a retrievable source print as "
              f"\"{paper.NOT_FOUND}\"; nothing is estimated.", ""]
    sources = sorted({paper.MINI_RESEMOTENET_ABSTRACT, paper.MINI_RESEMOTENET_PROJECT, paper.PWC_LISTING,
                      paper.RESEMOTENET_ABSTRACT, paper.EMOXNET_ABSTRACT, paper.EMONEXT_SOURCE, paper.KAGGLE_FER2013})
    lines += [f"- {s}" for s in sources] + [""]
    return "\n".join(lines)


def render_markdown_tables(tables_dir: str | os.PathLike = "reports/tables") -> dict[str, str]:
    """The written Markdown of every table by name (for the Prefect flow's artifacts)."""
    tables_dir = Path(tables_dir)
    out = {}
    for name, filename in MARKDOWN_FILES.items():
        path = tables_dir / filename
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: run the report stage first (`dvc repro report`)")
        out[name] = path.read_text()
    return out
