"""The teacher as an ensemble of trained models (params teacher.ensemble), through a real `dvc repro`: members
trained, the ensemble assembled as the teacher, its soft targets, a distillation run from them (kd), one that
runs the ensemble on each augmented batch instead (kd_online), and their baseline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pipeline.core.params import ParamsError
from pipeline.params.load import check_params
from tests.helpers import dvc, project_copy, subprocess_env, tiny

STAGES = ("generate", "validate", "prepare", "class_weights", "emoxnet_member", "train_teacher", "soft_targets",
          "distill", "train_student", "evaluate_teacher", "evaluate_distill", "evaluate_baseline")
MEMBERS = {"vgg13": {"model": "vgg13", "epochs": 1, "input_size": 16},
           "tiny_s1": {"model": "tiny", "epochs": 1, "input_size": 24, "seed": 1}}


def ensemble_teacher(params: dict) -> None:
    tiny(params)
    e6 = params["distill"]["runs"]["E1"]  # student A as E6 (README's seeds command names E6); E7: its teacher online
    params["distill"]["runs"] = {"E6": e6, "E7": {**e6, "loss": {**e6["loss"], "name": "kd_online"}}}
    params["teacher"]["ensemble"] = {"members": list(MEMBERS), "rule": "mean"}
    section = params["emoxnet"]
    section["models"]["vgg13"].update(width=0.125, fc_width=32)
    section["models"]["tiny"] = {"family": "resemotenet", "width": 0.0625, "se_reduction": 1}
    section["members"] = MEMBERS
    section["teacher_member"] = False


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    repo = project_copy(tmp_path_factory.mktemp("ensemble_teacher") / "repo", ensemble_teacher, stages=STAGES)
    dvc(repo, "repro")
    return repo


@pytest.mark.long  # a real `dvc repro` of members, teacher, soft targets, kd and kd_online runs
def test_the_teacher_is_the_members_ensemble_and_its_soft_targets_are_their_mean(repo, monkeypatch):
    monkeypatch.chdir(repo)
    from pipeline.dataset.prepared import load_prepared
    from pipeline.ensemble.members import member_outputs
    from pipeline.models import load_model

    teacher, meta = load_model("models/teacher/model.pt")
    assert teacher.model_spec["family"] == "ensemble" and meta["members"] == list(MEMBERS)
    assert [m["input_size"] for m in teacher.model_spec["members"]] == [16, 24]
    data = load_prepared("data/prepared/dataset.npz")
    members = [member_outputs(n, f"models/emoxnet/members/{n}/model.pt", data, torch.device("cpu")) for n in MEMBERS]
    table = np.load("models/teacher/soft_targets.npy")
    assert table.shape == (140, 2, data.num_classes)
    # The 24x24 member sees a resize of the 16x16 input inside the ensemble, not of the original 48x48 image,
    # so only the 16x16 member's share is exact; the whole mean must still be close.
    expected = sum(F.softmax(m.logits["train"].double(), -1) for m in members) / len(members)
    assert np.allclose(np.exp(table), expected.numpy(), atol=0.15)
    assert np.allclose(np.exp(table).sum(-1), 1, atol=1e-5)

    metrics = json.loads(Path("models/teacher/metrics.json").read_text())
    assert metrics["model"] == "ensemble" and metrics["epochs_run"] == 0
    assert [r["member"] for r in metrics["ensemble"]["members"]] == list(MEMBERS)
    assert [r["weight"] for r in metrics["ensemble"]["members"]] == [0.5, 0.5]
    evaluated = json.loads(Path("reports/eval/teacher/metrics.json").read_text())
    assert evaluated["test_acc"] == pytest.approx(metrics["test_acc"])
    for name in MEMBERS:  # each member's curves travel with the teacher
        assert Path(f"models/teacher/dvclive/plots/metrics/members/{name}/val/acc.tsv").exists()
    summaries = json.loads(Path("models/teacher/dvclive/metrics.json").read_text())["members"]  # and their summaries
    assert list(summaries) == list(MEMBERS) and all("val" in summary for summary in summaries.values())


@pytest.mark.long  # a real `dvc repro` of members, teacher, soft targets, kd and kd_online runs
def test_distillation_and_baseline_run_unchanged_on_top(repo):
    for run in ("distill/E6", "distill/E7", "baseline/student_a"):
        metrics = json.loads((repo / "models" / run / "metrics.json").read_text())
        assert 0 <= metrics["test_acc"] <= 1
    assert json.loads((repo / "models/distill/E6/metrics.json").read_text())["loss"]["name"] == "kd"
    assert json.loads((repo / "models/distill/E7/metrics.json").read_text())["loss"]["name"] == "kd_online"
    status = dvc(repo, "status").stdout
    assert "changed" not in status and "modified" not in status, status


@pytest.mark.long  # a real `dvc repro` of members, teacher, soft targets, kd and kd_online runs
def test_val_weighted_rule_reassembles_the_teacher_with_fitted_weights(repo):
    """Runs last in this module: it changes params and re-runs the teacher only."""
    text = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(text.replace("rule: mean", "rule: val_weighted", 1))
    dvc(repo, "repro", "-s", "train_teacher")
    rows = json.loads((repo / "models/teacher/metrics.json").read_text())["ensemble"]["members"]
    weights = [r["weight"] for r in rows]
    assert sum(weights) == pytest.approx(1) and weights != [0.5, 0.5]


@pytest.mark.long  # a real `dvc repro` of members, teacher, soft targets, kd and kd_online runs
def test_readme_seeds_in_parallel_commands_as_written(repo, repo_root):
    """docs/pipeline.md "Seeds in parallel": each seed in its own process, then the stage reuses both (runs after
    the val_weighted test: the teacher is then that one)."""
    import re
    import subprocess

    readme = (repo_root / "docs" / "pipeline.md").read_text()
    block = re.search(r"\*\*Seeds in parallel\.\*\*.*?```bash\n(.*?)```", readme, re.S).group(1)
    text = (repo / "params.yaml").read_text()
    (repo / "params.yaml").write_text(text.replace("seeds:\n- 0\n", "seeds:\n- 0\n- 1\n", 1))
    dvc(repo, "repro", "soft_targets")
    done = subprocess.run(["bash", "-c", block.replace("uv run ", "")], cwd=repo, capture_output=True, text=True,
                          env=subprocess_env(), timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    log = done.stdout + done.stderr
    assert log.count("already finished, reusing checkpoint") == 2, log[-3000:]
    assert json.loads((repo / "models/distill/E6/metrics.json").read_text())["seeds"] == [0, 1]


@pytest.mark.parametrize("edit, message", [
    (lambda p: p["teacher"].update(ensemble={"members": ["vgg13", "nope"], "rule": "mean"}),
     "teacher.ensemble.members[1] names 'nope'"),
    (lambda p: p["teacher"].update(ensemble={"members": ["vgg13"], "rule": "mean"}), "teacher.ensemble.members"),
    (lambda p: p["teacher"].update(ensemble={"members": ["vgg13", "resnet18"], "rule": "median"}),
     "teacher.ensemble.rule"),
    (lambda p: p["teacher"].update(ensemble={"members": ["vgg13", "resnet18"], "rule": "mean"}),
     "emoxnet.teacher_member: false"),
])
def test_bad_ensemble_teacher_params_are_refused_by_key(repo_root, edit, message):
    import yaml

    params = yaml.safe_load((repo_root / "params.yaml").read_text())
    edit(params)
    with pytest.raises(ParamsError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_params(params)
