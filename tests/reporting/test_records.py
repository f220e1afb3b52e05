"""Each table builds one list of row records: its CSV rows and its Markdown rows are the same records."""

from __future__ import annotations

import pytest

from pipeline.reporting import records
from pipeline.reporting.records import Column, heading
from pipeline.reporting.tables import build_tables
from tests.reporting.fixtures import make_inputs


def test_markdown_only_rows_stay_out_of_the_csv_and_private_keys_too():
    rows = [heading("**FER2013**", 2), {"run": "E1", "acc": 51.0, "_label": "E1: Student Model A"}]
    cols = [Column("run", lambda r: r["_label"], right=False), Column("acc", lambda r: f"{r['acc']:.2f}")]
    assert list(records.frame(rows).columns) == ["run", "acc"] and len(records.frame(rows)) == 1
    section = records.section(None, rows, cols)
    assert section.rows == [["**FER2013**", ""], ["E1: Student Model A", "51.00"]]
    assert section.right == [False, True]


@pytest.mark.parametrize("source", ["fer2013", "synthetic", "rafdb"])
def test_every_table_shows_each_csv_row_once_in_its_markdown(source):
    for name, table in build_tables(make_inputs(source=source)).items():
        shown = sum(len(s.rows) for s in table.sections)
        if name == "table3_class_counts":  # one Markdown row per class and dataset, one CSV row per split cell
            splits = table.frame.groupby("dataset")["split"].nunique()
            assert len(table.frame) == sum(splits[d] * (len(s.rows)) for d, s in zip(splits.index, table.sections))
        elif name == "table4_accuracy":  # plus one heading row per dataset block
            assert shown == len(table.frame) + table.frame["dataset"].nunique()
        elif name == "table5_efficiency":  # plus the paper-only block of the other dataset
            assert len(table.sections[0].rows) == len(table.frame)
        else:
            assert shown == len(table.frame), name
