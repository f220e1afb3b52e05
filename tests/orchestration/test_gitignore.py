"""What the coordinator leaves in git after pulling cached outputs: the .gitignore entries `dvc repro` writes, and,
where the project sets DVC's core.autostage (this project does), those files and dvc.lock staged as `dvc repro`
stages them; without autostage nothing is staged."""

from __future__ import annotations

import pytest

from pipeline.orchestration.gitignore import ignore_cached_outs
from tests.helpers import dvc, git

DVC_YAML = "stages:\n  make:\n    cmd: python -c \"open('out/model.bin', 'w').write('x')\"\n    outs:\n      - out/model.bin\n"


@pytest.mark.parametrize("autostage", [True, False])
def test_gitignore_and_lock_are_staged_only_under_autostage(tmp_path, autostage):
    git(tmp_path, "init", "-q")
    dvc(tmp_path, "init", "-q")
    if autostage:
        dvc(tmp_path, "config", "core.autostage", "true")
    (tmp_path / "dvc.yaml").write_text(DVC_YAML)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "project")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "model.bin").write_text("x")  # as `dvc pull` leaves it: no .gitignore entry
    (tmp_path / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")  # as the coordinator merges it

    ignore_cached_outs(tmp_path, ["make"], written=["dvc.lock"])

    assert (tmp_path / "out" / ".gitignore").read_text() == "/model.bin\n"
    staged = set(git(tmp_path, "diff", "--cached", "--name-only").split())
    assert staged == ({"dvc.lock", "out/.gitignore"} if autostage else set())
    assert "out/model.bin" not in git(tmp_path, "status", "--porcelain", "--untracked-files=all")
