"""A paper table declares itself (issue 32): one module with `@paper_table(...)` is written by the report, listed on
the tables' index and the verdict page, and published as a Prefect artifact when it names one."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.reporting import tables as registry
from pipeline.reporting.model import Table
from pipeline.reporting.render import write_report
from tests.reporting.fixtures import make_inputs


def test_the_six_tables_are_found_in_the_papers_order():
    assert list(registry.paper_tables()) == ["table1_model_sizes", "table2_architectures", "table3_class_counts",
                                             "table4_accuracy", "table5_efficiency", "table6_literature"]
    assert {t.artifact for t in registry.paper_tables().values()} - {None} == {"table-iv-accuracy", "table-v-efficiency"}


def test_a_new_table_module_is_all_it_takes(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_TABLES", dict(registry.paper_tables()))

    @registry.paper_table("table7_runs", "Table VII - our runs", order=7, artifact="table-vii-runs")
    def table_vii(inputs):
        records = [{"run": run} for run in inputs.distill_runs]
        return Table("table7_runs", "Table VII - our runs", pd.DataFrame(records), [], ["Ours only."])

    write_report(make_inputs(), tmp_path / "tables", tmp_path / "figures", tmp_path / "README.md")
    assert pd.read_csv(tmp_path / "tables" / "table7_runs.csv")["run"].tolist()[:2] == ["E1", "E2"]
    assert (tmp_path / "tables" / "table7_runs.md").read_text().startswith("# Table VII - our runs")
    assert "[table7_runs.md](table7_runs.md)" in (tmp_path / "tables" / "README.md").read_text()
    assert "- [Table VII - our runs](tables/table7_runs.md)" in (tmp_path / "README.md").read_text()
    assert registry.paper_tables()["table7_runs"].artifact == "table-vii-runs"
    with pytest.raises(ValueError, match="declared twice"):
        registry.paper_table("table7_runs", "again", order=8)(lambda inputs: None)
