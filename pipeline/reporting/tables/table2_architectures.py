"""Table II: channels of the three convs, the SE block, the residual blocks' inputs, and total parameters."""

from __future__ import annotations

from pipeline.reporting import cells, paper
from pipeline.reporting.cells import NONE, NOT_RUN
from pipeline.reporting.layout import model_layout, our_params
from pipeline.reporting.model import ReportInputs, Table, model_label, table_models
from pipeline.reporting.records import Column, diff, frame, nan, section
from pipeline.reporting.tables import paper_table

NAME = "table2_architectures"
TITLE = "Table II - teacher and student architectures"


# A student params adds beyond the paper's three: no printed channels or parameters ("-").
UNPRINTED = paper.Architecture("", None, None, None, paper.NOT_IN_PAPER)


def chans(values, absent: str = NOT_RUN) -> str:
    return ",".join(str(v) for v in values) if values else absent


COLUMNS = [
    Column("model", lambda r: r["paper_label"], right=False),
    Column("CNN ours", lambda r: r["cnn"]),
    Column("CNN paper", lambda r: r["paper_cnn"]),
    Column("SE ours", lambda r: cells.count(r["se"])),
    Column("SE paper", lambda r: NONE if r["paper_se"] is None else str(r["paper_se"])),
    Column("RB ours", lambda r: r["rb"]),
    Column("RB paper", lambda r: r["paper_rb"]),
    Column("params ours", lambda r: cells.count(r["_ours_params"])),
    Column("params paper", lambda r: cells.ref(r["_params"])),
    Column("Δ params", lambda r: cells.count_delta(r["delta_params"])),
]


@paper_table(NAME, TITLE, order=2)
def table_ii(inputs: ReportInputs) -> Table:
    """Channels of the three convs, the SE block, the residual blocks' inputs, and total parameters."""
    records = []
    for name in table_models(inputs):
        arch = paper.TABLE_II.get(name) or UNPRINTED
        layout = (model_layout(inputs.models[name]) if name in inputs.models else None) or {}
        ours_p = our_params(inputs, name) if name in inputs.models else None
        match = (all(layout.get(k) == getattr(arch, k) for k in ("cnn", "se", "rb"))
                 if "cnn" in layout and arch is not UNPRINTED else None)
        records.append({"model": name, "paper_label": model_label(name) + ("" if arch is not UNPRINTED else " (ours)"),
                        "cnn": chans(layout.get("cnn")), "paper_cnn": chans(arch.cnn, NONE), "se": layout.get("se"),
                        "paper_se": arch.se,
                        "rb": chans(layout.get("rb")), "paper_rb": chans(arch.rb, NONE), "params": nan(ours_p),
                        "paper_params": arch.params.value, "delta_params": diff(ours_p, arch.params),
                        "channels_match": match,
                        "source": paper.TABLE_II_SOURCE if arch is not UNPRINTED else arch.params.source,
                        "_ours_params": ours_p, "_params": arch.params})
    notes = ["CNN: output channels of the three convolutions; SE: channels of the squeeze-excitation block; "
             "RB: input channels of the three residual blocks (each doubles them: the teacher's map "
             "256→512→1024→2048). Ours: read off the models built from params.yaml `models`.",
             f"Source: {paper.TABLE_II_SOURCE}."]
    return Table(NAME, TITLE, frame(records), [section(None, records, COLUMNS)], notes)
