"""Table VI: the literature rows as printed, with our accuracy beside the paper's own three rows."""

from __future__ import annotations

from pipeline.reporting import cells, paper
from pipeline.reporting.cells import NONE, NOT_RUN
from pipeline.reporting.layout import our_params
from pipeline.reporting.model import ReportInputs, Table, our_run, student_of
from pipeline.reporting.records import Column, Record, diff, frame, nan, section
from pipeline.reporting.tables import paper_table
from pipeline.reporting.text import data_words, printed_accuracy

NAME = "table6_literature"
TITLE = "Table VI - comparison with the state of the art"


def columns(dataset: str, comparable: bool) -> list[Column]:
    def acc_text(r: Record) -> str:
        ours = r["_ours"]
        return cells.mean_std(r["_acc"], ours.acc_std, seeds=ours.seeds) if r["_acc"] is not None else r["_absent"]

    return [
        Column("method", lambda r: r["method"], right=False),
        Column("FER2013", lambda r: cells.ref(r["_lit"].fer2013)),
        Column("RAF-DB", lambda r: cells.ref(r["_lit"].rafdb)),
        Column("params", lambda r: cells.ref(r["_lit"].params)),
        Column(f"ours acc % ({dataset})", acc_text),
        *([Column("Δ pp", lambda r: cells.delta(r["_gap"]))] if comparable else []),
        Column("ours params", lambda r: cells.count(r["_params"], absent=r["_absent"])),
    ]


@paper_table(NAME, TITLE, order=6)
def table_vi(inputs: ReportInputs) -> Table:
    """The literature rows as printed, with our accuracy beside the paper's own three rows."""
    dataset = inputs.paper_dataset
    comparable = inputs.real_data and dataset in paper.PAPER_DATASETS
    records = []
    for lit in paper.TABLE_VI:
        ours = our_run(inputs, lit.ours) if lit.ours else None
        acc = ours.acc if ours else None
        ref = {"FER2013": lit.fer2013, "RAF-DB": lit.rafdb}.get(dataset, paper.Ref(None))
        params = our_params(inputs, student_of(lit.ours, inputs)) if lit.ours else None
        gap = diff(acc, ref)
        records.append({"method": lit.method, "paper_fer2013": nan(lit.fer2013.value),
                        "paper_rafdb": nan(lit.rafdb.value), "paper_params": nan(lit.params.value),
                        "our_run": lit.ours, "ours_acc": nan(acc), "data_source": inputs.data_source,
                        "delta_pp": gap if comparable else float("nan"), "params": nan(params),
                        "source": lit.fer2013.source.split(":")[0],
                        "_lit": lit, "_ours": ours, "_acc": acc, "_gap": gap, "_params": params,
                        "_absent": NOT_RUN if lit.ours else NONE})
    notes = [f"Ours: {data_words(inputs)}, compared with the paper's {dataset} column"
             + ("" if comparable else " only where the data is the paper's (not here: no Δ)") + ".",
             "\"-\" as printed by the paper (no value). C MT PSR's and C MT VGGFACE's RAF-DB values carry a footnote "
             "mark \"(a)\" that the paper does not explain. Student A (E1) reads "
             f"{paper.TEXT_E1_FER2013.value:.2f} here, "
             f"{printed_accuracy('FER2013', 'E1')} in Tables IV and V."]
    return Table(NAME, TITLE, frame(records), [section(None, records, columns(dataset, comparable))],
                 notes)
