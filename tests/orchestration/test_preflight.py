"""Network faults say what they are (issue 29): an unreachable Prefect server, a refused SSH login, a git
repository that does not exist or a DVC remote that cannot be created are each named once, with the address and what to check, and the
coordinator exits 1 before any flow starts. The SSH cases use the real sshd of test_ssh_remote."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from pipeline.orchestration.preflight import Unreachable, check_git, check_remote, check_server
from tests.helpers import REPO_ROOT

from .server import free_port, prefect_env
from .test_ssh_remote import sshd  # noqa: F401  (the fixture: a real sshd on 127.0.0.1)
from .toy import make_toy_project


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_toy_project(tmp_path_factory.mktemp("toy"))


def coordinator(repo, env, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.orchestration.flows", "--repo-dir", str(repo), *extra],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_an_unreachable_server_is_one_error_naming_its_address(toy, tmp_path):
    url = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    started = time.monotonic()
    done = coordinator(toy, prefect_env(tmp_path / "home", api_url=url))
    assert done.returncode == 1, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and url in errors[0] and "prefect server start" in errors[0], done.stderr[-2000:]
    assert "stopped:" not in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 60


def test_a_misspelt_timeout_key_is_refused_once_with_a_suggestion(toy, tmp_path):
    repo = shutil.copytree(toy, tmp_path / "repo")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["orchestration"] = {"timeout_s": {"itme": 30}}
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    done = coordinator(repo, prefect_env(tmp_path / "home"), "--local")
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "itme" in line]
    assert errors == ["ERROR: params.yaml: orchestration.timeout_s names 'itme', which is no stage, foreach group "
                      "or item of dvc.yaml; did you mean 'item'?"], done.stderr[-2000:]


def test_a_missing_repository_or_local_remote_is_named(tmp_path):
    with pytest.raises(Unreachable, match=f"the git repository {tmp_path / 'nope'} cannot be read"):
        check_git(str(tmp_path / "nope"))
    (tmp_path / "a-file").write_text("")
    with pytest.raises(Unreachable, match=f"the DVC remote {tmp_path / 'a-file' / 'store'} cannot be created "
                                          rf"\({tmp_path / 'a-file'} is not a writable folder\)"):
        check_remote(str(tmp_path / "a-file" / "store"))
    check_remote(str(tmp_path))  # a folder that exists passes
    check_remote(str(tmp_path / "new" / "store"))  # and one DVC's first push will create
    check_server("")  # no server named: Prefect's ephemeral one, nothing to reach


def test_over_ssh_a_refused_login_and_a_missing_folder_are_told_apart(sshd, tmp_path, monkeypatch):  # noqa: F811
    user, port = sshd
    ssh_dir = Path(os.environ["HOME"]) / ".ssh"  # the fixture's key; OpenSSH reads root's own ~ otherwise
    monkeypatch.setenv("GIT_SSH_COMMAND", f"ssh -i {ssh_dir / 'id_ed25519'} -o UserKnownHostsFile={ssh_dir / 'known_hosts'}")
    (tmp_path / "remote").mkdir()
    (tmp_path / "a-file").write_text("")
    check_remote(f"ssh://{user}@127.0.0.1:{port}{tmp_path / 'remote'}")  # reachable, exists
    check_remote(f"ssh://{user}@127.0.0.1:{port}{tmp_path / 'remote' / 'new'}")  # DVC will create it
    with pytest.raises(Unreachable, match=rf"cannot be created on {user}@127.0.0.1"):
        check_remote(f"ssh://{user}@127.0.0.1:{port}{tmp_path / 'a-file' / 'store'}")
    with pytest.raises(Unreachable, match=r"cannot be read .*check the SSH login"):
        check_git(f"ssh://{user}@127.0.0.1:{port}{tmp_path / 'no-repo.git'}")
    with pytest.raises(Unreachable, match=r"SSH to nobody-here@127.0.0.1 failed .*check the key"):
        check_remote(f"ssh://nobody-here@127.0.0.1:{port}{tmp_path / 'remote'}")
