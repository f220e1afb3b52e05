"""The Prefect flows against a real local Prefect server and two `process` workers, set up by README's
commands as written (see readme.py): server on 127.0.0.1 with SQLite in a temporary PREFECT_HOME,
work pool `gpu`, the `run-stage/gpu` deployment from prefect.yaml, workers `gpu0` and `gpu1`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from pipeline.browser.chromium import find_chromium
from pipeline.orchestration.dispatch import run_items, run_name
from pipeline.orchestration.liveness import HEARTBEAT_SECONDS

from .equal import assert_same_checkout, checkout_state
from .readme import readme_commands
from .server import free_port, prefect_env, spawn, stop_group, wait_for, wait_healthy
from .toy import STAGES, make_toy_project

from tests.helpers import dvc, git, project_copy, subprocess_env, tiny

PARAMETERS_LIMIT = 2048  # bytes of a worker run's parameters, whatever the stage reads or writes

def tiny_project_clone(base: Path) -> Path:
    """A fresh clone of the project as it is now (code, dvc.yaml; no data or outputs) with tiny params committed."""
    project_copy(base / "origin", tiny)
    git(base, "clone", "-q", str(base / "origin"), "project")
    return base / "project"


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """README's one-machine setup, run command by command in a fresh clone of the project."""
    base = tmp_path_factory.mktemp("prefect")
    home, worker_tmp = base / "home", base / "worker-tmp"
    home.mkdir()
    worker_tmp.mkdir()
    project = tiny_project_clone(base)
    port = free_port()
    commands = readme_commands(port, base / "remote")
    env = prefect_env(home)  # no PREFECT_API_URL: README's `prefect config set` provides it
    env.pop("PREFECT_API_URL", None)

    def sh(command: str, timeout: float = 600, cwd: Path = project, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(["bash", "-c", f"{commands.exports}\n{command}"], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"`{command}` exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
        return done

    def start_worker(command: str) -> subprocess.Popen:
        name = command.split("--name", 1)[1].split()[0]
        return spawn(["bash", "-c", f"{commands.exports}\n{command}"], {**env, "TMPDIR": str(worker_tmp)},
                     home / f"{name}.log", cwd=project)

    api_url = f"http://127.0.0.1:{port}/api"
    # The UI asks the API at port 4200 unless told otherwise: README's port, not the one substituted here.
    server = spawn(["bash", "-c", f"{commands.exports}\n{commands.server}"], {**env, "PREFECT_UI_API_URL": api_url},
                   home / "server.log", cwd=project)
    workers: dict[str, subprocess.Popen] = {}
    try:
        wait_healthy(server, api_url, home / "server.log")
        for command in commands.setup:
            sh(command)
        for command in commands.workers:
            workers[command.split("--name", 1)[1].split()[0]] = start_worker(command)
        yield {"env": env, "api_url": api_url, "project": project, "home": home, "worker_tmp": worker_tmp,
               "commands": commands, "sh": sh, "workers": workers, "start_worker": start_worker, "base": base}
    finally:
        for proc in workers.values():
            stop_group(proc)
        stop_group(server)


@pytest.fixture
def client(stack):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: stack["api_url"]}):
        with get_client(sync_client=True) as api:
            yield api


def reproduce_cli(repo: Path, stack, *extra: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.orchestration.flows", "--repo-dir", str(repo), "--retry-delay", "0",
         "--poll-interval", "0.5", *extra], env=stack["env"], capture_output=True, text=True, timeout=timeout,
    )


def start_reproduce(repo: Path, stack, *extra: str) -> subprocess.Popen:
    """The coordinator in the background, its output in files beside `repo` (read them with `output`)."""
    with open(repo.parent / "stdout.txt", "w") as out, open(repo.parent / "stderr.txt", "w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "pipeline.orchestration.flows", "--repo-dir", str(repo), "--retry-delay", "0",
             "--poll-interval", "0.5", *extra], env=stack["env"], stdout=out, stderr=err, text=True,
        )


