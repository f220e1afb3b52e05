"""The emoxnet_report stage's work: gather the evaluations and the benchmark stage's latencies, build
both tables and the index page. The stage entry only parses, loads params, calls :func:`build_emoxnet_report`, writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pipeline.benchmark.speed import Speed, benchmarked_speed
from pipeline.reporting.cells import frame_markdown
from pipeline.reporting.emoxnet import emoxnet_table, lite_vs_mini
from pipeline.reporting.collect import read_json


@dataclass(frozen=True)
class EmoxnetInputs:
    """Where the stage reads from (dvc.yaml's paths)."""

    eval: Path
    members: Path
    teacher: Path
    lite: Path
    lite_baseline: Path
    mini_eval: Path
    mini_benchmarks: Path


@dataclass(frozen=True)
class EmoxnetReport:
    tables: dict[str, pd.DataFrame]  # file stem -> table (written as .csv and .md)
    readme: str
    ensemble: dict[str, Any]
    lite: dict[str, Any] | None
    baseline: dict[str, Any] | None


def gather_speeds(inputs: EmoxnetInputs, members: list[str], architectures: dict[str, str], size: int) -> dict[str, Speed]:
    """Speed of every member and of the Lite at ``size``: the teacher's is Table V's report; the others'
    params and FLOPs are counted on their checkpoints, their latency read from the benchmark stage's
    ``emoxnet/<architecture>.json`` (``architectures``: row -> params ``emoxnet.models`` key)."""
    speeds: dict[str, Speed] = {}
    if "teacher" in members:
        bench = read_json(inputs.mini_benchmarks / "teacher.json")
        if bench is None or bench.get("input_size") != size:
            raise FileNotFoundError(f"{inputs.mini_benchmarks / 'teacher.json'}: no teacher benchmark at "
                                    f"{size}x{size}; run `dvc repro benchmark`")
        speeds["teacher"] = Speed(bench["params"], bench["flops_per_image"], bench["latency_ms_b1"])
    checkpoints = {name: inputs.members / name / "model.pt" for name in members if name != "teacher"}
    checkpoints["EmoXNetLite"] = inputs.lite / "model.pt"
    for name, path in checkpoints.items():
        report = read_json(inputs.mini_benchmarks / "emoxnet" / f"{architectures[name]}.json")
        speeds[name] = benchmarked_speed(path, size, report)
    speeds["EmoXNetLite baseline"] = speeds["EmoXNetLite"]  # the same network
    return speeds


def mini_rows(inputs: EmoxnetInputs, size: int) -> dict[str, tuple[dict, dict]]:
    """run -> (eval metrics, benchmark report) of every Mini-ResEmoteNet run benchmarked at ``size``."""
    rows = {}
    for metrics_path in sorted(inputs.mini_eval.glob("*/metrics.json")):
        metrics = read_json(metrics_path)
        report = read_json(inputs.mini_benchmarks / f"{metrics.get('model')}.json")
        if report is not None and report.get("input_size") == size:
            rows[metrics_path.parent.name] = (metrics, report)
    return rows


def build_emoxnet_report(inputs: EmoxnetInputs, dataset: str, size: int, architectures: dict[str, str]) -> EmoxnetReport:
    ensemble = read_json(inputs.eval / "ensemble" / "metrics.json")
    if ensemble is None:
        raise FileNotFoundError(f"{inputs.eval / 'ensemble' / 'metrics.json'} not found: run `dvc repro emoxnet_ensemble`")
    lite = read_json(inputs.eval / "lite" / "metrics.json")
    baseline = read_json(inputs.eval / "lite_baseline" / "metrics.json")
    speeds = gather_speeds(inputs, list(ensemble["members"]), architectures, size)
    table = emoxnet_table(ensemble, lite, baseline, speeds, dataset, size)
    lites = {name: (m, speeds["EmoXNetLite"]) for name, m in (("EmoXNetLite", lite), ("EmoXNetLite baseline", baseline))
             if m is not None}
    comparison = lite_vs_mini(lites, mini_rows(inputs, size))
    return EmoxnetReport({"emoxnet": table, "lite_vs_mini_resemotenet": comparison},
                         summary(ensemble, lite, baseline, dataset, size, table, comparison), ensemble, lite, baseline)


def summary(ensemble, lite, baseline, dataset, size, table, comparison) -> str:
    """The index page: both tables and the two comparisons the issue asks for, in words."""
    best = ensemble["best_member"]
    lines = [f"# EmoXNet / EmoXNetLite (arXiv:2106.16126) on `{dataset}`", "",
             f"Test accuracy on `{dataset}`; latency: batch 1 at {size}x{size} on this machine. The paper's values "
             "are on FER2013 with FER+ labels and on RAF-DB (abstract only); they are comparable only when "
             "`data.source` is ferplus or rafdb.", "",
             f"- Ensemble ({ensemble['rule']}) vs its best member ({best}): "
             f"{100 * ensemble['test_acc']:.2f}% vs {100 * ensemble['members'][best]['test_acc']:.2f}% "
             f"({100 * ensemble['gain_over_best_member']:+.2f} points)."]
    if lite is not None and baseline is not None:
        lines.append(f"- EmoXNetLite vs the same net on plain CE: {100 * lite['test_acc']:.2f}% vs "
                     f"{100 * baseline['test_acc']:.2f}% ({100 * (lite['test_acc'] - baseline['test_acc']):+.2f} points).")
    lines += ["", "## EmoXNet", "", frame_markdown(table), "## EmoXNetLite vs Mini-ResEmoteNet", "",
              "Accuracy (%) per million parameters and per millisecond of batch-1 latency.", "",
              frame_markdown(comparison)]
    return "\n".join(lines)
