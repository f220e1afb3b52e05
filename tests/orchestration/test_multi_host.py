"""The orchestration across three hosts, each a Linux network namespace of this machine (netns.py).

Host A holds the coordinator's checkout, the Prefect server (on A's address), and an sshd that serves the git
repository and the DVC remote (`ssh://root@<A>/...`). Hosts B and C each run one `process` worker in a working
folder of their own, with their own HOME (SSH key, known_hosts), PREFECT_HOME and TMPDIR. B and C reach A only
over TCP on a private LAN (the Prefect API, `git clone` over SSH, DVC over ssh://), and they cannot read A's
folders: their mount namespace covers A's whole folder with an empty tmpfs (the code they run, this checkout's
environment, stays visible, as a worker machine's own clone would be).

On the toy pipeline (toy.py) with stages long enough to be caught mid-stage:
- B's whole namespace is killed while it runs a stage: the heartbeat automation crashes the run, the retry
  finishes on C, and the coordinator's checkout is complete;
- B's cable is unplugged for longer than the heartbeat window: the same, and B's late run changes nothing.
After each, `dvc status` is clean in A's checkout and every stage is in dvc.lock exactly once.

Root only (skipped otherwise, or where namespaces, veths or mounts cannot be made); a few minutes:
`uv run pytest -m long -n 0 tests/orchestration/test_multi_host.py`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import yaml

from pipeline.orchestration.dispatch import run_items
from pipeline.orchestration.liveness import HEARTBEAT_SECONDS, MISSED_AFTER_SECONDS

from . import netns
from .server import prefect_env, spawn, stop_group, wait_for, wait_healthy
from .test_ssh_remote import _sshd_binary
from .toy import STAGES, make_toy_project

from tests.helpers import dvc, git, run

pytestmark = pytest.mark.long

REPO_ROOT = Path(__file__).resolve().parents[2]
PORT = 4200  # A's own address: no other server can hold it
SLEEP_S = 20  # each foreach item of the toy sleeps this long: caught mid-stage, killed or cut
WORKERS = ("b", "c")


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@dataclass
class Cluster:
    lan: netns.Lan
    base: Path
    api_url: str
    ssh_base: str  # ssh://root@<A>
    envs: dict[str, dict[str, str]]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def a(self) -> Path:
        """Everything of host A: the checkouts, the DVC remotes, the server's and sshd's files."""
        return self.base / "A"

    def api(self, fn):
        """`fn(client)` with a Prefect client, called from a thread inside A's network namespace."""
        def call():
            from prefect.client.orchestration import get_client
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: self.api_url}):
                with get_client(sync_client=True) as client:
                    return fn(client)

        return self.lan.in_host("a", call)

    def start_worker(self, host: str) -> subprocess.Popen:
        """A `process` worker on `host`, A's folder hidden from it; its name and host name are `host-<host>`."""
        folder = self.base / host.upper()
        args = [_bin("prefect"), "worker", "start", "--pool", "gpu", "--limit", "1", "--name", f"host-{host}"]
        started = time.time()
        proc = spawn(self.lan.exec_hiding(host, [self.a], args), self.envs[host], folder / "worker.log",
                     cwd=folder / "work")
        self.processes[f"worker-{host}"] = proc

        def polling():
            assert proc.poll() is None, (folder / "worker.log").read_text()[-3000:]
            workers = self.api(lambda client: client.read_workers_for_work_pool("gpu"))
            return any(w.name == f"host-{host}" and w.last_heartbeat_time and w.last_heartbeat_time.timestamp() > started
                       for w in workers)

        wait_for(polling, 180, f"worker host-{host} to poll the server", every=1)
        return proc

    def ensure_workers(self) -> None:
        for host in WORKERS:
            proc = self.processes.get(f"worker-{host}")
            if proc is None or proc.poll() is not None:
                if proc is not None:
                    stop_group(proc)
                self.start_worker(host)

    def hidden_from(self, host: str) -> bool:
        """Whether A's folder is an empty mount point as seen by `host`'s worker (its mount namespace)."""
        seen = Path(f"/proc/{self.processes[f'worker-{host}'].pid}/root") / self.a.relative_to("/")
        return seen.is_dir() and not any(seen.iterdir())


