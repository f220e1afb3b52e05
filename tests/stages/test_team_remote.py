"""Working as a team (issue 28; README "Reviewing a change"): a reviewer's or CI's clone re-trains nothing the
author already ran, and where a run happened never shows in ``dvc metrics diff``.

One module-scoped scenario on the real pipeline with tiny params, the smallest stage subset that trains a model
(the data stages, the teacher and its evaluation):

1. ``author``: the project with a local-folder DVC remote ``team`` as its committed default; ``dvc repro``,
   every output committed, ``dvc push --run-cache``.
2. ``reviewer``: a fresh ``git clone`` of that commit (no DVC cache: no data, no model); ``dvc pull --run-cache``
   then ``dvc repro``: every stage "didn't change", git and DVC clean.
3. A code change that touches the evaluation only: ``dvc repro`` re-runs that stage alone.
4. The same push / pull through a real SSH remote (the sshd of ``tests/orchestration/test_ssh_remote.py``;
   skipped where no sshd is installed).
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pytest

from pipeline.core.runfacts import machine_keys_in
from tests.helpers import dvc, git, project_copy, tiny
from tests.orchestration.test_ssh_remote import sshd  # noqa: F401  (the fixture: a real sshd on 127.0.0.1)

pytestmark = pytest.mark.long

STAGES = ("generate", "validate", "prepare", "class_weights", "emoxnet_member", "train_teacher", "evaluate_teacher")
ITEMS = tuple(f"{s}@vgg13" if s == "emoxnet_member" else s for s in STAGES)  # the teacher's dep: one tiny member
CACHED = ("data/raw/synthetic.csv.gz", "data/prepared/dataset.npz", "models/teacher/model.pt")  # only in the remote
RUN_FACTS = ("models/teacher/run.json", "reports/eval/teacher/run.json")
UP_TO_DATE = "Data and pipelines are up to date."


def clone(origin: Path, dest: Path) -> Path:
    """A fresh checkout of ``origin``'s commit: params, code, dvc.lock and the `cache: false` outputs."""
    git(origin.parent, "clone", "-q", str(origin), str(dest))
    assert not [p for p in CACHED if (dest / p).exists()]
    return dest


def assert_nothing_re_ran(repro_stdout: str) -> None:
    assert "Running stage" not in repro_stdout, repro_stdout
    for stage in ITEMS:
        assert f"Stage '{stage}' didn't change, skipping" in repro_stdout, repro_stdout


@pytest.fixture(scope="module")
def author(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("team")
    repo = project_copy(base / "author", tiny, stages=STAGES)
    dvc(repo, "remote", "add", "-d", "team", str(base / "remote"))  # the team remote, in the committed .dvc/config
    dvc(repo, "repro")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tiny run, outputs committed")
    dvc(repo, "push", "--run-cache")  # README "Working as a team": the author's side
    return repo


@pytest.fixture(scope="module")
def reviewer(author: Path) -> tuple[Path, str]:
    """(the clone, its `dvc repro` output) after README's reviewer commands."""
    repo = clone(author, author.parent / "reviewer")
    dvc(repo, "pull", "--run-cache")
    return repo, dvc(repo, "repro").stdout


def test_where_it_ran_is_beside_the_metrics_not_in_them(author: Path):
    shown = json.loads(dvc(author, "metrics", "show", "--json").stdout)[""]["data"]
    assert {"models/teacher/metrics.json", "reports/eval/teacher/metrics.json"} <= set(shown)
    assert not [p for p in shown if p.endswith("run.json")]
    assert {path: machine_keys_in(entry.get("data")) for path, entry in shown.items()} == {p: [] for p in shown}
    for rel in RUN_FACTS:
        facts = json.loads((author / rel).read_text())
        assert facts["device"].startswith("cpu") and facts["threads"] >= 1 and facts["torch"] and facts["python"]
    assert git(author, "ls-files", *RUN_FACTS).split() == list(RUN_FACTS)  # tracked by git, as the metrics


def test_another_machine_in_the_run_facts_leaves_dvc_metrics_diff_empty(author: Path):
    """What `dvc metrics diff` shows after the same commit ran on another CPU: nothing machine-dependent."""
    try:
        for rel in RUN_FACTS:
            facts = json.loads((author / rel).read_text())
            facts.update(device="cpu: AMD EPYC (2 threads)", threads=2, torch="0.0.0", python="3.0.0")
            (author / rel).write_text(json.dumps(facts, indent=2) + "\n")
        assert sorted(line[3:] for line in git(author, "status", "--porcelain").splitlines()) == sorted(RUN_FACTS)
        assert dvc(author, "metrics", "diff").stdout == ""
        assert json.loads(dvc(author, "metrics", "diff", "--json").stdout) == {}
    finally:
        git(author, "checkout", "--", *RUN_FACTS)
    assert git(author, "status", "--porcelain") == ""


def test_a_fresh_clone_after_pull_run_cache_re_trains_nothing(author: Path, reviewer: tuple[Path, str]):
    repo, repro = reviewer
    assert_nothing_re_ran(repro)
    assert UP_TO_DATE in repro
    assert git(repo, "status", "--porcelain") == ""
    assert UP_TO_DATE in dvc(repo, "status").stdout
    assert dvc(repo, "metrics", "diff").stdout == ""
    assert filecmp.cmp(repo / "models/teacher/model.pt", author / "models/teacher/model.pt", shallow=False)
    # DVC keeps no run-cache entry for a stage with `persist: true` outputs (dvc/stage/cache.py, _can_hash), and
    # every stage here persists its outputs: what spares the reviewer the training is the committed dvc.lock plus
    # the pushed outputs, as README says. Should this fail, the run-cache now holds stages: update README.
    assert not (author.parent / "remote" / "runs").exists()


def test_a_change_re_runs_only_the_stages_it_touches(reviewer: tuple[Path, str]):
    repo, _ = reviewer
    code = repo / "stages" / "evaluate.py"
    code.write_text(code.read_text() + "# reviewed\n")  # a code dep of the evaluation alone
    repro = dvc(repo, "repro").stdout
    assert "Running stage 'evaluate_teacher'" in repro
    assert "Stage 'train_teacher' didn't change, skipping" in repro and repro.count("Running stage") == 1


def test_push_and_pull_run_cache_through_an_ssh_remote(author: Path, sshd, tmp_path: Path):  # noqa: F811
    user, port = sshd
    remote_dir = tmp_path / "ssh-remote"
    url = f"ssh://{user}@127.0.0.1:{port}{remote_dir}"
    dvc(author, "remote", "add", "--local", "-f", "team-ssh", url)  # .dvc/config.local: not committed
    dvc(author, "push", "--run-cache", "-r", "team-ssh")
    assert any((remote_dir / "files" / "md5").rglob("*"))
    repo = clone(author, tmp_path / "ci")
    dvc(repo, "remote", "add", "--local", "team-ssh", url)
    dvc(repo, "pull", "--run-cache", "-r", "team-ssh")
    repro = dvc(repo, "repro").stdout
    assert_nothing_re_ran(repro)
    assert git(repo, "status", "--porcelain") == "" and UP_TO_DATE in dvc(repo, "status").stdout
