"""DVC stage report: the paper's tables (reports/tables/*.md + *.csv, README.md index) and Fig. 4.

    python -m stages.report --validation reports/validation.json --models models --eval reports/eval \
        --benchmarks reports/benchmark --tables reports/tables --figures reports/figures
"""

from __future__ import annotations

import logging

from pipeline.core.params import load_params
from pipeline.core.stage import run_stage, stage_parser
from pipeline.reporting.render import collect_inputs, missing_inputs, write_report

log = logging.getLogger("report")


def main(argv=None) -> None:
    parser = stage_parser(__doc__)
    for flag, what in (("--validation", "validation report (.json)"), ("--models", "folder of training runs"),
                       ("--eval", "folder of evaluations"), ("--benchmarks", "folder of benchmark reports"),
                       ("--tables", "output folder for the tables"), ("--figures", "output folder for Fig. 4")):
        parser.add_argument(flag, required=True, help=what)
    args = parser.parse_args(argv)
    inputs = collect_inputs(load_params(), args.validation, args.models, args.eval, args.benchmarks)
    tables = write_report(inputs, args.tables, args.figures)
    for item in missing_inputs(inputs):
        log.warning("missing input: %s", item)
    log.info("wrote %d tables to %s and Fig. 4 to %s", len(tables), args.tables, args.figures)


if __name__ == "__main__":
    run_stage(main)
