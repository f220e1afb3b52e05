"""dvc.yaml + params.yaml: the stage names the default and the grid profiles expand to."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.params.profiles import apply_profile
from tests.helpers import REPO_ROOT, dvc

PAPER_RUNS = {"E1": ("student_a", 3, 0.20), "E2": ("student_a", 3, 0.15), "E3": ("student_b", 3, 0.20),
              "E4": ("student_b", 3, 0.15), "E5": ("student_b", 3, 0.10), "E6": ("student_c", 3, 0.20)}
DEFAULT_RUNS = tuple(PAPER_RUNS)  # every Table IV row in the default run (issue 19)
STUDENTS = ("student_a", "student_b", "student_c")


def stage_names(root: Path) -> set[str]:
    return set(dvc(root, "stage", "list", "--name-only").stdout.split())


@pytest.fixture
def pipeline_copy(tmp_path: Path) -> Path:
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    shutil.copytree(REPO_ROOT / "profiles", tmp_path / "profiles")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    dvc(tmp_path, "init", "-q")
    return tmp_path


def run_table(params: dict) -> dict[str, tuple]:
    assert all(v["loss"]["name"] == "kd" for v in params["distill"]["runs"].values())
    return {k: (v["student"], v["loss"]["T"], v["loss"]["alpha"]) for k, v in params["distill"]["runs"].items()}


def test_default_params_hold_every_paper_run_and_baseline():
    runs = run_table(yaml.safe_load((REPO_ROOT / "params.yaml").read_text()))
    assert runs == PAPER_RUNS
    assert yaml.safe_load((REPO_ROOT / "params.yaml").read_text())["baseline"]["students"] == list(STUDENTS)


def test_paper_profile_holds_all_six_paper_runs(pipeline_copy: Path):
    apply_profile(pipeline_copy / "profiles/paper.yaml", pipeline_copy / "params.yaml")
    assert run_table(yaml.safe_load((pipeline_copy / "params.yaml").read_text())) == PAPER_RUNS
    assert {f"distill@{r}" for r in PAPER_RUNS} <= stage_names(pipeline_copy)
    assert {f"train_student@{s}" for s in STUDENTS} <= stage_names(pipeline_copy)


def test_default_pipeline_expands_to_one_stage_per_run_model_and_baseline(pipeline_copy: Path):
    names = stage_names(pipeline_copy)
    expected = ({"generate", "validate", "prepare", "class_weights", "train_teacher", "soft_targets",
                 "evaluate_teacher", "benchmark", "report", "export"}
                | {f"distill@{r}" for r in DEFAULT_RUNS} | {f"evaluate_distill@{r}" for r in DEFAULT_RUNS}
                | {f"train_student@{s}" for s in STUDENTS}
                | {f"evaluate_baseline@{s}" for s in STUDENTS}
                | {"emoxnet_member@vgg13", "emoxnet_member@resnet18", "emoxnet_ensemble", "emoxnet_lite",
                   "emoxnet_lite_baseline", "emoxnet_evaluate@lite", "emoxnet_evaluate@lite_baseline", "emoxnet_report"})
    assert names == expected


def test_grid_profile_expands_to_45_distill_items(pipeline_copy: Path):
    set_keys = apply_profile(pipeline_copy / "profiles/grid.yaml", pipeline_copy / "params.yaml")
    assert set_keys == ["distill.runs"]
    distill = {n for n in stage_names(pipeline_copy) if n.startswith("distill@")}
    assert len(distill) == 45
    assert {"distill@A_T1_a10", "distill@B_T3_a15", "distill@C_T5_a20"} <= distill
    runs = yaml.safe_load((pipeline_copy / "params.yaml").read_text())["distill"]["runs"]
    assert runs["B_T3_a15"] == {"student": "student_b", "loss": {"name": "kd", "T": 3, "alpha": 0.15}}
    assert "E1" not in runs  # `replace: true` swaps the run list whole


def test_paper_profile_merges_keys_and_keeps_comments(pipeline_copy: Path):
    params_file = pipeline_copy / "params.yaml"
    before = yaml.safe_load(params_file.read_text())
    set_keys = apply_profile(pipeline_copy / "profiles/paper.yaml", params_file)
    after = yaml.safe_load(params_file.read_text())
    assert "train.batch_size" in set_keys and "teacher.epochs" in set_keys
    assert (after["train"]["batch_size"], after["train"]["lr"], after["train"]["input_size"]) == (16, 0.001, 64)
    assert after["teacher"]["epochs"] == after["student"]["epochs"] == 80
    assert after["train"]["momentum"] == before["train"]["momentum"]  # untouched keys survive
    assert after["synthetic"] == before["synthetic"] and after["baseline"] == before["baseline"]
    assert "# paper: 64" in params_file.read_text()  # comments kept for reviewers