def output(repo: Path) -> tuple[str, str]:
    return (repo.parent / "stdout.txt").read_text(), (repo.parent / "stderr.txt").read_text()


def worker_runs(client, repo: Path | None = None) -> list:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["run-stage"])))
    return [run for run in runs if repo is None or run.parameters.get("repo_url") == str(repo)]


def worker_of(run) -> str:
    return next((tag.split(":", 1)[1] for tag in run.tags if tag.startswith("worker:")), "")


def stage_workspaces(stack) -> list[str]:
    return [p.name for p in stack["worker_tmp"].glob("dvc-stage-*")]


# ----------------------------------------------------------------------------------------------
# The toy pipeline through the deployment and both workers
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def toy_run(stack, tmp_path_factory):
    repo = make_toy_project(tmp_path_factory.mktemp("toy-flow"), barrier=True, big_mb=5)
    started = time.monotonic()
    done = reproduce_cli(repo, stack)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return {"repo": repo, "reran": json.loads(done.stdout), "log": done.stderr, "seconds": time.monotonic() - started,
            "state": checkout_state(repo)}  # before any test touches the checkout


def plain_repro(repo: Path, dest: Path, *setup: str) -> dict:
    """A clone of `repo`'s commit reproduced by plain `dvc repro` (after the `setup` commands); its state."""
    git(dest.parent, "clone", "-q", str(repo), dest.name)
    for command in setup:
        subprocess.run(["bash", "-c", command], cwd=dest, env=subprocess_env(), check=True, capture_output=True)
    dvc(dest, "repro")
    return checkout_state(dest)


def coordinator_of(client, repo: Path):
    """The id of the `reproduce` run (through the deployment) that ran in checkout `repo`."""
    (run_id,) = {run.id for run in client.read_flow_runs()
                 if run.parameters.get("repo_dir") == str(repo) and run.parameters.get("deployment")}
    return run_id


@pytest.mark.long
def test_toy_pipeline_with_a_5mb_output_round_trips_and_leaves_dvc_status_clean(toy_run, stack, client):
    repo = toy_run["repo"]
    assert toy_run["reran"] == {stage: True for stage in STAGES}
    assert json.loads(dvc(repo, "status", "--json").stdout) == {}
    assert "Running stage" not in dvc(repo, "repro").stdout
    summary = json.loads((repo / "summary.json").read_text())
    assert summary["totals"] == {"a": 20 * 1, "b": 20 * 3}  # 2 * (0+1+2+3+4) * n
    blob = (repo / "big" / "blob.bin").read_bytes()  # worker -> remote -> summary's worker, and -> here
    assert len(blob) == 5 * 1024 * 1024
    assert summary["blob_sha256"] == hashlib.sha256(blob).hexdigest()
    assert (repo / "out" / "b.txt").read_text() == "b 60\n"  # cached out, checked out from the remote
    sizes = {run.name: len(json.dumps(run.parameters)) for run in worker_runs(client, repo)}
    assert max(sizes.values()) < PARAMETERS_LIMIT, sizes
    assert stage_workspaces(stack) == []


@pytest.mark.long
def test_a_prefect_run_equals_dvc_repro_of_the_same_commit(toy_run, tmp_path):
    """The toy's cached outputs come back through `dvc pull`, which writes no .gitignore: the coordinator must."""
    plain = plain_repro(toy_run["repo"], tmp_path / "plain")  # after the flow: flaky's failure and the barrier are past
    assert_same_checkout(toy_run["state"], plain)
    assert "?? out/.gitignore" in plain["git status"] and "?? out/a.txt" not in plain["git status"]


