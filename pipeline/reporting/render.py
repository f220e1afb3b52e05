"""Write the report from a run's outputs: Tables I-VI (Markdown + CSV), their index, Fig. 4, the summary.

Reads whatever exists: a run that was not trained or evaluated becomes a "not run" cell, never a
crash. Works on the pipeline's own folders (the ``report`` stage) and on any committed run
folder laid out the same way (:func:`run_folder_paths`, e.g. ``reports/examples/fer2013-cpu``).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipeline.core.atomic import atomic_path, write_text
from pipeline.core.runfacts import benchmark_facts_path, read_facts, read_run_facts
from pipeline.reporting import cells, paper
from pipeline.reporting.curves import CURVES_NAME, figure_curves, read_curve
from pipeline.reporting.examples import examples_lines
from pipeline.reporting.summary import summary_markdown
from pipeline.core.naming import RUN_KINDS, run_key  # the paper's runs; EmoXNet has its own report
from pipeline.reporting.model import TABLE_TITLES, ReportInputs, Table, run_ids
from pipeline.reporting.tables import build_tables

FIG4_NAME = "fig4_confusion.png"
MARKDOWN_FILES = {name: f"{name}.md" for name in TABLE_TITLES}  # e.g. table4_accuracy.md
NOTES_WIDTH = 120  # the notes paragraph, wrapped for reading the raw file


def read_json(path: Path) -> dict | None:
    """A report input, or None when it does not exist; invalid JSON is an error naming the file and line."""
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


def runs_under(folder: Path) -> dict[str, tuple[Path, dict]]:
    """{report key: (folder, metrics)} for every ``*/metrics.json`` below ``folder`` that names a run."""
    found: dict[str, tuple[Path, dict]] = {}
    for path in sorted(folder.glob("**/metrics.json")):
        metrics = read_json(path)
        if metrics and metrics.get("kind") in RUN_KINDS and "run" in metrics:
            found[run_key(metrics["kind"], metrics["run"])] = (path.parent, metrics)
    return found


def schedule_of(params: dict[str, Any]) -> dict[str, Any]:
    """The training settings the notes and verdicts need (the paper's differ: see paper.PAPER_TRAINING)."""
    train = params.get("train", {})
    teacher = params.get("teacher", {})
    members = (teacher.get("ensemble") or {}).get("members")
    return {"teacher_epochs": teacher.get("epochs") if not members else None,
            "teacher_members": list(members) if members else None,
            "student_epochs": params.get("student", {}).get("epochs"),
            "input_size": train.get("input_size"), "batch_size": train.get("batch_size"), "lr": train.get("lr")}


def collect_inputs(params: dict[str, Any], validation: str | os.PathLike, models_dir: str | os.PathLike | list,
                   eval_dir: str | os.PathLike, benchmark_dir: str | os.PathLike,
                   run_info: str | os.PathLike | None = None,
                   benchmark_run: str | os.PathLike | None = None) -> ReportInputs:
    """Read every report input that exists; runs are found by the kind/run their metrics carry. Each run's
    facts (device, threads, versions) come from the run.json beside its metrics, the benchmarks' from
    ``benchmark_run`` (default: beside ``benchmark_dir``, :func:`pipeline.core.runfacts.benchmark_facts_path`)."""
    inputs = ReportInputs(
        data_source=params["data"]["source"],
        models=dict(params["models"]),
        distill_runs=dict(params["distill"]["runs"]),
        baseline_students=list(params["baseline"]["students"]),
        seeds=list(params["seeds"]),
        validation=read_json(Path(validation)),
        schedule=schedule_of(params),
        run_info=(read_json(Path(run_info)) or {}) if run_info else {},
    )
    wanted = {row["run"] for row in run_ids(inputs)}
    models_dirs = [models_dir] if isinstance(models_dir, (str, os.PathLike)) else list(models_dir)
    for folder in models_dirs:  # the teacher's, the distilled and the baseline runs' folders (or one parent)
        for key, (run_folder, metrics) in (runs_under(Path(folder)) if Path(folder).is_dir() else {}).items():
            if key in wanted:
                inputs.training[key] = metrics
                inputs.training_facts[key] = read_run_facts(run_folder)
                curve = read_curve(run_folder)
                if curve is not None:
                    inputs.curves[key] = curve
    order = [row["run"] for row in run_ids(inputs)]
    inputs.curves = dict(sorted(inputs.curves.items(), key=lambda item: order.index(item[0])))
    for key, (folder, metrics) in (runs_under(Path(eval_dir)) if Path(eval_dir).is_dir() else {}).items():
        if key in wanted:
            inputs.evaluation[key] = metrics
            inputs.evaluation_facts[key] = read_run_facts(folder)
            frame = _read_confusion(folder / "confusion.csv")
            if frame is not None:
                inputs.confusion[key] = frame
    bench_facts = read_facts(benchmark_run if benchmark_run else benchmark_facts_path(benchmark_dir)).get("models")
    for name in inputs.models:
        bench = read_json(Path(benchmark_dir) / f"{name}.json")
        if bench is not None:
            inputs.benchmarks[name] = bench
            inputs.benchmark_facts[name] = (bench_facts or {}).get(name) or {}
    return inputs


def missing_inputs(inputs: ReportInputs) -> list[str]:
    """Human-readable list of what the report could not find."""
    missing = []
    if inputs.validation is None:
        missing.append("validation.json (Table III has no 'ours' column)")
    for row in run_ids(inputs):
        if row["run"] not in inputs.training and row["run"] not in inputs.evaluation:
            missing.append(f"metrics of {row['run']} (neither training nor evaluation)")
    missing += [f"benchmark of {name}" for name in inputs.models if name not in inputs.benchmarks]
    return missing


def table_markdown(table: Table) -> str:
    """One table's Markdown file: title, its section(s) laid out like the paper's, the notes."""
    lines = [f"# {table.title}", ""]
    for section in table.sections:
        if section.title:
            lines += [f"## {section.title}", ""]
        lines += [cells.markdown(section.header, section.rows, section.right), ""]
    lines += [textwrap.fill(f"Notes: {' '.join(table.notes)}", NOTES_WIDTH, break_on_hyphens=False), ""] \
        if table.notes else []
    return "\n".join(lines)


def index_markdown(tables: dict[str, Table], fig_rel: str | None, summary_rel: str | None) -> str:
    """The tables' folder README: a link per table, Fig. 4, and where the values come from."""
    lines = ["# Tables I-VI: ours beside the paper's", ""]
    if summary_rel:
        lines += [f"The verdicts are in [the reproduction summary]({summary_rel}).", ""]
    lines += ["| table | Markdown | CSV |", "|---|---|---|"]
    lines += [f"| {t.title} | [{n}.md]({n}.md) | [{n}.csv]({n}.csv) |" for n, t in tables.items()]
    lines += ["", "Fig. 4 (confusion matrices): " + (f"[{fig_rel}]({fig_rel})" if fig_rel
                                                     else "not produced: no run evaluated"), "",
              f"Paper values: `pipeline/reporting/paper.py`, copied from the full text of {paper.PAPER}, each with "
              f"its table and row. A paper cell reading n/a is a value the paper does not print; \"-\" a cell "
              "the paper prints as \"-\", or a model with no counterpart.", ""]
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

    from pipeline.evaluation.figures import plot_confusion, save_figure

    cols = min(3, len(frames))
    rows = math.ceil(len(frames) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.6 * rows), squeeze=False)
    # seaborn draws the whole figure once per heatmap: hide the other panels meanwhile (linear, not quadratic).
    for ax in axes.flat:
        ax.set_visible(False)
    for ax, (run, model) in zip(axes.flat, frames):
        metrics = inputs.evaluation.get(run, {})
        acc = metrics.get("test_acc")
        title = f"{run} ({model})" + (f" - {100 * acc:.2f}%" if acc is not None else "")
        class_names = metrics.get("class_names") or (inputs.validation or {}).get("class_names") or paper.CLASS_NAMES
        ax.set_visible(True)
        plot_confusion(ax, inputs.confusion[run], title, class_names, cbar=False)
        ax.set_visible(False)
    for ax in list(axes.flat)[:len(frames)]:
        ax.set_visible(True)
    fig.suptitle(f"Fig. 4 - confusion matrices on the test split (data: {inputs.data_source})")
    save_figure(fig, path, dpi=110)
    return True


