"""The committed real-data runs listed, with their measured claims, on the default run's verdict page."""

from __future__ import annotations

import shutil

from pipeline.reporting.examples import examples_lines, run_folders
from tests.helpers import REPO_ROOT

EXAMPLE = REPO_ROOT / "reports" / "examples" / "fer2013-cpu"


def test_each_run_folder_is_listed_with_the_claims_it_measured(tmp_path):
    examples = tmp_path / "reports" / "examples"
    shutil.copytree(EXAMPLE, examples / "fer2013-cpu")
    (examples / "notes").mkdir()  # not a run folder (no params.yaml / validation.json): skipped
    (examples / "notes" / "README.md").write_text("x")
    assert [f.name for f in run_folders(examples)] == ["fer2013-cpu"]
    lines = examples_lines(examples, tmp_path / "reports")
    text = "\n".join(lines)
    assert lines[0] == "## Committed real-data runs"
    assert "[fer2013-cpu](examples/fer2013-cpu/README.md)" in text
    assert "FER2013 E6 (student C): ours 31.79, paper 58.58" in text  # the folder's own evaluation
    assert "Strong teacher helps: E1 vs student_a alone: ours +2.95 pp" in text  # teacher above each baseline
    assert "RAF-DB" not in text and "Parameters," not in text  # not measured there / the same everywhere


def test_no_examples_folder_adds_no_section(tmp_path):
    assert examples_lines(tmp_path / "absent", tmp_path) == []
