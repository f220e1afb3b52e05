"""Table IV: test accuracy and loss per run, in the paper's FER2013 and RAF-DB blocks; our extra runs last."""

from __future__ import annotations

from typing import Any

from pipeline.reporting import cells, paper
from pipeline.reporting.cells import NONE, NOT_RUN
from pipeline.reporting.model import ReportInputs, Table, our_run, run_ids, student_letter
from pipeline.reporting.records import Column, Record, diff, frame, heading, nan, section
from pipeline.reporting.tables import paper_table
from pipeline.reporting.text import data_words, devices, printed_accuracy, schedule_words

NAME = "table4_accuracy"
TITLE = "Table IV - experimental results on FER2013 and RAF-DB"


def _setting(ours: Any, printed: Any, fmt: str) -> str:
    """T or alpha: ours, with the paper's beside it only where they differ."""
    if ours is None and printed is None:
        return NONE
    if ours is None:
        return format(printed, fmt)
    text = format(float(ours), fmt)
    return text if printed is None or float(ours) == float(printed) else f"{text} (paper {format(printed, fmt)})"


def row_label(run: str, model: str | None) -> str:
    """A row label in the paper's style for a run the paper does not have (baselines, extra runs)."""
    letter = student_letter(model)
    name = f"Student Model {letter}" if letter else (model or "?")
    return f"Baseline: {name} (CE, no teacher)" if run.startswith("baseline_") else f"{run}: {name}"


def teacher_label(inputs: ReportInputs, ref) -> str:
    """The paper's teacher row, or ours when our teacher is an ensemble of trained models (params teacher.ensemble)."""
    members = inputs.schedule.get("teacher_members")
    if members:
        return f"Teacher: ensemble of {len(members)} (paper: ResEmoteNet)"
    return ref.label if ref else row_label("teacher", "teacher")


def _acc_text(r: Record) -> str:
    ours = r["_ours"]
    if ours and ours.acc is not None:
        return cells.mean_std(ours.acc, ours.acc_std, seeds=ours.seeds)
    return r["_absent"]


def columns(comparable: bool) -> list[Column]:
    def opt(r, attr):
        return getattr(r["_ours"], attr) if r["_ours"] else None

    def printed(r, attr):
        return getattr(r["_paper"], attr) if r["_paper"] else None

    return [
        Column("run", lambda r: r["_label"], right=False),
        Column("T", lambda r: _setting(opt(r, "T"), printed(r, "T"), "g")),
        Column("α", lambda r: _setting(opt(r, "alpha"), printed(r, "alpha"), ".2f")),
        Column("acc % ours", _acc_text),
        Column("paper", lambda r: cells.ref(r["_acc_ref"]) if r["_paper"] else NONE),
        *([Column("Δ pp", lambda r: cells.delta(r["delta_pp"]))] if comparable else []),
        Column("loss ours", lambda r: cells.num(opt(r, "loss"), 4, absent=r["_absent"])),
        Column("paper", lambda r: cells.ref(r["_loss_ref"], 4) if r["_paper"] else NONE),
    ]


@paper_table(NAME, TITLE, order=4, artifact="table-iv-accuracy",
             artifact_title="Table IV - accuracy of teacher, distilled and baseline students")
def table_iv(inputs: ReportInputs) -> Table:
    """Test accuracy and loss per run, in the paper's FER2013 and RAF-DB blocks; our extra runs last."""
    comparable = inputs.real_data
    cols = columns(comparable)
    records: list[Record] = []
    datasets = list(paper.PAPER_DATASETS)
    if inputs.paper_dataset not in datasets:
        datasets.append(inputs.paper_dataset)
    for dataset in datasets:
        mine = dataset == inputs.paper_dataset
        records.append(heading(f"**{dataset}**" + ("" if mine else " (not this run's data)"), len(cols)))
        printed = {r.run: r for r in paper.TABLE_IV.get(dataset, ())}
        order = list(printed) + ([r["run"] for r in run_ids(inputs) if r["run"] not in printed] if mine else [])
        for run in order:
            ref = printed.get(run)
            ours = our_run(inputs, run) if mine else None
            acc_ref = ref.accuracy if ref else paper.Ref(None, f"{paper.PAPER}: no such run")
            loss_ref = ref.loss if ref else acc_ref
            records.append({
                "dataset": dataset, "run": run, "paper_label": ref.label if ref else None,
                "model": ours.model if ours else (ref.student if ref else None),
                "T": nan(ours.T if ours else None), "paper_T": nan(ref.T if ref else None),
                "alpha": nan(ours.alpha if ours else None), "paper_alpha": nan(ref.alpha if ref else None),
                "test_acc": nan(ours.acc if ours else None), "test_acc_std": nan(ours.acc_std if ours else None),
                "seeds": ours.seeds if ours else 0, "paper_acc": nan(acc_ref.value),
                "delta_pp": diff(None if ours is None else ours.acc, acc_ref), "comparable": bool(comparable and mine),
                "test_loss": nan(ours.loss if ours else None), "paper_loss": nan(loss_ref.value),
                "macro_f1": nan(ours.macro_f1 if ours else None), "ece": nan(ours.ece if ours else None),
                "data_source": inputs.data_source if mine else None, "source": acc_ref.source,
                "_ours": ours, "_paper": ref, "_acc_ref": acc_ref, "_loss_ref": loss_ref,
                "_label": teacher_label(inputs, ref) if run == "teacher" and mine else
                          ref.label if ref else row_label(run, ours.model), "_absent": NOT_RUN if mine else NONE})
    seeds = inputs.seeds
    notes = [f"Ours: {data_words(inputs)}; {schedule_words(inputs)}; seed(s) {', '.join(map(str, seeds))}"
             + (" (accuracy: mean ± std)" if len(seeds) > 1 else "")
             + f"; device: {', '.join(devices(inputs)) or 'n/a'}.",
             "Accuracy: test split" + (" (FER2013 PrivateTest)" if inputs.paper_dataset == "FER2013" else "")
             + ". Loss: our plain (unweighted) test cross-entropy; the paper's "
             "loss column mixes scales (E1 and E4 on another scale than the other runs), so it gets no Δ.",
             f"FER2013 E1: compared with Tables IV/V's {printed_accuracy('FER2013', 'E1')} (the abstract, text and "
             f"Table VI say {paper.TEXT_E1_FER2013.value:.2f}). RAF-DB: the tables' {printed_accuracy('RAF-DB', 'E1')} / "
             f"{printed_accuracy('RAF-DB', 'E4')} (the text says {paper.TEXT_RAFDB['E1'].value:.2f} / "
             f"{paper.TEXT_RAFDB['E4'].value:.2f}). Macro-F1 and ECE are in the CSV."]
    if not comparable:
        notes.insert(1, "No Δ: our numbers come from generated data and a short schedule, so a difference from "
                        "the paper's measures nothing; they only show that the pipeline runs end to end.")
    return Table(NAME, TITLE, frame(records), [section(None, records, cols)], notes)
