"""The report stage's definition: the summary page is one of its outputs, and nobody else's."""

from __future__ import annotations

import pytest
import yaml

from tests.reporting.fixtures import REPO


def test_report_stage_writes_the_summary_page():
    dvc = yaml.safe_load((REPO / "dvc.yaml").read_text())
    paths = dvc["vars"][0]["paths"]
    stage = dvc["stages"]["report"]
    assert paths["summary"] == "reports/README.md"
    assert "--summary ${paths.summary}" in stage["cmd"]
    outs = [next(iter(o)) if isinstance(o, dict) else o for o in stage["outs"]]
    assert outs == ["${paths.tables}", "${paths.figures}", "${paths.summary}"]
    for name, other in dvc["stages"].items():
        if name != "report":
            declared = [next(iter(o)) if isinstance(o, dict) else o for o in other.get("outs", [])]
            assert "${paths.summary}" not in declared and "reports" not in declared, name
    for key in ("teacher.epochs", "student.epochs", "train.input_size"):
        assert key in stage["params"]


def table_body(path) -> str:
    """A rendered table file without its title line: what README pastes."""
    return path.read_text().split("\n", 2)[2].strip()


def test_readme_shows_the_default_runs_table_iv_as_written():
    table = table_body(REPO / "reports" / "tables" / "table4_accuracy.md")
    readme = (REPO / "docs" / "results.md").read_text()
    assert table in readme, ("docs/results.md's 'Table IV, default run' differs from reports/tables/table4_accuracy.md: "
                             "paste the file's table and notes (everything below its title) into docs/results.md")


def test_readme_shows_the_real_fer2013_examples_table_iv_as_rendered():
    """docs/results.md's real-FER2013 Table IV is the committed example run's, as `stages.report --run-folder` renders it."""
    table = table_body(REPO / "reports/examples/fer2013-cpu/tables/table4_accuracy.md")
    assert table in (REPO / "docs" / "results.md").read_text(), (
        "docs/results.md's 'Table IV, real FER2013' differs from reports/examples/fer2013-cpu/tables/table4_accuracy.md")


@pytest.mark.parametrize(("run", "with_table_iv"), [("fer2013-converged", True), ("fer2013-converged-c60", True),
                                                   ("fer2013-converged-c60-seed1", False)])
def test_readme_shows_the_converged_runs_table_iv_and_curves_as_rendered(run: str, with_table_iv: bool):
    """docs/results.md's converged real-FER2013 runs: their Table IV and training-curves tables are the committed folders'."""
    folder = REPO / "reports/examples" / run
    readme = (REPO / "docs" / "results.md").read_text()
    assert not with_table_iv or table_body(folder / "tables/table4_accuracy.md") in readme, (
        f"docs/results.md's Table IV of {run} differs from reports/examples/{run}/tables")
    page = (folder / "README.md").read_text()
    start = page.index("| run ", page.index("## Training curves"))
    curves = page[start:page.index("\n\n", start)]
    assert curves in readme, f"docs/results.md's training-curves table of {run} differs from the folder's README.md"
