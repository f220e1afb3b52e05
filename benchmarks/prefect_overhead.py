"""What Prefect costs over a plain `dvc repro`: the default pipeline reproduced twice from a clone of HEAD, once
with `dvc repro` and once by README's "Run it on one machine" commands (a local Prefect server, two workers),
with where the Prefect run's time went.

    uv run python benchmarks/prefect_overhead.py                     # both runs, ~15 min on 2 cores
    uv run python benchmarks/prefect_overhead.py --skip-plain        # the Prefect run only (plain time from --out)

Each run starts from nothing (its own clone, its own DVC cache): every model trains in both. The README commands
come from README.md as the long-tier test reads them (tests/orchestration/readme.py), with a free port and a
temporary remote. The breakdown sums over the stage items the workers ran: time queued (flow run created until it
was Running on a worker: waiting for a free worker, the worker's poll, its new flow-run process), the run's own
time outside its workspace (tagging, artifacts, finishing), and the workspace's phases (worker_run: workspace,
inputs, repro, outputs). Writes the measurement to ``--out``; docs/prefect.md quotes it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the README commands and the server plumbing live beside the tests

import pipeline  # noqa: E402,F401  (telemetry off before any import)
from pipeline.core.atomic import write_json  # noqa: E402
from pipeline.core.devices import cpu_model  # noqa: E402
from pipeline.orchestration.worker_run import subprocess_env  # noqa: E402
from tests.orchestration.readme import readme_commands  # noqa: E402
from tests.orchestration.server import free_port, prefect_env, spawn, stop_group, wait_healthy  # noqa: E402

DEFAULT_OUT = REPO_ROOT / "reports" / "prefect_overhead.json"


def clone_head(dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(dest)], check=True)
    return dest


def plain_repro(base: Path) -> float:
    project = clone_head(base / "plain")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=project, env=subprocess_env(), check=True,
                   stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def prefect_repro(base: Path) -> dict:
    """README's one-machine commands in a fresh clone; returns wall times and the per-item breakdown."""
    project = clone_head(base / "prefect")
    home, worker_tmp = base / "home", base / "worker-tmp"
    home.mkdir()
    worker_tmp.mkdir()
    port = free_port()
    commands = readme_commands(port, base / "remote")
    env = prefect_env(home)
    for name in ("PREFECT_API_URL", "PREFECT_WORKER_QUERY_SECONDS", "PREFECT_WORKER_HEARTBEAT_SECONDS"):
        env.pop(name, None)  # README's own commands and exports decide these

    def sh(command: str) -> str:
        done = subprocess.run(["bash", "-c", f"{commands.exports}\n{command}"], cwd=project, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"`{command}` exited {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return done.stdout

    api_url = f"http://127.0.0.1:{port}/api"
    set_up = time.monotonic()
    server = spawn(["bash", "-c", f"{commands.exports}\n{commands.server}"], env, home / "server.log", cwd=project)
    workers = []
    try:
        wait_healthy(server, api_url, home / "server.log")
        for command in commands.setup:
            sh(command)
        for command in commands.workers:
            name = command.split("--name", 1)[1].split()[0]
            workers.append(spawn(["bash", "-c", f"{commands.exports}\n{command}"], {**env, "TMPDIR": str(worker_tmp)},
                                 home / f"{name}.log", cwd=project))
        set_up_s = time.monotonic() - set_up
        started, started_at = time.monotonic(), datetime.datetime.now(datetime.timezone.utc)
        reran = json.loads(sh(commands.runs[0]))
        wall_s = time.monotonic() - started
        status = sh("dvc status --json")
        items = item_breakdown(api_url, str(project), started_at)
    finally:
        for proc in workers:
            stop_group(proc)
        stop_group(server)
    return {"wall_s": wall_s, "set_up_s": set_up_s, "items_reproduced": sum(reran.values()), "items": items,
            "dvc_status_clean": json.loads(status or "{}") == {}}


def item_breakdown(api_url: str, repo_url: str, started_at: datetime.datetime) -> list[dict]:
    """One row per worker run of this project: its queue time, time outside the workspace, workspace phases, and
    when it was created, started and ended (seconds after the coordinator command started: idle workers show)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pipeline.orchestration.dispatch import RESULT_ARTIFACT_TYPE, run_items, worker_of

    rows = []
    with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["run-stage"])))
        for run in runs:
            if run.parameters.get("repo_url") != repo_url or not run.start_time or not run.end_time:
                continue
            result = next((a.data for a in client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))) if a.type == RESULT_ARTIFACT_TYPE), None)
            result = json.loads(result) if isinstance(result, str) else (result or {})
            ran_s = (run.end_time - run.start_time).total_seconds()
            rows.append({
                "stage": run.name, "items": len(run_items(run.parameters)), "worker": worker_of(run), "state": run.state_name,
                "queued_s": round((run.start_time - run.created).total_seconds(), 3),
                "run_s": round(ran_s, 3),
                "outside_workspace_s": round(ran_s - result.get("seconds", 0.0), 3),
                "phases": result.get("phases", {}),
                "timeline_s": [round((t - started_at).total_seconds(), 1) for t in (run.created, run.start_time, run.end_time)],
            })
    return sorted(rows, key=lambda row: row["stage"])


def summarise(plain_s: float, prefect: dict) -> dict:
    items = prefect["items"]
    phases = {}
    for row in items:
        for name, seconds in row["phases"].items():
            phases[name] = phases.get(name, 0.0) + seconds
    return {
        "ratio": round(prefect["wall_s"] / plain_s, 2),
        "plain_dvc_repro_s": round(plain_s, 1),
        "prefect_two_workers_s": round(prefect["wall_s"], 1),
        "prefect_set_up_s": round(prefect["set_up_s"], 1),
        "items_on_workers": sum(row["items"] for row in items if row["state"] == "Completed"),
        "worker_runs": len(items),
        "coordinator_after_last_item_s": round(prefect["wall_s"] - max((r["timeline_s"][2] for r in items), default=0), 1),
        "summed_over_items_s": {
            "queued": round(sum(r["queued_s"] for r in items), 1),
            "run_outside_workspace": round(sum(r["outside_workspace_s"] for r in items), 1),
            **{name: round(seconds, 1) for name, seconds in phases.items()},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the measurement goes (JSON)")
    parser.add_argument("--skip-plain", action="store_true", help="reuse plain_dvc_repro_s from --out")
    parser.add_argument("--keep", action="store_true", help="keep the temporary clones (their path is printed)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="prefect-overhead-"))
    try:
        if args.skip_plain:
            plain_s = json.loads(args.out.read_text())["plain_dvc_repro_s"]
        else:
            plain_s = plain_repro(base)
            print(f"plain dvc repro: {plain_s:.1f} s", flush=True)
        prefect = prefect_repro(base)
        summary = summarise(plain_s, prefect)
        load = os.getloadavg()[0]
        measurement = {
            **summary,
            "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                     text=True).stdout.strip(),
            "cpu": f"{cpu_model()} ({os.cpu_count()} cores)",
            "load_after": round(load, 2),
            "dvc_status_clean": prefect["dvc_status_clean"],
            "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "items": prefect["items"],
        }
        write_json(args.out, measurement)
        print(json.dumps(summary, indent=2))
    finally:
        if args.keep:
            print(f"clones kept in {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
