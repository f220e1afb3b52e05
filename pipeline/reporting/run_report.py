"""One run's whole report from its paths: read the inputs, write tables, figures and summary, say what was missing.

The report stage does this on the pipeline's folders or a committed run folder
(``stages.report --run-folder``); a snapshot does it on the run folder it has just filled. Both
call :func:`write_run_report`, so a run folder renders the same whichever made it.
"""

from __future__ import annotations

import logging
import os
from typing import Mapping

from pipeline.params.load import load_params
from pipeline.reporting.collect import collect_inputs, missing_inputs
from pipeline.reporting.cross_dataset import write_cross_dataset
from pipeline.reporting.model import Table
from pipeline.reporting.render import write_report

log = logging.getLogger("report")


def write_run_report(paths: Mapping[str, str | os.PathLike | list | None], examples: str | os.PathLike | None = None,
                     cross_eval: str | os.PathLike | None = None) -> dict[str, Table]:
    """The report of ``paths`` (keys as :func:`pipeline.reporting.collect.run_folder_paths` gives them; ``run_info``,
    ``benchmark_run`` and ``cross_cpu_band`` optional), with the committed run folders under ``examples`` listed
    on the summary and the cross-dataset table from ``cross_eval``; returns the tables."""
    inputs = collect_inputs(load_params(paths["params"]), paths["validation"], paths["models"], paths["eval"],
                            paths["benchmarks"], paths.get("run_info"), paths.get("benchmark_run"),
                            paths.get("cross_cpu_band"))
    tables = write_report(inputs, paths["tables"], paths["figures"], paths["summary"], examples)
    if cross_eval and write_cross_dataset(cross_eval, paths["tables"]):
        log.info("wrote the cross-dataset table from %s", cross_eval)
    for item in missing_inputs(inputs):
        log.warning("missing input: %s", item)
    log.info("wrote %d tables to %s, Fig. 4 to %s, the summary to %s", len(tables), paths["tables"],
             paths["figures"], paths["summary"])
    return tables
