"""A new student is a params change only (issue 32): `models.student_d`, a distill run E7 for it and
`student_d` in `baseline.students` give Tables I, II, IV and V rows and the verdict page's gain row, the
paper's cells "-" where the paper has no such model. Fast: made-up inputs; the long test runs `dvc repro`."""

from __future__ import annotations

import json

import pytest

from pipeline.reporting.render import write_report
from tests.helpers import dvc, project_copy, tiny
from tests.reporting.fixtures import benchmark, make_inputs

STUDENT_D = {"family": "resemotenet", "width": 0.0625, "se_reduction": 1}


def add_student_d(params: dict) -> None:
    """Exactly what the issue says a user adds to params.yaml."""
    params["models"]["student_d"] = dict(STUDENT_D)
    params["distill"]["runs"]["E7"] = {"student": "student_d", "loss": {"name": "kd", "T": 3, "alpha": 0.2}}
    params["baseline"]["students"].append("student_d")


def rows(text: str, start: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith(start)]


def check_tables(out) -> None:
    tables = out / "tables"
    (size,) = rows((tables / "table1_model_sizes.md").read_text(), "| Student Model (D) (ours)")
    assert size[1] == "-" and size[4] == "-" and size[5] not in ("-", "not run")  # paper: none; ours: counted
    (arch,) = rows((tables / "table2_architectures.md").read_text(), "| Student Model (D) (ours)")
    assert arch[1] == "4,8,16" and arch[2] == "-" and arch[3] == "16" and arch[4] == "-"
    table4 = (tables / "table4_accuracy.md").read_text()
    assert rows(table4, "| E7: Student Model D") and rows(table4, "| Baseline: Student Model D (CE, no teacher)")
    (eff,) = rows((tables / "table5_efficiency.md").read_text(), "| D (E7)")
    assert eff[1] not in ("-", "not run") and eff[2] == "-"
    verdict = (out / "README.md").read_text()
    assert [line for line in verdict.splitlines() if line.startswith("|") and "helps: E7 vs student_d alone" in line]


def test_student_d_in_params_reaches_every_table_that_lists_models(tmp_path):
    inputs = make_inputs(accs={"teacher": 79.0, "E7": 52.0, "baseline_student_d": 50.0})
    params = {"models": inputs.models | {}, "distill": {"runs": dict(inputs.distill_runs)},
              "baseline": {"students": list(inputs.baseline_students)}}
    add_student_d(params)
    inputs.models, inputs.distill_runs = params["models"], params["distill"]["runs"]
    inputs.baseline_students = params["baseline"]["students"]
    inputs.benchmarks["student_d"] = benchmark("student_d", 316_199, 12.0, 0.5)
    write_report(inputs, tmp_path / "tables", tmp_path / "figures", tmp_path / "README.md")
    check_tables(tmp_path)
    assert "(D)" not in (tmp_path / "tables" / "table5_efficiency.md").read_text().split("## RAF-DB")[1]


STAGES = ("generate", "validate", "prepare", "class_weights", "emoxnet_member", "train_teacher", "soft_targets", "distill",
          "train_student", "evaluate_teacher", "evaluate_distill", "evaluate_baseline", "benchmark", "report")


def tiny_with_student_d(params: dict) -> None:
    tiny(params)
    add_student_d(params)


@pytest.mark.long
def test_dvc_repro_with_student_d_added_to_params_only(tmp_path):
    repo = project_copy(tmp_path / "repo", tiny_with_student_d, stages=STAGES)
    dvc(repo, "repro")
    assert json.loads((repo / "reports/eval/E7/metrics.json").read_text())["test_acc"] >= 0
    check_tables(repo / "reports")
