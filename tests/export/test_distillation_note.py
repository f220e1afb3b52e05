"""The release card says what distillation gave: `python -m pipeline.export.release --distillation CSV` reads a
committed run folder's Table IV, records each distilled student beside itself alone, rewrites the card and
leaves the model files as they were."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from pipeline.export.distillation_note import distillation_summary
from tests.helpers import REPO_ROOT, subprocess_env

RUN_FOLDER = REPO_ROOT / "reports/examples/fer2013-strong-teacher"
TABLE4 = RUN_FOLDER / "tables/table4_accuracy.csv"


def test_the_command_records_the_pairs_and_rewrites_only_the_card(tmp_path):
    release = shutil.copytree(REPO_ROOT / "release", tmp_path / "release")
    before = {p.name: p.read_bytes() for p in release.glob("*.onnx")}
    subprocess.run([sys.executable, "-m", "pipeline.export.release", "--out", str(release), "--distillation",
                    str(TABLE4)], cwd=REPO_ROOT, env=subprocess_env(), check=True, capture_output=True)
    assert {p.name: p.read_bytes() for p in release.glob("*.onnx")} == before
    note = json.loads((release / "fer2013.json").read_text())["distillation"]
    assert {p["run"] for p in note["pairs"]} >= {"E6"} and note["teacher_acc"] > max(
        p["alone"]["acc"] for p in note["pairs"])
    card = (release / "fer2013.md").read_text()
    e6 = next(p for p in note["pairs"] if p["run"] == "E6")
    row = next(line for line in card.splitlines() if line.startswith("| E6 | student_c |"))
    assert f"{e6['distilled']['acc']:.2f} ± {e6['distilled']['std']:.2f} %" in row
    assert f"{e6['distilled']['acc'] - e6['alone']['acc']:+.2f} pp" in row
    assert "No distilled student beats this release" in card  # the release (66.01 %) is above every pair here


def test_a_table_without_a_pair_is_refused_by_name(tmp_path):
    lines = TABLE4.read_text().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if ",baseline_" not in line]
    (tmp_path / "table4.csv").write_text("\n".join(kept) + "\n")
    with pytest.raises(ValueError, match="table4.csv: no distillation run beside the same student"):
        distillation_summary(tmp_path / "table4.csv")
