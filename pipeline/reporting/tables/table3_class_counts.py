"""Table III: class counts per split as printed; FER2013 cells that disagree with the real counts are flagged.

One record per (dataset, split, class) cell: the CSV lists them, the Markdown lays them out as the
paper does (a row per class, a column group per split).
"""

from __future__ import annotations

from pipeline.reporting import cells, paper
from pipeline.reporting.model import ReportInputs, Section, Table
from pipeline.reporting.records import Record, diff, frame, nan
from pipeline.reporting.tables import paper_table
from pipeline.reporting.text import data_words
from pipeline.sources.registry import sources

NAME = "table3_class_counts"
TITLE = "Table III - class-wise data distribution"


def _real_match(split: str, value: float) -> str | None:
    """The real FER2013 class whose count the paper's misplaced cell actually is."""
    hits = [c for c, n in paper.FER2013_REAL_COUNTS[split].items() if n == value]
    return hits[0] if hits else None


def _our_counts(inputs: ReportInputs, dataset: str) -> dict[str, dict[str, int]] | None:
    """Our class counts in the paper's columns, as our source maps its splits to them (RAF-DB's train column =
    our train + our val slice); a source we no longer have maps each split to itself."""
    counts = (inputs.validation or {}).get("class_counts")
    if not counts or dataset != inputs.paper_dataset:
        return None
    source = sources().get(inputs.data_source)
    columns = source.paper_splits if source else {split: (split,) for split in counts}
    return {column: {c: sum(int(counts[s].get(c, 0)) for s in ours if s in counts) for c in paper.CLASS_NAMES}
            for column, ours in columns.items() if any(s in counts for s in ours)}


def _records(inputs: ReportInputs, dataset: str, columns: dict) -> list[Record]:
    ours = _our_counts(inputs, dataset)
    compare = ours is not None and inputs.real_data
    records = []
    for cls in (*paper.TABLE_III_ROWS, "total"):
        for split, refs in columns.items():
            ref = paper.TABLE_III_TOTALS[dataset][split] if cls == "total" else refs[cls]
            mine = None
            if ours is not None and split in ours:
                mine = (sum(int(ours[split].get(c, 0)) for c in paper.CLASS_NAMES) if cls == "total"
                        else int(ours[split].get(cls, 0)))
            real = None
            if dataset == "FER2013":
                real_split = paper.FER2013_REAL_COUNTS[split]
                real = sum(real_split.values()) if cls == "total" else real_split[cls]
            wrong = real is not None and ref.value != real
            mark = ""
            if wrong:
                hit = _real_match(split, ref.value)
                mark = f" ✗ ({hit})" if hit else " ✗"
            records.append({"dataset": dataset, "split": split, "class": cls, "paper": ref.value, "ours": nan(mine),
                            "delta": diff(mine, ref) if compare else float("nan"), "real_fer2013": nan(real),
                            "paper_disagrees_with_real": wrong, "source": ref.source,
                            "_ref": ref, "_mine": mine, "_mark": mark, "_has_ours": ours is not None,
                            "_compare": compare})
    return records


def _section(inputs: ReportInputs, dataset: str, columns: dict, records: list[Record]) -> Section:
    """The paper's layout of one dataset's records: a row per class, ours / paper / Δ per split."""
    has_ours, compare = records[0]["_has_ours"], records[0]["_compare"]
    header, right = ["class"], [False]
    for split in columns:
        word = paper.TABLE_III_HEADERS[dataset][split]
        if has_ours:
            header += [f"{word} ours", "paper"] + (["Δ"] if compare else [])
            right += [True, True] + ([True] if compare else [])
        else:
            header += [f"{word} paper"]
            right += [True]
    rows = []
    for cls in (*paper.TABLE_III_ROWS, "total"):
        row = [cls.capitalize() if cls != "total" else "Total per set"]
        for r in (r for r in records if r["class"] == cls):
            printed = cells.ref(r["_ref"]) + r["_mark"]
            if has_ours:
                row += [cells.count(r["_mine"]), printed] + ([cells.count_delta(r["delta"])] if compare else [])
            else:
                row.append(printed)
        rows.append(row)
    title = (f"{dataset}: ours, {data_words(inputs)}, beside the paper" if has_ours
             else f"{dataset}: the paper's counts (this run's data is not {dataset})")
    return Section(title, header, rows, right)


@paper_table(NAME, TITLE, order=3)
def table_iii(inputs: ReportInputs) -> Table:
    """Class counts per split as printed; FER2013 cells that disagree with the real counts are flagged."""
    records, sections = [], []
    for dataset, columns in paper.TABLE_III.items():
        block = _records(inputs, dataset, columns)
        records += block
        sections.append(_section(inputs, dataset, columns, block))
    notes = [f"Rows in the paper's order. Ours: reports/validation.json `class_counts` ({data_words(inputs)}); "
             "our val = FER2013 PublicTest, test = PrivateTest; RAF-DB Training = our train + our val slice."]
    if not inputs.real_data:
        notes.append("No Δ: our counts are of generated data, so differences from the paper's mean nothing.")
    if any(r["paper_disagrees_with_real"] for r in records):
        notes.append("✗ (class): the paper's cell differs from the real FER2013 count "
                     f"({paper.FER2013_REAL_SOURCE}) and equals the real count of (class): the Public/Private "
                     "Test columns sit on the wrong rows. Their totals "
                     f"({paper.TABLE_III_TOTALS['FER2013']['test'].value:,}) are right.")
    return Table(NAME, TITLE, frame(records), sections, notes)
