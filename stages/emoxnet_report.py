"""DVC stage emoxnet_report: the EmoXNet table (ours beside the paper's) and EmoXNetLite vs Mini-ResEmoteNet.

    python -m stages.emoxnet_report --eval reports/emoxnet/eval --members models/emoxnet/members \
        --teacher models/teacher --lite models/emoxnet/lite --lite-baseline models/emoxnet/lite_baseline \
        --mini-eval reports/eval --mini-benchmarks reports/benchmark --out reports/emoxnet/tables

Latencies come from the benchmark stage (reports/benchmark/emoxnet/<model>.json): this stage times
nothing, so re-running it on the same inputs writes the same tables.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.core.atomic import atomic_path, write_text
from pipeline.core.params import load_params
from pipeline.core.stage import run_stage, stage_parser
from pipeline.ensemble.section import emoxnet_section
from pipeline.reporting.emoxnet import Speed, emoxnet_table, lite_vs_mini, speed_from_benchmark, to_markdown
from pipeline.reporting.render import read_json

log = logging.getLogger("emoxnet_report")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    for flag in ("--eval", "--members", "--teacher", "--lite", "--lite-baseline", "--mini-eval", "--mini-benchmarks",
                 "--out"):
        parser.add_argument(flag, required=True, type=Path)
    args = parser.parse_args(argv)
    params = load_params()
    emoxnet_section(params)
    bench = params["benchmark"]
    size = bench["primary_input_size"]
    ensemble = read_json(args.eval / "ensemble" / "metrics.json")
    if ensemble is None:
        raise FileNotFoundError(f"{args.eval / 'ensemble' / 'metrics.json'} not found: run `dvc repro emoxnet_ensemble`")
    lite, baseline = read_json(args.eval / "lite" / "metrics.json"), read_json(args.eval / "lite_baseline" / "metrics.json")

    section = params["emoxnet"]
    checkpoints = {name: (args.members / name / "model.pt", section["members"][name]["model"])
                   for name in ensemble["members"] if name != "teacher"}
    checkpoints["EmoXNetLite"] = (args.lite / "model.pt", section["lite"]["model"])
    speeds: dict[str, Speed] = {}
    teacher_bench = read_json(args.mini_benchmarks / "teacher.json")
    if "teacher" in ensemble["members"]:
        if teacher_bench is not None and teacher_bench.get("input_size") == size:
            speeds["teacher"] = Speed(teacher_bench["params"], teacher_bench["flops_per_image"],
                                      teacher_bench["latency_ms_b1"])
        else:
            raise FileNotFoundError(f"{args.mini_benchmarks / 'teacher.json'}: no teacher benchmark at {size}x{size}; "
                                    "run `dvc repro benchmark`")
    for name, (path, model_name) in checkpoints.items():
        speeds[name] = speed_from_benchmark(path, size, read_json(args.mini_benchmarks / "emoxnet" / f"{model_name}.json"))
    speeds["EmoXNetLite baseline"] = speeds["EmoXNetLite"]  # the same network

    dataset = params["data"]["source"]
    table = emoxnet_table(ensemble, lite, baseline, speeds, dataset, size)
    mini = {}
    for metrics_path in sorted(args.mini_eval.glob("*/metrics.json")):
        metrics = read_json(metrics_path)
        report = read_json(args.mini_benchmarks / f"{metrics.get('model')}.json")
        if report is not None and report.get("input_size") == size:
            mini[metrics_path.parent.name] = (metrics, report)
    lites = {name: (m, speeds["EmoXNetLite"]) for name, m in (("EmoXNetLite", lite), ("EmoXNetLite baseline", baseline))
             if m is not None}
    comparison = lite_vs_mini(lites, mini)

    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("emoxnet", table), ("lite_vs_mini_resemotenet", comparison)):
        with atomic_path(args.out / f"{name}.csv", suffix=".csv") as tmp:
            frame.to_csv(tmp, index=False)
        write_text(args.out / f"{name}.md", to_markdown(frame))
    write_text(args.out / "README.md", summary(ensemble, lite, baseline, dataset, size, table, comparison))
    log.info("wrote %s: EmoXNet %.4f (gain over best member %+.4f), Lite %s, Lite baseline %s", args.out,
             ensemble["test_acc"], ensemble["gain_over_best_member"], lite and round(lite["test_acc"], 4),
             baseline and round(baseline["test_acc"], 4))


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
    lines += ["", "## EmoXNet", "", to_markdown(table), "## EmoXNetLite vs Mini-ResEmoteNet", "",
              "Accuracy (%) per million parameters and per millisecond of batch-1 latency.", "", to_markdown(comparison)]
    return "\n".join(lines)


if __name__ == "__main__":
    run_stage(main)
