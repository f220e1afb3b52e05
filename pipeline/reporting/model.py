"""The report's data model: what the tables are built from (:class:`ReportInputs`), our runs as the tables
need them (:class:`OurRun`), and what a table is (:class:`Table`, :class:`Section`). No file access."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from pipeline.core.naming import RunKind, run_key
from pipeline.reporting import paper
from pipeline.reporting.noise import NOT_MEASURED, CrossCpuBand


@dataclass
class ReportInputs:
    """Everything the tables are built from; a missing file is simply an absent key / None."""

    data_source: str
    models: dict[str, dict]
    distill_runs: dict[str, dict]
    baseline_students: list[str]
    seeds: list[int] = field(default_factory=lambda: [0])
    validation: dict | None = None
    training: dict[str, dict] = field(default_factory=dict)  # run key -> models/.../metrics.json
    evaluation: dict[str, dict] = field(default_factory=dict)  # run key -> reports/eval/<id>/metrics.json
    benchmarks: dict[str, dict] = field(default_factory=dict)  # model name -> reports/benchmark/<name>.json
    confusion: dict[str, pd.DataFrame] = field(default_factory=dict)  # run key -> confusion.csv frame
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)  # run key -> accuracy per epoch (reporting.curves)
    schedule: dict[str, Any] = field(default_factory=dict)  # teacher_epochs, student_epochs, input_size, ...
    run_info: dict[str, Any] = field(default_factory=dict)  # optional run.json: profile, commit, wall time
    # Run facts (pipeline.core.runfacts: device, threads, versions), kept beside the metrics above, not in them:
    training_facts: dict[str, dict] = field(default_factory=dict)  # run key -> run.json beside its training metrics
    evaluation_facts: dict[str, dict] = field(default_factory=dict)  # run key -> run.json beside its evaluation
    benchmark_facts: dict[str, dict] = field(default_factory=dict)  # model name -> its entry of benchmark_run.json
    cross_cpu_band: CrossCpuBand = NOT_MEASURED  # the committed measurement (pipeline.reporting.noise)

    @property
    def paper_dataset(self) -> str:
        """The paper dataset our data is (or, for generated data, stands in for), as validate recorded it."""
        return (self.validation or {}).get("paper_dataset", self.data_source)

    @property
    def real_data(self) -> bool:
        return bool((self.validation or {}).get("real_data", False))


def run_ids(inputs: ReportInputs) -> list[dict[str, Any]]:
    """Our runs in order: teacher, the distillation runs, the baselines."""
    rows = [{"run": "teacher", "kind": RunKind.TEACHER, "model": "teacher", "T": None, "alpha": None}]
    for run, cfg in inputs.distill_runs.items():
        loss = cfg.get("loss", {})
        rows.append({"run": run, "kind": RunKind.DISTILL, "model": cfg.get("student"),
                     "T": loss.get("T"), "alpha": loss.get("alpha")})
    for student in inputs.baseline_students:
        rows.append({"run": run_key(RunKind.BASELINE, student), "kind": RunKind.BASELINE, "model": student,
                     "T": None, "alpha": None})
    return rows


@dataclass
class OurRun:
    """One of our runs as the tables need it: accuracy in %, its seed spread, loss, settings."""

    run: str
    model: str | None
    T: float | None = None
    alpha: float | None = None
    acc: float | None = None
    acc_std: float | None = None
    loss: float | None = None
    seeds: int = 0
    macro_f1: float | None = None
    ece: float | None = None


def our_run(inputs: ReportInputs, run: str) -> OurRun | None:
    """Our numbers for one run (None if it is not one of this run's configured runs)."""
    spec = next((r for r in run_ids(inputs) if r["run"] == run), None)
    if spec is None:
        return None
    trained = inputs.training.get(run) or {}
    evaluated = inputs.evaluation.get(run) or {}
    acc = trained.get("test_acc", evaluated.get("test_acc"))
    seeds = len(trained.get("seeds") or []) or (1 if acc is not None else 0)
    return OurRun(run, spec["model"], spec["T"], spec["alpha"],
                  None if acc is None else 100 * acc,
                  None if trained.get("test_acc_std") is None else 100 * trained["test_acc_std"],
                  trained.get("test_loss", evaluated.get("test_loss")), seeds,
                  evaluated.get("macro_f1"), evaluated.get("ece"))


def seed_spread(ours: OurRun) -> float:
    return ours.acc_std if ours.seeds > 1 and ours.acc_std is not None else 0.0


def paper_student(run: str) -> str | None:
    """The model of one of the paper's runs (Table IV's FER2013 block lists every run)."""
    return next((r.student for r in paper.TABLE_IV["FER2013"] if r.run == run), None)


def table_models(inputs: ReportInputs) -> list[str]:
    """The models the size and architecture tables list: the paper's (Table II's order), then every other
    model this run's distillation runs and baselines train (params.yaml decides; a new student needs no code)."""
    trained = [r["model"] for r in run_ids(inputs) if r["model"]]
    extra = [name for name in dict.fromkeys(trained) if name not in paper.TABLE_II and name in inputs.models]
    return list(paper.TABLE_II) + extra


def student_letter(name: str | None) -> str | None:
    """The paper's letter of a student: A-C from Table II's labels, "D" for a ``student_d`` params adds."""
    if name in paper.TABLE_II and name != "teacher":
        return paper.TABLE_II[name].label[-2]  # "Student Model (A)"
    if name and name.startswith("student_") and name != "student_":
        return name.removeprefix("student_").upper()
    return None


def model_label(name: str | None) -> str:
    """A model's name in the paper's style: Table II's label, "Student Model (D)" for params' ``student_d``."""
    if name in paper.TABLE_II:
        return paper.TABLE_II[name].label
    letter = student_letter(name)
    return f"Student Model ({letter})" if letter else name or "?"


def efficiency_runs(inputs: ReportInputs) -> dict[str, str]:
    """Table V's rows, run -> label: the teacher, then one run per student of Tables I/II: the paper's Table V run
    where it has one (E1 for A, E4 for B), else the student's first distillation run in params, else the paper's
    run of it (E6 for C), else its baseline."""
    rows = {"teacher": paper.TABLE_V_MODELS["teacher"]}
    printed = {paper_student(run): run for run in paper.TABLE_V_MODELS if run != "teacher"}
    for name in table_models(inputs):
        if name == "teacher":
            continue
        ours = [r for r, cfg in inputs.distill_runs.items() if cfg.get("student") == name]
        theirs = [r.run for r in paper.TABLE_IV["FER2013"] if r.student == name]
        run = printed.get(name) or next(iter(ours + theirs), run_key(RunKind.BASELINE, name))
        rows[run] = f"{student_letter(name) or name} ({run})"
    return rows


def student_of(run: str, inputs: ReportInputs) -> str:
    """Our model of a run: the teacher, the student a distill run names, or the paper's student of that run."""
    if run == "teacher":
        return "teacher"
    cfg = inputs.distill_runs.get(run)
    return cfg.get("student") if cfg else paper_student(run)


@dataclass
class Section:
    """One Markdown table of a report table (a report table may hold several, e.g. per dataset)."""

    title: str | None
    header: list[str]
    rows: list[list[str]]
    right: list[bool] | None = None


@dataclass
class Table:
    name: str           # file stem, e.g. table4_accuracy
    title: str
    frame: pd.DataFrame  # every column, for the CSV
    sections: list[Section]
    notes: list[str]