def _ssh_keys(base: Path, hosts: list[str], address: str) -> tuple[Path, dict[str, Path]]:
    """sshd's config folder for `address` and, per host, a HOME whose .ssh holds a key and known_hosts."""
    conf = base / "A" / "sshd"
    conf.mkdir(parents=True, mode=0o700)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(conf / "host_key")], base)
    kind, key = (conf / "host_key.pub").read_text().split()[:2]
    homes, authorized = {}, []
    for host in hosts:
        home = base / host.upper() / "home"
        (home / ".ssh").mkdir(parents=True, mode=0o700)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"host-{host}", "-f", str(home / ".ssh" / "id_ed25519")],
           base)
        (home / ".ssh" / "known_hosts").write_text(f"{address} {kind} {key}\n")
        authorized.append((home / ".ssh" / "id_ed25519.pub").read_text())
        homes[host] = home
    (conf / "authorized_keys").write_text("".join(authorized))
    (conf / "sshd_config").write_text("\n".join([
        "Port 22", f"ListenAddress {address}", f"HostKey {conf / 'host_key'}",
        f"AuthorizedKeysFile {conf / 'authorized_keys'}", f"PidFile {conf / 'sshd.pid'}",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
        "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no", "Subsystem sftp internal-sftp",
        "MaxStartups 200", "MaxSessions 100", "LogLevel ERROR", ""]))
    return conf, homes


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = netns.unavailable()
    if reason:
        pytest.skip(reason)
    sshd = _sshd_binary()
    if sshd is None or shutil.which("ssh-keygen") is None or shutil.which("ssh") is None:
        pytest.skip("no sshd / ssh / ssh-keygen installed (Debian: openssh-server, openssh-client; .ci/run does it)")
    base = tmp_path_factory.mktemp("multi-host")
    with netns.Lan(("a", *WORKERS)) as lan:
        address = lan.addresses["a"]
        conf, homes = _ssh_keys(base, lan.names, address)
        api_url = f"http://{address}:{PORT}/api"
        envs = {}
        for host in lan.names:
            folder = base / host.upper()
            for sub in ("prefect", "tmp", "work"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            key, known = homes[host] / ".ssh" / "id_ed25519", homes[host] / ".ssh" / "known_hosts"
            envs[host] = prefect_env(
                folder / "prefect", api_url, HOME=str(homes[host]), TMPDIR=str(folder / "tmp"),
                # git's ssh reads the passwd entry's ~/.ssh, not $HOME's: name the key and known_hosts (DVC's
                # asyncssh reads $HOME/.ssh). -F none: nothing of this machine's own ssh configuration.
                GIT_SSH_COMMAND=f"ssh -F none -i {key} -o IdentitiesOnly=yes -o UserKnownHostsFile={known}",
            )
        cluster = Cluster(lan, base, api_url, f"ssh://root@{address}", envs)
        try:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # OpenSSH's privilege-separation folder
            cluster.processes["sshd"] = spawn(lan.exec("a", [sshd, "-D", "-e", "-f", str(conf / "sshd_config")]),
                                              envs["a"], base / "A" / "sshd.log")
            server_log = base / "A" / "server.log"
            cluster.processes["server"] = spawn(
                lan.exec("a", [_bin("prefect"), "server", "start", "--analytics-off", "--host", address,
                               "--port", str(PORT)]),
                {**envs["a"], "PREFECT_UI_API_URL": api_url}, server_log, cwd=base / "A" / "work")
            for host in WORKERS:
                lan.wait_reachable(host, address, 22)
            lan.in_host("a", wait_healthy, cluster.processes["server"], api_url, server_log)
            deploy = base / "A" / "deploy"  # prefect.yaml's deployment, registered from a copy (nothing written here)
            deploy.mkdir()
            shutil.copy(REPO_ROOT / "prefect.yaml", deploy / "prefect.yaml")
            for args in (["work-pool", "create", "gpu", "--type", "process", "--overwrite"], ["--no-prompt", "deploy", "--all"]):
                done = lan.run("a", [_bin("prefect"), *args], env=envs["a"], cwd=deploy, timeout=300)
                assert done.returncode == 0, f"prefect {args}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
            cluster.ensure_workers()
            yield cluster
        finally:
            for name, proc in reversed(cluster.processes.items()):
                try:
                    stop_group(proc)
                except Exception as exc:  # noqa: BLE001  the namespaces' teardown kills whatever is left
                    print(f"stopping {name}: {exc}", file=sys.stderr)


# ----------------------------------------------------------------------------------------------
# One run of the toy pipeline on A's checkout, with a fault on B mid-stage
# ----------------------------------------------------------------------------------------------
def toy_on_a(cluster: Cluster, name: str) -> Path:
    """The toy project in A's folder, its DVC remote `ssh://root@<A>/...` (also for the coordinator itself)."""
    root = cluster.a / name
    repo = make_toy_project(root, sleep_s=SLEEP_S)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["flaky_marker"] = "params.yaml"  # exists in every workspace: `flaky` passes first time on any host
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dvc(repo, "remote", "add", "-f", "-d", "local", f"{cluster.ssh_base}{root / 'remote'}")
    git(repo, "commit", "-qam", "ssh remote on host A")
    return repo


def stage_on(cluster: Cluster, host: str, script: str = "src/item.py") -> psutil.Process | None:
    """A stage process (`python src/item.py KEY`) running in `host`'s namespace."""
    for pid in cluster.lan.pids(host):
        try:
            process = psutil.Process(pid)
            if script in process.cmdline():
                return process
        except psutil.NoSuchProcess:
            pass
    return None


def stage_runs(cluster: Cluster, repo_url: str) -> list:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    runs = cluster.api(lambda client: client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=["run-stage"]))))
    return [run for run in runs if run.parameters.get("repo_url") == repo_url]


