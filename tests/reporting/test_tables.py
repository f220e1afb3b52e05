"""The written report: widths, "not found" only where the paper prints nothing, Table III's flags,
no meaningless deltas on generated data, a committed run folder rendered by the stage, same bytes twice."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.reporting import cells, paper
from pipeline.reporting.render import write_report
from stages import report as report_stage
from tests.reporting.fixtures import make_inputs, repo_params, write_json

SCENARIOS = {
    "generated": dict(source="synthetic", epochs=6),
    "fer2013_seeds": dict(source="fer2013", seeds=3, stds={"teacher": 0.4, "E1": 1.25, "E4": 0.5},
                          accs={"teacher": 79.0, "E1": 76.0, "E4": 65.0, "E6": 57.0, "baseline_student_a": 70.0}),
    "rafdb": dict(source="rafdb", accs={"teacher": 94.0, "E1": 84.0}),
}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def written(request, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp(request.param)
    inputs = make_inputs(**SCENARIOS[request.param])
    write_report(inputs, out / "tables", out / "figures", out / "README.md")
    return out


def _markdown_files(out: Path) -> list[Path]:
    return sorted((out / "tables").glob("*.md")) + [out / "README.md"]


def test_every_table_fits_160_columns(written):
    for path in _markdown_files(written):
        assert cells.widest_table_line(path.read_text()) <= cells.MAX_WIDTH, path.name


def test_the_paper_side_is_its_number_or_a_dash(written):
    """Where the paper prints nothing (Table I's students, Table V's student C) the paper cell is "-", as for a
    model the paper does not have; no cell says "not found"."""
    hits = [(p.name, line) for p in sorted((written / "tables").glob("*.md"))
            for line in p.read_text().splitlines() if "not found" in line]
    assert not hits, hits
    table5 = (written / "tables" / "table5_efficiency.md").read_text()
    row_c = next(line for line in table5.splitlines() if line.startswith("| C (E6)"))
    cells_c = [c.strip() for c in row_c.strip("|").split("|")]
    assert cells_c[2] == "-" and cells_c[5] == "-", row_c  # MiB paper, acc paper


def test_csv_keeps_every_column(written):
    import pandas as pd

    table4 = pd.read_csv(written / "tables" / "table4_accuracy.csv")
    assert {"paper_acc", "delta_pp", "comparable", "macro_f1", "ece", "paper_loss", "seeds"} <= set(table4.columns)
    table5 = pd.read_csv(written / "tables" / "table5_efficiency.csv")
    assert {"paper_memory_mb_FER2013", "paper_latency_ms_RAF-DB", "device", "memory_method"} <= set(table5.columns)


def test_table_iii_flags_the_paper_and_shows_real_deltas(tmp_path):
    write_report(make_inputs("fer2013"), tmp_path / "t", tmp_path / "f")
    text = (tmp_path / "t" / "table3_class_counts.md").read_text()
    happy = next(line for line in text.splitlines() if line.startswith("| Happy"))
    assert "653 ✗ (sad)" in happy and "+242" in happy      # real PublicTest happy 895 vs printed 653
    angry = next(line for line in text.splitlines() if line.startswith("| Angry"))
    assert "✗" not in angry and angry.count("3,995") == 2


def test_generated_data_gets_no_deltas(tmp_path):
    write_report(make_inputs("synthetic", epochs=6), tmp_path / "t", tmp_path / "f", tmp_path / "README.md")
    for name in ("table3_class_counts", "table4_accuracy", "table6_literature"):
        header = next(l for l in (tmp_path / "t" / f"{name}.md").read_text().splitlines() if l.startswith("| "))
        assert "Δ" not in header, name
    table4 = (tmp_path / "t" / "table4_accuracy.md").read_text()
    assert "No Δ: our numbers come from generated data" in " ".join(table4.split()) and "**RAF-DB** (not this run's data)" in table4


def test_the_stage_renders_a_committed_run_folder_twice_identically(tmp_path):
    run = tmp_path / "fer2013-cpu"
    params = repo_params()
    params["data"]["source"] = "fer2013"
    params["teacher"]["epochs"] = 3
    run.mkdir()
    (run / "params.yaml").write_text(yaml.safe_dump(params))
    write_json(run / "validation.json", {"paper_dataset": "FER2013", "real_data": True,
                                         "class_counts": paper.FER2013_REAL_COUNTS})
    write_json(run / "run.json", {"commit": "0123abc", "profile": "profiles/fer2013-cpu.yaml", "wall_time": "58 min"})
    write_json(run / "eval" / "E1" / "metrics.json", {"kind": "distill", "run": "E1", "test_acc": 0.61})
    write_json(run / "benchmark" / "teacher.json", make_inputs().benchmarks["teacher"])
    report_stage.main(["--run-folder", str(run)])
    summary = (run / "README.md").read_text()
    assert "0123abc" in summary and "profiles/fer2013-cpu.yaml" in summary and "58 min" in summary
    assert "| FER2013 E1 (student A)" in summary and "not comparable" in summary
    assert "[the tables](tables/README.md)" in summary
    first = {p.name: p.read_bytes() for p in sorted((run / "tables").iterdir())}
    report_stage.main(["--run-folder", str(run)])
    assert first == {p.name: p.read_bytes() for p in sorted((run / "tables").iterdir())}