def write_report(inputs: ReportInputs, tables_dir: str | os.PathLike, figures_dir: str | os.PathLike,
                 summary_path: str | os.PathLike | None = None,
                 examples_dir: str | os.PathLike | None = None) -> dict[str, Table]:
    """Every table as CSV + Markdown, the tables' index, Fig. 4, the curves and the summary page (with the
    committed run folders under ``examples_dir`` listed on it); returns the tables."""
    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    tables = build_tables(inputs)
    for name, table in tables.items():
        with atomic_path(tables_dir / f"{name}.csv", suffix=".csv") as tmp:
            table.frame.to_csv(tmp, index=False)
        write_text(tables_dir / MARKDOWN_FILES[name], table_markdown(table))
    has_fig = figure_confusion_grid(figures_dir / FIG4_NAME, inputs)
    has_curves = figure_curves(figures_dir / CURVES_NAME, inputs.curves, inputs.data_source)
    summary_rel = None
    if summary_path is not None:
        summary_path = Path(summary_path)
        tables_rel = Path(os.path.relpath(tables_dir, summary_path.parent)).as_posix()
        summary_rel = Path(os.path.relpath(summary_path, tables_dir)).as_posix()
        curves_rel = Path(os.path.relpath(figures_dir / CURVES_NAME, summary_path.parent)).as_posix() \
            if has_curves else None
        examples = examples_lines(examples_dir, summary_path.parent) if examples_dir else None
        write_text(summary_path, summary_markdown(inputs, tables_rel, missing_inputs(inputs), curves_rel, examples))
    fig_rel = Path(os.path.relpath(figures_dir / FIG4_NAME, tables_dir)).as_posix() if has_fig else None
    write_text(tables_dir / "README.md", index_markdown(tables, fig_rel, summary_rel))
    return tables