def worker_of(run) -> str:
    return next((tag.split(":", 1)[1] for tag in run.tags if tag.startswith("worker:")), "")


def run_with_fault(cluster: Cluster, name: str, fault, capsys, targets: tuple[str, ...] = ()) -> dict:
    """Run the toy pipeline from A's checkout (`targets`, foreach items, and make_data; default: all of it); once B
    runs a foreach item mid-stage, `fault(cluster)`; wait for that run to be Crashed, call what `fault` returned
    (if anything: e.g. plug the cable back in) and wait for the coordinator. Returns what the checks need."""
    cluster.ensure_workers()
    repo = toy_on_a(cluster, name)
    repo_url = f"{cluster.ssh_base}{repo}"
    assert all(cluster.hidden_from(host) for host in WORKERS)
    with open(repo.parent / "stdout.txt", "w") as out, open(repo.parent / "stderr.txt", "w") as err:
        coordinator = subprocess.Popen(
            cluster.lan.exec("a", [sys.executable, "-m", "pipeline.orchestration.flows", "--repo-dir", str(repo),
                                   "--repo-url", repo_url, "--retry-delay", "0", "--poll-interval", "0.5", *targets]),
            env=cluster.envs["a"], cwd=cluster.a / "work", stdout=out, stderr=err, start_new_session=True)
    cluster.processes[f"coordinator-{name}"] = coordinator
    try:
        def b_mid_stage():
            assert coordinator.poll() is None, (repo.parent / "stderr.txt").read_text()[-5000:]
            return stage_on(cluster, "b")

        stage = wait_for(b_mid_stage, 600, "a foreach item running on host B", every=0.2)
        item = f"item@{stage.cmdline()[-1]}"
        (lost,) = wait_for(lambda: [run for run in stage_runs(cluster, repo_url)
                                    if run.name == item and worker_of(run) == "host-b" and run.state.is_running()],
                           30, f"{item}'s run on host-b in the API")
        hidden = {host: cluster.hidden_from(host) for host in WORKERS}  # while both workers are running
        after = fault(cluster)
        faulted = time.monotonic()
        crashed = wait_for(lambda: (lambda run: run if run.state.is_crashed() else None)(
            cluster.api(lambda client: client.read_flow_run(lost.id))), 3 * HEARTBEAT_SECONDS, f"{item} on B Crashed")
        detection_s = time.monotonic() - faulted
        if after:
            after()
        coordinator.wait(timeout=600)
    finally:
        if coordinator.poll() is None:
            stop_group(coordinator)
    outcome = {"stages": ["make_data", *targets] if targets else STAGES, "repo": repo, "repo_url": repo_url,
               "item": item, "lost": lost, "crashed": crashed,
               "detection_s": detection_s, "hidden": hidden, "returncode": coordinator.returncode,
               "stdout": (repo.parent / "stdout.txt").read_text(), "stderr": (repo.parent / "stderr.txt").read_text()}
    with capsys.disabled():
        print(f"\n[measured] {name}: {item} on host B lost -> run Crashed in {detection_s:.1f} s")
    return outcome


