"""DVC stage `report`: the paper's Tables II-VI (reports/tables/*.md + *.csv, README.md index) and Fig. 4."""

from __future__ import annotations

import logging

from stages.common import load_params, run_stage

log = logging.getLogger("report")


def main() -> None:
    from pipeline.reporting import collect_inputs, missing_inputs, write_report

    inputs = collect_inputs(".", load_params())
    tables = write_report(inputs, "reports/tables", "reports/figures")
    for item in missing_inputs(inputs):
        log.warning("missing input: %s", item)
    log.info("wrote %d tables to reports/tables and Fig. 4 to reports/figures", len(tables))


if __name__ == "__main__":
    run_stage(main)