def pipeline_paths(root: Path) -> dict[str, str]:
    """dvc.yaml's ``vars.paths`` (every artifact path is written there once)."""
    pipeline = yaml.safe_load((root / "dvc.yaml").read_text())
    for entry in pipeline.get("vars", []):
        if isinstance(entry, dict) and "paths" in entry:
            return entry["paths"]
    raise ValueError(f"{root / 'dvc.yaml'}: no vars.paths")


def run_folder_paths(run_dir: str | os.PathLike) -> dict[str, Path]:
    """The inputs and outputs of a committed run folder (e.g. reports/examples/fer2013-cpu/).

    Inputs: params.yaml, validation.json, eval/, benchmark/, optionally models/ (training
    metrics.json files, each with its run facts ``run.json`` beside it), benchmark_run.json (the
    benchmarks' run facts) and run.json ({"profile", "commit", "wall_time"}). Outputs: tables/,
    figures/ and README.md (the summary) in the same folder. Folders committed before the run facts
    were split off carry ``device`` in their metrics instead; they render the same.
    """
    run_dir = Path(run_dir)
    return {"params": run_dir / "params.yaml", "validation": run_dir / "validation.json",
            "models": run_dir / "models", "eval": run_dir / "eval", "benchmarks": run_dir / "benchmark",
            "benchmark_run": benchmark_facts_path(run_dir / "benchmark"),
            "run_info": run_dir / "run.json", "tables": run_dir / "tables", "figures": run_dir / "figures",
            "summary": run_dir / "README.md"}
