"""The orchestration's pack / push / pull path against a real SSH remote: Debian's sshd on 127.0.0.1.

The test makes its own host and client keys, starts `sshd -D` on a free port with a config of its own,
and points HOME at a folder holding the client key and a known_hosts entry, as a worker machine would
hold its credentials. It skips, saying why, where no sshd is installed or none can start (`.ci/run`
installs openssh-server).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.orchestration.lock_merge import write_lock_entries
from pipeline.orchestration.packs import PackStore, read_files
from pipeline.orchestration.worker_run import run_stage_in_workspace

from .toy import STAGES, make_toy_project

from tests.helpers import dvc, git, run


def _sshd_binary() -> str | None:
    return shutil.which("sshd") or next((p for p in ("/usr/sbin/sshd", "/usr/local/sbin/sshd") if os.access(p, os.X_OK)),
                                        None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def sshd(tmp_path, monkeypatch):
    """(user, port) of a running sshd that accepts this test's key; HOME holds the key and known_hosts."""
    binary = _sshd_binary()
    if binary is None:
        pytest.skip("no sshd installed (Debian: apt-get install openssh-server; .ci/run does it)")
    if shutil.which("ssh-keygen") is None:
        pytest.skip("no ssh-keygen installed")
    conf = tmp_path / "sshd"
    conf.mkdir(mode=0o700)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(conf / "host_key")], tmp_path)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / ".ssh" / "id_ed25519")], tmp_path)
    (conf / "authorized_keys").write_text((home / ".ssh" / "id_ed25519.pub").read_text())
    port = _free_port()
    host_pub = (conf / "host_key.pub").read_text().split()
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    (conf / "sshd_config").write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {conf / 'host_key'}",
        f"AuthorizedKeysFile {conf / 'authorized_keys'}", f"PidFile {conf / 'sshd.pid'}",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
        "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no", "Subsystem sftp internal-sftp",
        "LogLevel ERROR", ""]))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # OpenSSH's privilege-separation folder
    log = (conf / "sshd.log").open("w")
    proc = subprocess.Popen([binary, "-D", "-e", "-f", str(conf / "sshd_config")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.skip(f"sshd could not start (exit {proc.returncode}): {(conf / 'sshd.log').read_text()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.skip(f"sshd did not listen on 127.0.0.1:{port} within 10 s")
                time.sleep(0.1)
        monkeypatch.setenv("HOME", str(home))  # the worker's credentials: ~/.ssh/id_ed25519 and known_hosts
        import getpass
        yield getpass.getuser(), port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_packs_push_and_pull_through_an_ssh_remote(sshd, tmp_path):
    user, port = sshd
    toy = make_toy_project(tmp_path / "toy")
    remote_dir = tmp_path / "ssh-remote"
    url = f"ssh://{user}@127.0.0.1:{port}{remote_dir}"
    dvc(toy, "remote", "add", "-f", "-d", "storage", url)
    git(toy, "commit", "-qam", "ssh remote")

    store = PackStore(toy)  # the coordinator's default remote, through DVC's filesystem layer (dvc-ssh)
    pack = store.put_entries(read_files(toy, ["params.yaml", "dvc.yaml"]))
    assert (remote_dir / "orchestration" / "packs" / pack[:2] / f"{pack[2:]}.tar.gz").is_file()
    assert store.put_entries(read_files(toy, ["params.yaml", "dvc.yaml"])) == pack  # stored once

    head = git(toy, "rev-parse", "HEAD").strip()
    result = run_stage_in_workspace("make_data", repo_url=str(toy), commit=head, inputs=[pack], remote_url=url,
                                    log=lambda line: None, workdir=tmp_path)
    assert result["reproduced"] is True
    md5 = result["lock_entry"]["outs"][0]["md5"]
    assert (remote_dir / "files" / "md5" / md5[:2] / md5[2:]).is_file()  # the worker's `dvc push` over SSH

    write_lock_entries(toy, {"make_data": result["lock_entry"]}, order=STAGES)
    dvc(toy, "pull", "make_data")  # the coordinator's pull over SSH
    assert json.loads(dvc(toy, "status", "--json", "make_data").stdout) == {}
    assert (toy / "data" / "base.txt").read_text().splitlines()[:2] == ["0", "2"]


def test_dvc_ssh_is_installed():
    """`uv sync` installs DVC's SSH plugin (a dependency), so an ssh:// remote works in a fresh clone."""
    proc = subprocess.run([sys.executable, "-c", "import dvc_ssh"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