@pytest.mark.long
def test_task_runs_are_the_stage_items_and_the_flaky_stage_was_retried(toy_run, client):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs = worker_runs(client, toy_run["repo"])
    coordinator = coordinator_of(client, toy_run["repo"])

    def recorded():  # task-run states reach the database through the server's event recorder, shortly after the flow
        task_runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[coordinator])))
        return task_runs if len(task_runs) == len(STAGES) and all(run.state.is_final() for run in task_runs) else None

    task_runs = wait_for(recorded, 30, "the server to record the coordinator's task runs")
    assert sorted(run.name for run in task_runs) == sorted(STAGES)  # no placeholders with random names
    assert {run.state.type.value for run in task_runs} == {"COMPLETED"}
    by_name = {run.name: run for run in task_runs}
    assert by_name["flaky"].run_count == 2 and by_name["item@a"].run_count == by_name["item@b"].run_count == 1
    assert by_name["big"].run_count == by_name["summary"].run_count == 1  # took their results from flaky's run
    # big and summary wait only for flaky: they ride in its worker run (and its retry)
    assert sorted(run.name for run in runs) == ["flaky + big + summary"] * 2 + ["item@a", "item@b", "make_data"]
    assert all(run.name == run_name(run_items(run.parameters)) for run in runs)
    assert {run.parent_task_run_id for run in runs} == {by_name[name].id for name in ("make_data", "item@a", "item@b", "flaky")}
    assert sorted(run.state.type.value for run in runs if "flaky" in run_items(run.parameters)) == ["COMPLETED", "FAILED"]
    assert {worker_of(run) for run in runs} == {"gpu0", "gpu1"}


@pytest.mark.long
def test_independent_items_ran_concurrently_on_two_workers(toy_run, client):
    runs = {run.name: run for run in worker_runs(client, toy_run["repo"]) if run.state.is_completed()}
    a, b = runs["item@a"], runs["item@b"]
    assert a.start_time < b.end_time and b.start_time < a.end_time, "item@a and item@b did not overlap"
    assert worker_of(a) != worker_of(b)
    attempts = [run.name for run in worker_runs(client, toy_run["repo"])]
    assert attempts.count("item@a") == attempts.count("item@b") == 1  # each met the other at the barrier first time
    assert runs["make_data"].end_time <= min(a.start_time, b.start_time)
    assert runs["flaky + big + summary"].start_time >= max(a.end_time, b.end_time)


@pytest.mark.long
def test_log_names_workers_and_failures_are_short_with_a_link_to_the_full_log(toy_run):
    log = toy_run["log"]
    assert "on worker gpu0" in log and "on worker gpu1" in log
    retried = [line for line in log.splitlines() if "Retry 1/1 will start" in line or "failed on worker" in line]
    assert retried and "full log: http://127.0.0.1:" in log and "/runs/flow-run/" in log
    assert "flaky: first attempt fails on purpose" in log  # the stage's own words
    assert len(log) < 200_000  # nothing like a parameter payload


@pytest.mark.long
def test_tables_published_as_table_artifacts(toy_run, client):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["table-iv-accuracy"])))
    assert artifacts and artifacts[0].type == "table"
    rows = json.loads(artifacts[0].data) if isinstance(artifacts[0].data, str) else artifacts[0].data
    assert rows == [{"item": "a", "total": "20"}, {"item": "b", "total": "60"}]
    assert "table5_efficiency.csv not found" in toy_run["log"]  # the toy writes no Table V: a warning, no failure


