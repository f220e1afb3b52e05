"""The paper's Tables I-VI, laid out like the paper's own, with ours beside each printed value.

Pure functions of :class:`ReportInputs` (no file access), so tests can build them from made-up
metrics. Each table is its own module (``table1_sizes`` ... ``table6_literature``) that builds one
list of row records, rendered to the CSV frame and to the Markdown sections a reader sees
(``ours | paper | Δ`` per quantity; :mod:`pipeline.reporting.records`), plus the notes line that
holds what does not vary from row to row. The data model is :mod:`pipeline.reporting.model`.

This module keeps the names other modules import from it (``from pipeline.reporting.tables import ...``).
"""

from __future__ import annotations

from pipeline.core.naming import run_key as report_key  # the former second name of run_key, kept for importers
from pipeline.reporting.layout import model_layout, our_params
from pipeline.reporting.model import (TABLE_TITLES, OurRun, ReportInputs, Section, Table, our_run, paper_student,
                                      run_ids, seed_spread, student_of)
from pipeline.reporting.table1_sizes import table_i
from pipeline.reporting.table2_architectures import table_ii
from pipeline.reporting.table3_class_counts import table_iii
from pipeline.reporting.table4_accuracy import table_iv
from pipeline.reporting.table5_efficiency import TABLE_V_RUNS, table_v
from pipeline.reporting.table6_literature import table_vi
from pipeline.reporting.text import data_words, devices, schedule_words

__all__ = ["TABLE_TITLES", "TABLE_V_RUNS", "OurRun", "ReportInputs", "Section", "Table", "build_tables", "data_words",
           "devices", "model_layout", "our_params", "our_run", "paper_student", "report_key", "run_ids",
           "schedule_words", "seed_spread", "student_of", "table_i", "table_ii", "table_iii", "table_iv", "table_v",
           "table_vi"]


def build_tables(inputs: ReportInputs) -> dict[str, Table]:
    """All report tables by file stem (table1_model_sizes ... table6_literature)."""
    tables = [table_i(inputs), table_ii(inputs), table_iii(inputs), table_iv(inputs), table_v(inputs), table_vi(inputs)]
    return {t.name: t for t in tables}
