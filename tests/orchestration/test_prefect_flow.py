"""The Prefect flow against a real local Prefect server and two `process` workers.

Session fixture: server (SQLite in a temp PREFECT_HOME, 127.0.0.1, free port), work pool `gpu`, the
`run-stage/gpu` deployment from the repo's prefect.yaml, and two workers running one flow run each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestration_toy import STAGES, dvc, make_toy_project
from prefect_server import prefect_env, prefect_server, process_workers, run_cli

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def prefect_stack(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    with prefect_server(home) as api_url:
        env = prefect_env(home, api_url)
        run_cli([sys.executable, "-m", "prefect", "work-pool", "create", "gpu", "--type", "process"], env)
        run_cli([sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"], env, cwd=REPO_ROOT)
        with process_workers("gpu", 2, env, home):
            yield {"api_url": api_url, "env": env, "home": home}


@pytest.fixture
def prefect_client(prefect_stack):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_stack["api_url"]}):
        with get_client(sync_client=True) as client:
            yield client


def reproduce_cli(repo: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.orchestration.flows", "--repo-dir", str(repo),
         "--retry-delay", "0", "--poll-interval", "0.5", *extra],
        env=env, capture_output=True, text=True, timeout=400,
    )


@pytest.fixture(scope="session")
def toy_run(prefect_stack, tmp_path_factory):
    """The toy pipeline reproduced once through the deployment and the two workers."""
    repo = make_toy_project(tmp_path_factory.mktemp("toy-flow"), barrier=True)
    done = reproduce_cli(repo, prefect_stack["env"])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return {"repo": repo, "reran": json.loads(done.stdout), "log": done.stderr}


def _flow_runs(client, flow_name: str):
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    return client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])))


def test_flow_reproduces_pipeline_and_leaves_dvc_status_clean(toy_run):
    repo = toy_run["repo"]
    assert toy_run["reran"] == {stage: True for stage in STAGES}
    assert json.loads(dvc(repo, "status", "--json")) == {}
    assert "Running stage" not in dvc(repo, "repro")
    totals = json.loads((repo / "summary.json").read_text())["totals"]
    assert totals == {"a": 20 * 1, "b": 20 * 3}  # 2 * (0+1+2+3+4) * n
    assert (repo / "out" / "b.txt").read_text() == "b 60\n"  # cached out, checked out from the remote


def test_every_task_run_completed_and_flaky_stage_was_retried(toy_run, prefect_client):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    (coordinator,) = [run for run in _flow_runs(prefect_client, "reproduce") if run.parameters.get("deployment")]
    assert coordinator.state.is_completed()
    task_runs = prefect_client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[coordinator.id])))
    # run_deployment adds one placeholder task run per worker flow run (the UI's link to the subflow).
    placeholders = [run for run in task_runs if ".run_deployment." in run.task_key]
    stage_runs = [run for run in task_runs if ".run_deployment." not in run.task_key]
    assert {run.name: run.state.type.value for run in stage_runs} == {stage: "COMPLETED" for stage in STAGES}
    assert len(stage_runs) == len(STAGES)
    runs_by_name = {run.name: run for run in stage_runs}
    assert runs_by_name["flaky"].run_count == 2 and runs_by_name["item@a"].run_count == 1
    worker_runs = _flow_runs(prefect_client, "run-stage")
    assert {run.parent_task_run_id for run in worker_runs} == {run.id for run in placeholders}
    assert len(worker_runs) == len(STAGES) + 1  # one retry
    flaky_states = sorted(run.state.type.value for run in worker_runs if run.name == "flaky")
    assert flaky_states == ["COMPLETED", "FAILED"]


def test_independent_items_ran_concurrently_on_two_workers(toy_run, prefect_client):
    worker_runs = {run.name: run for run in _flow_runs(prefect_client, "run-stage") if run.state.is_completed()}
    a, b = worker_runs["item@a"], worker_runs["item@b"]
    assert a.start_time < b.end_time and b.start_time < a.end_time, "item@a and item@b did not overlap"
    # The stage commands themselves overlapped: each waited at a barrier until the other had started.
    ma, mb = (json.loads((toy_run["repo"] / "metrics" / f"{k}.json").read_text()) for k in "ab")
    assert ma["barrier_met"] and mb["barrier_met"]
    assert ma["started"] < mb["ended"] and mb["started"] < ma["ended"]
    # Downstream waited for upstream.
    assert worker_runs["make_data"].end_time <= min(a.start_time, b.start_time)
    assert worker_runs["summary"].start_time >= max(a.end_time, b.end_time, worker_runs["flaky"].end_time)


def test_tables_published_as_markdown_artifacts(toy_run, prefect_client):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    artifacts = prefect_client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["table-iv-accuracy"])))
    assert artifacts and artifacts[0].type == "markdown"
    assert artifacts[0].data == (toy_run["repo"] / "reports" / "tables" / "table4_accuracy.md").read_text()
    assert "table5_efficiency.md not found" in toy_run["log"]  # the toy writes no Table V: a warning, no failure


def test_rerun_redoes_only_changed_items_and_failure_names_the_stage(toy_run, prefect_stack):
    """In-process mode (no workers): a changed param re-runs its item and downstream; a failing stage fails the flow."""
    repo = toy_run["repo"]
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["items"]["b"]["n"] = 5
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    done = reproduce_cli(repo, prefect_stack["env"], "--local")
    assert done.returncode == 0, done.stderr[-6000:]
    assert json.loads(done.stdout) == {stage: stage in ("item@b", "flaky", "summary") for stage in STAGES}
    assert f"{len(STAGES)} stage items, 3 to dispatch" in done.stderr  # the rest is clean in `dvc status`
    assert json.loads(dvc(repo, "status", "--json")) == {}
    assert json.loads((repo / "summary.json").read_text())["totals"]["b"] == 20 * 5

    dvc_yaml = (repo / "dvc.yaml").read_text()
    (repo / "dvc.yaml").write_text(dvc_yaml.replace("python src/summary.py", "python -c 'raise SystemExit(9)'"))
    failed = reproduce_cli(repo, prefect_stack["env"], "--local", "--retries", "0")
    assert failed.returncode == 1
    assert "ERROR: DVC stage(s) failed: summary" in failed.stderr
    assert "exited with 9" in failed.stderr or "SystemExit(9)" in failed.stderr


def _copy_working_tree(dest: Path) -> None:
    """The project's code as it is now (tracked and untracked, not ignored), without data, outputs or dvc.lock."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True).stdout.split("\0")
    skip_dirs = ("data/", "models/", "reports/", "tests/", "benchmarks/")
    for rel in filter(None, listed):
        src = REPO_ROOT / rel
        if rel.startswith(skip_dirs) or rel == "dvc.lock" or not src.is_file():
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(src.read_bytes())
    (dest / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (dest / "data" / "raw" / ".gitkeep").write_text("")


TINY_PARAMS = {
    "synthetic": {"train": 140, "val": 70, "test": 70},
    "models": {"teacher": {"width": 0.0625, "se_reduction": 1}, "student_a": {"width": 0.03125, "se_reduction": 1},
               "student_c": {"width": 0.03125, "se_reduction": 1}},
    "train": {"input_size": 16, "batch_size": 32, "eval_batch_size": 64, "device": "cpu"},
    "teacher": {"epochs": 1},
    "student": {"epochs": 1},
    "distill": {"runs": {"E1": {"student": "student_a", "T": 3, "alpha": 0.2},
                         "E6": {"student": "student_c", "T": 3, "alpha": 0.2}}},
    "baseline": {"students": ["student_c"]},
    "benchmark": {"input_sizes": [16], "primary_input_size": 16, "latency_runs": 2, "warmup_runs": 1,
                  "throughput_batch": 4, "throughput_runs": 1, "onnx": False},
}


@pytest.mark.slow
def test_real_pipeline_with_tiny_params_on_workers(prefect_stack, prefect_client, tmp_path):
    """The project's own dvc.yaml and stages, tiny sizes, through the deployment and both workers."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    repo = tmp_path / "repo"
    _copy_working_tree(repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for section, values in TINY_PARAMS.items():  # shallow merge; `models` replaced (no student_b)
        params[section] = values if section == "models" else {**params[section], **values}
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    dvc(repo, "remote", "add", "-d", "local", str(tmp_path / "remote"))
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "tiny"], cwd=repo, check=True)

    done = reproduce_cli(repo, prefect_stack["env"])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-8000:]
    reran = json.loads(done.stdout)
    assert {"train_teacher", "distill@E1", "distill@E6", "train_student@student_c", "report"} <= set(reran)
    assert all(reran.values())
    assert json.loads(dvc(repo, "status", "--json")) == {}
    assert (repo / "models" / "distill" / "E6" / "model.pt").is_file()  # cached out, pulled from the remote
    assert json.loads((repo / "reports" / "eval" / "E1" / "metrics.json").read_text())  # uncached, handed back

    worker_runs = {run.name: run for run in _flow_runs(prefect_client, "run-stage")
                   if run.state.is_completed() and run.parameters.get("repo_url") == str(repo)}
    e1, e6 = worker_runs["distill@E1"], worker_runs["distill@E6"]
    assert e1.start_time < e6.end_time and e6.start_time < e1.end_time, "distill items did not overlap"
    for key, rel in (("table-iv-accuracy", "table4_accuracy.md"), ("table-v-efficiency", "table5_efficiency.md")):
        published = prefect_client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
        assert (repo / "reports" / "tables" / rel).read_text() in [artifact.data for artifact in published]
