"""The paper's Tables I-VI, laid out like the paper's own, with ours beside each printed value.

Pure functions of :class:`ReportInputs` (no file access), so tests can build them from made-up
metrics. Each table is its own module (``table1_sizes`` ... ``table6_literature``) that builds one
list of row records, rendered to the CSV frame and to the Markdown sections a reader sees
(``ours | paper | Δ`` per quantity; :mod:`pipeline.reporting.records`), plus the notes line that
holds what does not vary from row to row. The data model is :mod:`pipeline.reporting.model`; import
each name from the module that defines it.
"""

from __future__ import annotations

from pipeline.reporting.model import ReportInputs, Table
from pipeline.reporting.table1_sizes import table_i
from pipeline.reporting.table2_architectures import table_ii
from pipeline.reporting.table3_class_counts import table_iii
from pipeline.reporting.table4_accuracy import table_iv
from pipeline.reporting.table5_efficiency import table_v
from pipeline.reporting.table6_literature import table_vi


def build_tables(inputs: ReportInputs) -> dict[str, Table]:
    """All report tables by file stem (table1_model_sizes ... table6_literature)."""
    tables = [table_i(inputs), table_ii(inputs), table_iii(inputs), table_iv(inputs), table_v(inputs), table_vi(inputs)]
    return {t.name: t for t in tables}
