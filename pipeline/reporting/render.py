"""Write the report of a run's inputs: Tables I-VI (Markdown + CSV), their index, Fig. 4, the summary.

The inputs come from :mod:`pipeline.reporting.collect` (the pipeline's own folders, or a committed run
folder laid out the same way); a run that was not trained or evaluated is a "not run" cell.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from pipeline.core.atomic import atomic_path, write_text
from pipeline.reporting import cells, paper
from pipeline.reporting.collect import missing_inputs
from pipeline.reporting.curves import CURVES_NAME, figure_curves
from pipeline.reporting.examples import examples_lines
from pipeline.reporting.summary import summary_markdown
from pipeline.reporting.model import ReportInputs, Table, run_ids
from pipeline.reporting.tables import build_tables

FIG4_NAME = "fig4_confusion.png"
NOTES_WIDTH = 120  # the notes paragraph, wrapped for reading the raw file


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
              f"its table and row. A paper cell reading \"-\" is one the paper prints as \"-\" or does not print "
              "(a model, run or quantity it does not have).", ""]
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
        write_text(tables_dir / f"{name}.md", table_markdown(table))
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

