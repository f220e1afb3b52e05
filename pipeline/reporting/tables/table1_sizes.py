"""Table I: the paper's seven FER models plus our teacher and students, sizes in MB (10^6 B) and MiB."""

from __future__ import annotations

from pipeline.reporting import cells, paper
from pipeline.reporting.cells import NONE, NOT_RUN
from pipeline.reporting.layout import our_params
from pipeline.reporting.model import ReportInputs, Table, model_label, paper_student, table_models
from pipeline.reporting.records import Column, diff, frame, nan, section
from pipeline.reporting.tables import paper_table

NAME = "table1_model_sizes"
TITLE = "Table I - model size and parameters"


def _absent(r) -> str:
    return NONE if r["ours_model"] is None else NOT_RUN


COLUMNS = [
    Column("model", lambda r: r["model"], right=False),
    Column("MB paper", lambda r: cells.ref(r["_size_mb"])),
    Column("MB ours", lambda r: cells.num(r["_ours_mb"], absent=_absent(r))),
    Column("Δ MB", lambda r: cells.delta(r["delta_size_mb"])),
    Column("params paper", lambda r: cells.ref(r["_params"])),
    Column("params ours", lambda r: cells.count(r["_ours_params"], absent=_absent(r))),
    Column("Δ params", lambda r: cells.count_delta(r["delta_params"])),
    Column("MiB paper", lambda r: cells.ref(r["_size_mib"]) if r["_size_mib"] else NONE),
    Column("MiB ours", lambda r: cells.num(r["_ours_mib"], absent=_absent(r))),
]


@paper_table(NAME, TITLE, order=1)
def table_i(inputs: ReportInputs) -> Table:
    """Table I's seven FER models, plus our teacher and students, sizes in MB (10^6 B) and MiB."""
    entries = [(row.name, row.size_mb, row.params, row.ours,
                paper.TABLE_V_SIZE["teacher"] if row.ours == "teacher" else None) for row in paper.TABLE_I]
    for name in table_models(inputs):
        arch = paper.TABLE_II.get(name)
        if arch is None:  # a student params adds: ours only
            entries.append((f"{model_label(name)} (ours)", paper.NOT_IN_PAPER, paper.NOT_IN_PAPER, name,
                            paper.NOT_IN_PAPER))
        elif name != "teacher":
            size_mib = next((ref for run, ref in paper.TABLE_V_SIZE.items() if paper_student(run) == name),
                            paper.NOT_IN_TABLE_V)
            no_students = paper.Ref(None, f"{paper.PAPER}: Table I has no students", dash=True)
            entries.append((f"{arch.label} (Tables II, V)", no_students, arch.params, name, size_mib))
    records = []
    for label, size_mb, params, ours_name, size_mib in entries:
        ours_p = our_params(inputs, ours_name) if ours_name in inputs.models else None
        ours_mb = None if ours_p is None else ours_p * 4 / 1e6
        ours_mib = None if ours_p is None else ours_p * 4 / 2**20
        records.append({"model": label, "ours_model": ours_name, "paper_size_mb": nan(size_mb.value),
                        "size_mb": nan(ours_mb), "delta_size_mb": diff(ours_mb, size_mb),
                        "paper_params": nan(params.value), "params": nan(ours_p), "delta_params": diff(ours_p, params),
                        "paper_size_mib": nan(size_mib.value if size_mib else None), "size_mib": nan(ours_mib),
                        "source": params.source,
                        "_size_mb": size_mb, "_params": params, "_size_mib": size_mib, "_ours_mb": ours_mb,
                        "_ours_params": ours_p, "_ours_mib": ours_mib})
    notes = ["Sizes are float32 weights: MB = params x 4 / 10^6 (Table I's unit), MiB = params x 4 / 2^20 "
             "(Table V's unit). Students are not in the paper's Table I: their parameters are Table II's, "
             "their MiB Table V's. Ours: parameters counted on our models (reports/benchmark/*.json).",
             "The other six models have no counterpart here (\"-\"); models marked (ours) are students params.yaml "
             "adds beyond the paper's three (no paper values)."]
    return Table(NAME, TITLE, frame(records), [section(None, records, COLUMNS)], notes)
