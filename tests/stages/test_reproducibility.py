"""Reviewer-grade reproducibility on the real pipeline with tiny params (issue 19).

One module-scoped scenario, as a reviewer meets it:

1. ``origin``: the project with tiny params; ``dvc repro``; every output committed.
2. ``clone``: a fresh ``git clone`` (no DVC cache: every model re-trains); ``dvc repro`` again. git and DVC
   must be clean: nothing modified, ``dvc status`` up to date, ``dvc metrics diff`` / ``dvc params diff``
   print nothing, no export stamped ``+dirty``.
3. On a branch, E1's alpha 0.20 -> 0.25, ``dvc repro``, commit: README's "Reviewing a change" commands
   as written; only E1's metrics move, with no timing keys.
4. ``profiles/grid.yaml`` as queued DVC experiments (one of its runs: each costs a minute), then ``dvc exp show``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import dvc, git, project_copy, run, tiny

pytestmark = pytest.mark.long  # two full tiny `dvc repro`s, clones, a queued grid: the end-to-end tier

TIMING_WORDS = ("second", "latency", "throughput", "per_s", "time")
UP_TO_DATE = "Data and pipelines are up to date."


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("repro")
    origin = project_copy(base / "origin", tiny)
    dvc(origin, "repro")
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "outputs")
    git(base, "clone", "-q", str(origin), "clone")
    clone = base / "clone"
    dvc(clone, "repro")  # a fresh clone: no cache, so every model trains again
    return clone


def test_rerun_in_a_fresh_clone_leaves_git_and_dvc_clean(clone: Path):
    assert git(clone, "status", "--porcelain") == ""
    assert UP_TO_DATE in dvc(clone, "status").stdout
    assert dvc(clone, "metrics", "diff").stdout == ""
    assert dvc(clone, "params", "diff").stdout == ""
    index = json.loads((clone / "models/export/index.json").read_text())
    assert "git_commit" not in index and not any("seconds" in key for row in index["models"].values() for key in row)
    for card in (clone / "models/export").glob("*.md"):
        assert "+dirty" not in card.read_text()


def test_snapshot_of_the_run_renders_as_a_run_folder(clone: Path, tmp_path: Path):
    """README's `pipeline.reporting.snapshot` command on the finished tiny run: a folder of small files,
    rendered in place with its training curves; the project is left as it was."""
    dest = tmp_path / "examples" / "tiny"
    done = run([sys.executable, "-m", "pipeline.reporting.snapshot", str(dest), "--project", ".",
                "--profile", "tiny params", "--wall-time", "about a minute"], clone)
    assert json.loads(done.stdout.strip().splitlines()[-1])["files"] > 10
    assert (dest / "models/distill/E1/dvclive/plots/metrics/val/acc.tsv").is_file()
    assert not list(dest.glob("**/*.pt")) and (dest / "eval/E2/confusion.csv").is_file()
    page = (dest / "README.md").read_text()
    assert "## Training curves" in page and "| E1 " in page and "about a minute" in page
    assert (dest / "figures/curves.png").is_file() and (dest / "tables/table4_accuracy.md").is_file()
    assert git(clone, "status", "--porcelain") == ""
    again = run([sys.executable, "-m", "pipeline.reporting.snapshot", str(dest), "--project", ".",
                 "--profile", "x", "--wall-time", "y"], clone, check=False)
    assert again.returncode != 0 and "already holds a run" in again.stderr


@pytest.fixture(scope="module")
def alpha_change(clone: Path) -> Path:
    """E1's alpha 0.20 -> 0.25 committed on a branch, its outputs regenerated (README "Reviewing a change")."""
    git(clone, "checkout", "-q", "-b", "e1-alpha")
    params = clone / "params.yaml"
    text = params.read_text()
    old = "  E1:\n      student: student_a\n      loss:\n        name: kd\n        T: 3\n        alpha: 0.2\n"
    assert old in text
    params.write_text(text.replace(old, old.replace("alpha: 0.2", "alpha: 0.25")))
    dvc(clone, "repro")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "E1: alpha 0.25")
    return clone


def test_one_alpha_change_moves_only_that_runs_metrics(alpha_change: Path):
    repo = alpha_change
    params = json.loads(dvc(repo, "params", "diff", "main", "--json").stdout)
    assert {name: list(changes) for name, changes in params.items()} == {"params.yaml": ["distill.runs.E1.loss.alpha"]}
    metrics = json.loads(dvc(repo, "metrics", "diff", "main", "--json").stdout)
    assert set(metrics) == {"models/distill/E1/metrics.json", "reports/eval/E1/metrics.json"}
    keys = [key for changes in metrics.values() for key in changes]
    assert "alpha" in keys and ("test_acc" in keys or "test_loss" in keys)
    assert not [key for key in keys if any(word in key for word in TIMING_WORDS)]
    table = dvc(repo, "metrics", "diff", "main", "--md").stdout  # README's command, as written
    assert "models/distill/E1/metrics.json" in table and "E2" not in table and "baseline" not in table
    # what is built from E1: its checkpoint, evaluation, the report, the export and the EmoXNet comparison
    changed = set(git(repo, "diff", "--name-only", "main").split())
    assert {"params.yaml", "dvc.lock", "models/distill/E1/metrics.json", "reports/eval/E1/metrics.json"} <= changed
    assert not [path for path in changed if "/E2/" in path or "baseline" in path or "teacher" in path]


def test_reviewing_a_change_readme_commands(alpha_change: Path):
    repo = alpha_change
    assert "distill.runs.E1.loss.alpha" in dvc(repo, "params", "diff", "main").stdout
    plots = dvc(repo, "plots", "diff", "main").stdout
    html = repo / "dvc_plots" / "index.html"
    assert html.exists() and "index.html" in plots and "distill/E1" in html.read_text()
    shown = dvc(repo, "exp", "show", "--md", "--all-branches", "--only-changed", "--drop", "Created").stdout
    assert "e1-alpha" in shown and "| main " in shown and "distill.runs.E1.loss.alpha" in shown
    compared = run([sys.executable, "-m", "stages.report", "--compare", "main"], repo).stdout
    lines = {line.split("|")[1].strip(): line for line in compared.splitlines() if line.startswith("| ")}
    first = compared.splitlines()[0]
    assert first.startswith("Table IV, main → working tree: 1 of ") and "rows changed beyond noise (E1)." in first
    assert "Band: seed spread (the larger std) where both sides ran several seeds, else cross-CPU band not measured " \
           "for these settings" in first  # the committed band is the default's, not the tiny params'
    assert lines["E1: Student Model A"].rstrip(" |").endswith("changed")
    assert "0.20 → 0.25" in lines["E1: Student Model A"] and lines["E2: Student Model A"].rstrip(" |").endswith("=")
    assert lines["Baseline: Student Model A (CE, no teacher)"].rstrip(" |").endswith("=")


def test_grid_profile_as_queued_dvc_experiments(alpha_change: Path):
    repo = alpha_change
    queued = run([sys.executable, "-m", "pipeline.orchestration.grid", "profiles/grid.yaml", "--only", "A_T5_a20"], repo).stdout
    assert "queued 1 experiment(s): A_T5_a20" in queued
    assert git(repo, "status", "--porcelain", "--", "params.yaml") == ""  # put back byte for byte
    dvc(repo, "exp", "run", "--run-all")
    shown = json.loads(dvc(repo, "exp", "show", "--json").stdout)
    text = json.dumps(shown)
    assert "A_T5_a20" in text
    table = dvc(repo, "exp", "show", "--md", "--only-changed").stdout
    assert "A_T5_a20" in table and "distill.runs.grid.loss.T" in table