@pytest.mark.long
def test_the_ui_page_of_the_run_shows_every_stage_item(toy_run, stack, client, tmp_path):
    """The UI the server serves, rendered in headless Chromium: each stage item is on the run's page (its
    Subflow Runs tab: Prefect lists a task run that has a subflow run there, not under Task Runs)."""
    if find_chromium() is None:
        pytest.skip("no chromium executable on PATH (.ci/run installs Debian's `chromium` with apt-get)")
    coordinator = coordinator_of(client, toy_run["repo"])
    done = subprocess.run([sys.executable, "-m", "pipeline.orchestration.ui", str(tmp_path / "run.png"), "--flow-run",
                           str(coordinator), "--timeout", "30"], env=stack["env"], capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    shown = json.loads(done.stdout)
    assert shown["stage_items"] == sorted(STAGES)
    assert (tmp_path / "run.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.long
def test_rerun_redoes_only_changed_items_and_failure_names_the_stage(toy_run, stack):
    """In-process mode (no workers): a changed param re-runs its item and downstream; a failing stage fails the flow."""
    repo = toy_run["repo"]
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["items"]["b"]["n"] = 5
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    done = reproduce_cli(repo, stack, "--local")
    assert done.returncode == 0, done.stderr[-6000:]
    assert json.loads(done.stdout) == {stage: stage in ("item@b", "flaky", "big", "summary") for stage in STAGES}
    assert f"{len(STAGES)} stage items, 4 to dispatch" in done.stderr  # the rest is clean in `dvc status`
    assert json.loads(dvc(repo, "status", "--json").stdout) == {}
    assert json.loads((repo / "summary.json").read_text())["totals"]["b"] == 20 * 5

    dvc_yaml = (repo / "dvc.yaml").read_text()
    (repo / "dvc.yaml").write_text(dvc_yaml.replace("python src/summary.py", "python -c 'raise SystemExit(\"table is empty\")'"))
    failed = reproduce_cli(repo, stack, "--local", "--retries", "0")
    assert failed.returncode == 1
    error = failed.stderr[failed.stderr.index("ERROR: DVC stage(s) failed: summary"):]
    assert "stage 'summary' failed on worker" in error and "table is empty" in error
    assert len(error.splitlines()) <= 12 and len(error) < 3000

    # summary rides in big's run; failing there once, it is retried alone, and big's result stands
    params["big_mb"] = 0.02
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    marker = repo.parent / "summary.marker"
    (repo / "dvc.yaml").write_text(dvc_yaml.replace(
        "python src/summary.py", f"test -e {marker} || {{ touch {marker}; echo summary fails on its first try; exit 3; }}; "
        "python src/summary.py"))
    done = reproduce_cli(repo, stack, "--local")
    assert done.returncode == 0, done.stderr[-6000:]
    assert json.loads(done.stdout) == {stage: stage in ("big", "summary") for stage in STAGES}
    assert "summary run in the worker run of big" in done.stderr and "summary fails on its first try" in done.stderr
    assert re.search(r"stage big reproduced on worker", done.stderr)
    assert re.search(r"stage summary reproduced on worker", done.stderr)  # alone, on the retry
    assert json.loads(dvc(repo, "status", "--json").stdout) == {}


# ----------------------------------------------------------------------------------------------
# README, as written: the project's own pipeline (tiny sizes), report included
# ----------------------------------------------------------------------------------------------
@pytest.mark.long
def test_readme_commands_run_the_real_pipeline_on_two_workers(stack, client):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    project = stack["project"]
    first, *rest = stack["commands"].runs
    done = stack["sh"](first, timeout=1500)  # a hang guard; the run takes minutes
    from pipeline.orchestration.ui import latest_run

    run_id = latest_run(client)
    reran = json.loads(done.stdout)
    assert {"train_teacher", "distill@E1", "distill@E2", "train_student@student_a", "report"} <= set(reran)
    assert all(reran.values())
    for command in rest:
        last = stack["sh"](command)
    assert "Data and pipelines are up to date" in last.stdout
    assert json.loads(dvc(project, "status", "--json").stdout) == {}

    # The same commit, plain `dvc repro` in another clone (with README's remote, so .dvc/config matches too).
    prefect_state = checkout_state(project)
    remote = [command for command in stack["commands"].setup if command.startswith("dvc remote add")]
    # Latencies differ run to run: the plain clone starts from the Prefect run's measurements, which its
    # benchmark stage keeps (same spec, settings, code and machine), as a clone of a commit keeps committed ones.
    measured = f"mkdir -p reports && cp -r {project}/reports/benchmark {project}/reports/benchmark_run.json reports/"
    plain = plain_repro(project, stack["base"] / "plain", *remote, measured)
    assert_same_checkout(prefect_state, plain)
    assert any(path.endswith("dvclive/metrics.json") for entry in plain["dvc.lock"].values() for path in
               (out["path"] for out in entry.get("outs", [])))
    assert (project / "models" / "distill" / "E2" / "model.pt").is_file()  # cached out, pulled from the remote
    assert (project / "reports" / "figures" / "fig4_confusion.png").is_file()  # uncached, through a pack

    runs = worker_runs(client, project)
    assert max(len(json.dumps(run.parameters)) for run in runs) < PARAMETERS_LIMIT
    # Both workers took items. Which items overlap is up to the scheduler (more items are ready than
    # there are workers), so that is asserted only where it is certain: the toy's barrier items.
    assert {worker_of(run) for run in runs} == {"gpu0", "gpu1"}
    # Each item ran in exactly one worker run; the evaluations and the data chain rode in another item's run.
    held = sorted(item for run in runs if run.state.is_completed() for item in run_items(run.parameters))
    assert held == sorted(reran), [run.name for run in runs]
    assert len(runs) < len(reran) * 0.65 and any(run.name.startswith("generate + validate") for run in runs)
    for key in ("table-iv-accuracy", "table-v-efficiency"):
        published = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
        assert published and published[0].type == "table" and published[0].data
    assert stage_workspaces(stack) == []

    # README's screenshot command on this run (PREFECT_RUN_PNG=docs/prefect_run.png keeps the picture README shows)
    if find_chromium() is not None:
        png = str(Path(os.environ.get("PREFECT_RUN_PNG") or stack["base"] / "prefect_run.png").resolve())  # the
        # command runs in the project's clone: a relative PREFECT_RUN_PNG means this checkout's file
        shot = stack["sh"](f"uv run python -m pipeline.orchestration.ui {png} --flow-run {run_id} --newest 5")
        shown = json.loads(shot.stdout)
        assert set(shown["stage_items"]) == set(reran) and len(shown["shown"]) == 5  # no retries here: 5 names
        assert Path(png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------------------------------
# Stopping and losing workers
# ----------------------------------------------------------------------------------------------
def _running_item(client, repo: Path, timeout: float = 240):
    return wait_for(lambda: next((run for run in worker_runs(client, repo)
                                  if "item@a" in run_items(run.parameters) and run.state.is_running() and worker_of(run)), None),
                    timeout, "item@a running on a worker")


@pytest.mark.long
def test_sigterm_stops_the_coordinator_within_seconds_and_a_rerun_resumes(stack, client, tmp_path, capsys):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType

    repo = make_toy_project(tmp_path, sleep_s=15)
    proc = start_reproduce(repo, stack, "item@a", "--one-run-per-item")  # make_data finishes in a run of its own
    try:
        _running_item(client, repo)
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        stopped_s = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = output(repo)[1]
    assert proc.returncode == 130, stderr[-4000:]
    assert stopped_s < 10, f"coordinator took {stopped_s:.1f} s to stop"

    def nothing_running():
        active = client.read_flow_runs(flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
            type=FlowRunFilterStateType(any_=["RUNNING", "PENDING", "CANCELLING", "SCHEDULED"]))))
        return not active

    wait_for(nothing_running, 30, "worker runs to be cancelled")
    wait_for(lambda: not stage_workspaces(stack), 30, "the stage workspace to be removed")
    with capsys.disabled():
        print(f"\n[measured] SIGTERM -> coordinator exited in {stopped_s:.1f} s")

    done = reproduce_cli(repo, stack, "item@a", "--one-run-per-item")
    assert done.returncode == 0, done.stderr[-4000:]
    assert json.loads(done.stdout) == {"make_data": False, "item@a": True}  # make_data kept from the stopped run
    assert json.loads(dvc(repo, "status", "--json", "make_data", "item@a").stdout) == {}


@pytest.mark.long
def test_sigterm_keeps_the_followers_a_finished_leader_carried(stack, client, tmp_path):
    """Stopped after `item@a + tally_a` finished in one worker run while item@b still runs: the follower's lock entry
    is merged into the checkout with its leader's, and a re-run redoes item@b alone. (By then the follower's own
    task has taken its result from the leader's run; the window before it has, which this test does not hit, is
    test_pieces' test of dispatch.kept_on_stop.)"""
    repo = make_toy_project(tmp_path, follower=True, item_sleep_s={"b": 45})  # long enough to be running
    proc = start_reproduce(repo, stack, "tally_a", "item@b")
    try:
        def state_of(items):
            return next((run.state for run in worker_runs(client, repo) if run_items(run.parameters) == items), None)

        wait_for(lambda: (state := state_of(["item@a", "tally_a"])) is not None and state.is_completed(), 240,
                 "item@a + tally_a to finish in one worker run")
        wait_for(lambda: (state := state_of(["item@b"])) is not None and state.is_running(), 60,
                 "item@b running (it sleeps 45 s: the interrupt cancels it)")
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, output(repo)[1][-4000:]
    locked = yaml.safe_load((repo / "dvc.lock").read_text())["stages"]  # merged; cached files are pulled on a re-run
    assert {"make_data", "item@a", "tally_a"} <= set(locked) and "item@b" not in locked, sorted(locked)
    wait_for(lambda: not stage_workspaces(stack), 60, "the stage workspace to be removed")

    done = reproduce_cli(repo, stack, "tally_a", "item@b")
    assert done.returncode == 0, done.stderr[-4000:]
    assert json.loads(done.stdout) == {"make_data": False, "item@a": False, "tally_a": False, "item@b": True}
    assert json.loads(dvc(repo, "status", "--json", "tally_a", "item@b").stdout) == {}


@pytest.mark.long
def test_worker_lost_with_its_process_tree_is_noticed_and_the_stage_retried(stack, client, tmp_path, capsys):
    repo = make_toy_project(tmp_path, sleep_s=15)
    proc = start_reproduce(repo, stack, "item@a")
    lost = None
    try:
        run = _running_item(client, repo)
        lost = worker_of(run)
        time.sleep(2)  # mid-stage
        root = psutil.Process(stack["workers"][lost].pid)
        for signal_tree in ("suspend", "kill"):  # the machine is gone: freeze the tree (no new children), then kill it
            for process in [root, *root.children(recursive=True)]:
                try:
                    getattr(process, signal_tree)()
                except psutil.NoSuchProcess:  # a short-lived command (git, dvc) that just ended
                    pass
        killed = time.monotonic()
        crashed = wait_for(lambda: (lambda r: r if r.state.is_crashed() else None)(client.read_flow_run(run.id)),
                           3 * HEARTBEAT_SECONDS, "the lost run to be marked Crashed")
        detection_s = time.monotonic() - killed
        proc.wait(timeout=300)
        out, err = output(repo)
    finally:
        if proc.poll() is None:
            proc.kill()
        if lost:  # give the stack its worker back
            stack["workers"][lost] = stack["start_worker"](
                next(c for c in stack["commands"].workers if f"--name {lost}" in c))
    with capsys.disabled():
        print(f"\n[measured] worker tree killed -> run Crashed in {detection_s:.1f} s (bound {2 * HEARTBEAT_SECONDS} s)")
    assert detection_s <= 2 * HEARTBEAT_SECONDS
    assert "heartbeat" in (crashed.state.message or "")
    assert proc.returncode == 0, err[-5000:]
    assert json.loads(out) == {"make_data": True, "item@a": True}
    runs = worker_runs(client, repo)  # item@a rides in make_data's run: the retry redoes both
    assert {run.name for run in runs} == {"make_data + item@a"}
    assert sorted((run.state.type.value, worker_of(run) == lost) for run in runs) == [("COMPLETED", False), ("CRASHED", True)]
    assert json.loads(dvc(repo, "status", "--json", "make_data", "item@a").stdout) == {}
    wait_for(lambda: not stage_workspaces(stack), 10, "the lost run's workspace to be swept")