def assert_complete(cluster: Cluster, outcome: dict) -> list:
    """The coordinator's checkout on A is complete: every stage reproduced once in dvc.lock, `dvc status` clean;
    the lost item was retried on C; every worker run reached A only through ssh:// URLs."""
    repo, item, stages = outcome["repo"], outcome["item"], outcome["stages"]
    assert outcome["returncode"] == 0, outcome["stdout"][-2000:] + outcome["stderr"][-6000:]
    assert json.loads(outcome["stdout"]) == {stage: True for stage in stages}
    assert json.loads(dvc(repo, "status", "--json", *stages).stdout) == {}
    lock_text = (repo / "dvc.lock").read_text()
    for stage in stages:  # each stage item once in the file (a YAML reader would hide a repeated key)
        assert len(re.findall(rf"^  {re.escape(stage)}:$", lock_text, re.M)) == 1, (stage, lock_text)
    assert set(yaml.safe_load(lock_text)["stages"]) == set(stages)
    if "summary" in stages:
        assert json.loads((repo / "summary.json").read_text())["totals"] == {"a": 20 * 1, "b": 20 * 3}
    assert (repo / "out" / "a.txt").read_text() == "a 20\n"  # cached out, pulled from the ssh remote

    assert outcome["hidden"] == {host: True for host in WORKERS}, "A's folder was visible to a worker"
    assert "heartbeat" in (outcome["crashed"].state.message or "")
    runs = stage_runs(cluster, outcome["repo_url"])
    remote = f"{cluster.ssh_base}{repo.parent / 'remote'}"
    assert {(run.parameters["repo_url"], run.parameters["remote_url"]) for run in runs} == {(outcome["repo_url"], remote)}
    retried = [run for run in runs if run.name == item and run.id != outcome["lost"].id]
    assert [(run.state.type.value, worker_of(run)) for run in retried] == [("COMPLETED", "host-c")]
    assert f"stage {item} reproduced on worker host-c (host-c)" in outcome["stderr"]
    for stage in stages:  # every other item: in one run, completed (on whichever worker was free)
        if stage != item:
            held = [run for run in runs if stage in run_items(run.parameters)]
            assert [run.state.type.value for run in held] == ["COMPLETED"], stage
    assert {worker_of(run) for run in runs} == {"host-b", "host-c"}
    return runs


def test_a_killed_worker_host_is_noticed_and_its_stage_finishes_on_the_other_host(cluster, capsys):
    def kill_b(cluster: Cluster):
        killed = cluster.lan.kill_all("b")  # the machine is gone: every process of its namespace
        assert killed and not cluster.lan.pids("b")
        cluster.processes["worker-b"].wait(timeout=30)

    outcome = run_with_fault(cluster, "kill", kill_b, capsys)
    assert outcome["detection_s"] <= 2 * HEARTBEAT_SECONDS
    runs = assert_complete(cluster, outcome)
    lost = next(run for run in runs if run.id == outcome["lost"].id)
    assert lost.state.is_crashed()  # nothing of B is left to report anything else
    assert all(worker_of(run) == "host-c" for run in runs if run.start_time > outcome["lost"].start_time)


def test_a_worker_host_cut_off_longer_than_the_heartbeat_window_changes_nothing(cluster, capsys):
    def cut_b(cluster: Cluster):
        cluster.lan.set_link("b", up=False)
        unplugged = time.monotonic()

        def plug_back():  # the run is Crashed by now: the cut lasted longer than the heartbeat window
            time.sleep(max(0.0, MISSED_AFTER_SECONDS + 5 - (time.monotonic() - unplugged)))
            cluster.lan.set_link("b", up=True)
            cut_s.append(time.monotonic() - unplugged)

        return plug_back

    cut_s: list[float] = []
    outcome = run_with_fault(cluster, "cut", cut_b, capsys, targets=("item@a", "item@b"))
    with capsys.disabled():
        print(f"[measured] B's network was down {cut_s[0]:.1f} s")
    assert cut_s[0] > MISSED_AFTER_SECONDS
    runs = assert_complete(cluster, outcome)
    stale = next(run for run in runs if run.id == outcome["lost"].id)
    with capsys.disabled():  # on a loaded machine B's stage ends while cut off: its `dvc push` fails, the run Fails
        print(f"[measured] B's stale run of {outcome['item']} ended {stale.state.type.value}: {stale.state.message}")
    # B's stale run may still end on its own once B is back (Prefect lets a Crashed run become Failed or
    # Completed): the coordinator already took the retry's result, and the lock holds each stage once.
    assert all(cluster.hidden_from(host) for host in WORKERS if cluster.processes[f"worker-{host}"].poll() is None)
