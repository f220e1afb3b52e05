"""DVC stage emoxnet_report: the EmoXNet table (ours beside the paper's) and EmoXNetLite vs Mini-ResEmoteNet.

    python -m stages.emoxnet_report --eval reports/emoxnet/eval --members models/emoxnet/members \
        --teacher models/teacher --lite models/emoxnet/lite --lite-baseline models/emoxnet/lite_baseline \
        --mini-eval reports/eval --mini-benchmarks reports/benchmark --out reports/emoxnet/tables \
        --examples reports/examples

Latencies come from the benchmark stage (reports/benchmark/emoxnet/<model>.json): this stage times
nothing, so re-running it on the same inputs writes the same tables.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.core.atomic import atomic_path, write_text
from pipeline.core.params import emoxnet_section
from pipeline.core.stage import run_stage, stage_parser
from pipeline.params.load import load_params
from pipeline.reporting import emoxnet_runs
from pipeline.reporting.cells import frame_markdown
from pipeline.reporting.emoxnet_page import EmoxnetInputs, build_emoxnet_report

log = logging.getLogger("emoxnet_report")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    for flag in ("--eval", "--members", "--teacher", "--lite", "--lite-baseline", "--mini-eval", "--mini-benchmarks",
                 "--out"):
        parser.add_argument(flag, required=True, type=Path)
    parser.add_argument("--examples", type=Path, help="committed run folders: the EmoXNet ones are listed on the page")
    args = parser.parse_args(argv)
    params = load_params()
    emoxnet_section(params)
    inputs = EmoxnetInputs(args.eval, args.members, args.teacher, args.lite, args.lite_baseline, args.mini_eval,
                           args.mini_benchmarks)
    section = params["emoxnet"]
    architectures = {name: member["model"] for name, member in section["members"].items()}
    architectures["EmoXNetLite"] = section["lite"]["model"]
    report = build_emoxnet_report(inputs, params["data"]["source"], params["benchmark"]["primary_input_size"],
                                  architectures)

    args.out.mkdir(parents=True, exist_ok=True)
    for name, frame in report.tables.items():
        with atomic_path(args.out / f"{name}.csv", suffix=".csv") as tmp:
            frame.to_csv(tmp, index=False)
        write_text(args.out / f"{name}.md", frame_markdown(frame))
    listed = emoxnet_runs.examples_lines(args.examples, args.out) if args.examples else []
    write_text(args.out / "README.md", "\n".join([report.readme.rstrip(), "", *listed]).rstrip() + "\n")
    ensemble, lite, baseline = report.ensemble, report.lite, report.baseline
    log.info("wrote %s: EmoXNet %.4f (gain over best member %+.4f), Lite %s, Lite baseline %s", args.out,
             ensemble["test_acc"], ensemble["gain_over_best_member"], lite and round(lite["test_acc"], 4),
             baseline and round(baseline["test_acc"], 4))


if __name__ == "__main__":
    run_stage(main)
