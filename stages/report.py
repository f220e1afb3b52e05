"""DVC stage report: Tables I-VI (Markdown + CSV, index), Fig. 4 and the one-page reproduction summary.

    python -m stages.report --validation reports/validation.json --models models/teacher models/distill \
        models/baseline --eval reports/eval \
        --benchmarks reports/benchmark --tables reports/tables --figures reports/figures \
        --summary reports/README.md

A committed run folder (params.yaml, validation.json, eval/, benchmark/, optional models/ and
run.json) is rendered in place with ``python -m stages.report --run-folder reports/examples/<run>``.

A reviewer's table-level diff (pipeline/reporting/compare.py) prints Table IV at a git revision beside
the working tree's (or ``--against`` another revision), with Δ and whether each row moved beyond noise
(the seed spread, else the measured cross-CPU band: pipeline/reporting/noise.py):

    uv run python -m stages.report --compare main
"""

from __future__ import annotations

from pipeline.core.params import PARAMS_FILE
from pipeline.core.stage import run_stage, stage_parser
from pipeline.reporting.collect import run_folder_paths
from pipeline.reporting.compare import compare
from pipeline.reporting.run_report import write_run_report

FLAGS = (("--validation", "validation report (.json)"), ("--models", "folder of training runs"),
         ("--eval", "folder of evaluations"), ("--benchmarks", "folder of benchmark reports"),
         ("--tables", "output folder for the tables"), ("--figures", "output folder for Fig. 4"),
         ("--summary", "output file for the reproduction summary (.md)"))


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    for flag, what in FLAGS:
        parser.add_argument(flag, help=what, nargs="+" if flag == "--models" else None)
    parser.add_argument("--params", default=str(PARAMS_FILE), help="params file of the run (default params.yaml)")
    parser.add_argument("--run-info", help="optional run.json: profile, commit, wall_time")
    parser.add_argument("--benchmark-run", help="the benchmarks' run facts (device, threads, versions; default: "
                        "<benchmarks>_run.json, beside the folder)")
    parser.add_argument("--cross-cpu-band", help="the measured cross-CPU band (.json; absent: not measured), the "
                        "noise band of the gain claims where one seed ran")
    parser.add_argument("--run-folder", help="render a committed run folder in place (sets every path)")
    parser.add_argument("--cross-eval", help="folder of cross_evaluate outputs (adds the cross-dataset table)")
    parser.add_argument("--examples", help="folder of committed run folders, listed with their claims on the summary")
    parser.add_argument("--compare", metavar="REV", help="print Table IV at git revision REV beside the working tree's")
    parser.add_argument("--against", metavar="REV", help="with --compare: this revision instead of the working tree")
    args = parser.parse_args(argv)
    if args.compare:
        print(compare(".", args.compare, args.against))
        return
    paths = run_folder_paths(args.run_folder) if args.run_folder else {
        "params": args.params, "run_info": args.run_info, "benchmark_run": args.benchmark_run,
        "cross_cpu_band": args.cross_cpu_band,
        **{f[2:]: getattr(args, f[2:]) for f, _ in FLAGS}}
    absent = [f for f, _ in FLAGS if not paths.get(f[2:])]
    if absent:
        parser.error(f"missing {', '.join(absent)} (or give --run-folder)")
    write_run_report(paths, None if args.run_folder else args.examples, args.cross_eval)


if __name__ == "__main__":
    run_stage(main)
