"""Made-up report inputs: any data source, seeds, schedule and accuracies, without running anything."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from pipeline.reporting import paper
from pipeline.reporting.model import ReportInputs

REPO = Path(__file__).resolve().parents[2]
PAPER_TEXT = REPO.parent / "shared" / "papers" / paper.PAPER_TEXT_FILE
SOURCES = {"synthetic": ("FER2013", False), "fer2013": ("FER2013", True), "rafdb": ("RAF-DB", True)}


def repo_params() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


def benchmark(name: str, params: int, memory: float, latency: float) -> dict:
    """A benchmark report as the stage writes it (where it ran is its run facts, :func:`facts`)."""
    return {"model": name, "params": params, "size_mib_fp32": params * 4 / 2**20, "input_size": 64,
            "peak_inference_memory_mib": memory, "latency_ms_b1": latency, "memory_method": "CPU: test method"}


def facts(device: str = "cpu: test (2 threads)") -> dict:
    """Run facts (pipeline.core.runfacts) of a run on ``device``."""
    return {"device": device, "threads": 2, "torch": "2.x", "python": "3.11.7"}


def make_inputs(source: str = "fer2013", accs: dict[str, float] | None = None, stds: dict[str, float] | None = None,
                seeds: int = 1, epochs: int = 80, counts: dict | None = None, device: str = "cpu: test (2 threads)",
                ) -> ReportInputs:
    """ReportInputs as collect_inputs would build them; ``accs`` in % by run id."""
    params = repo_params()
    dataset, real = SOURCES[source]
    accs = accs if accs is not None else {"teacher": 79.0, "E1": 76.0, "E4": 65.0}
    inputs = ReportInputs(
        data_source=source, models=params["models"], distill_runs=params["distill"]["runs"],
        baseline_students=params["baseline"]["students"], seeds=list(range(seeds)),
        validation={"paper_dataset": dataset, "real_data": real,
                    "class_counts": counts or {s: dict(c) for s, c in paper.FER2013_REAL_COUNTS.items()}},
        schedule={"teacher_epochs": epochs, "student_epochs": epochs, "input_size": 64, "batch_size": 16,
                  "lr": 0.001})
    for run, acc in accs.items():
        kind = "teacher" if run == "teacher" else "baseline" if run.startswith("baseline_") else "distill"
        inputs.training[run] = {"kind": kind, "run": run, "seeds": list(range(seeds)), "test_acc": acc / 100,
                                "test_acc_std": (stds or {}).get(run, 0.0) / 100, "test_loss": 0.9}
        inputs.training_facts[run] = facts(device)
    sizes = {"teacher": 80_238_599, "student_a": 20_069_383, "student_b": 5_022_215, "student_c": 1_259_911}
    for (name, n), mem, lat in zip(sizes.items(), (24.0, 23.0, 14.0, 13.0), (20.0, 6.0, 2.0, 0.7)):
        inputs.benchmarks[name] = benchmark(name, n, mem, lat)
        inputs.benchmark_facts[name] = facts(device)
    return inputs


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
