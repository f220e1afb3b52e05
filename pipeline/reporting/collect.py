"""Find and read a run's report inputs: the pipeline's own folders or a committed run folder.

Reads whatever exists: a run that was not trained or evaluated is simply absent from
:class:`ReportInputs` (its cells read "not run"), never a crash. Kept apart from the writing
(:mod:`pipeline.reporting.render`) so that what only reads a run (a run folder's claims on the
summary page, a snapshot, ``--compare``) does not depend on what writes one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from pipeline.core.naming import RUN_KINDS, run_key  # the paper's runs; EmoXNet has its own report
from pipeline.core.runfacts import benchmark_facts_path, read_facts, read_run_facts
from pipeline.reporting.curves import read_curve
from pipeline.reporting.model import ReportInputs, run_ids
from pipeline.reporting.noise import read_band


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
            "input_size": train.get("input_size"), "batch_size": train.get("batch_size"), "lr": train.get("lr"),
            "portable_kernels": train.get("portable_kernels")}  # a cross-CPU band depends on it (None: not recorded)


def collect_inputs(params: dict[str, Any], validation: str | os.PathLike, models_dir: str | os.PathLike | list,
                   eval_dir: str | os.PathLike, benchmark_dir: str | os.PathLike,
                   run_info: str | os.PathLike | None = None,
                   benchmark_run: str | os.PathLike | None = None,
                   cross_cpu_band: str | os.PathLike | None = None) -> ReportInputs:
    """Read every report input that exists; runs are found by the kind/run their metrics carry. Each run's
    facts (device, threads, versions) come from the run.json beside its metrics, the benchmarks' from
    ``benchmark_run`` (default: beside ``benchmark_dir``, :func:`pipeline.core.runfacts.benchmark_facts_path`);
    the cross-CPU band from ``cross_cpu_band`` (:mod:`pipeline.reporting.noise`; None or absent: not measured)."""
    inputs = ReportInputs(
        data_source=params["data"]["source"],
        models=dict(params["models"]),
        distill_runs=dict(params["distill"]["runs"]),
        baseline_students=list(params["baseline"]["students"]),
        seeds=list(params["seeds"]),
        validation=read_json(Path(validation)),
        schedule=schedule_of(params),
        run_info=(read_json(Path(run_info)) or {}) if run_info else {},
        cross_cpu_band=read_band(cross_cpu_band),
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
