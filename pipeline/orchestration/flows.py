"""Prefect flows: `reproduce` (coordinator) runs the DVC pipeline stage item by stage item; `run-stage`
(deployed to a `process` work pool) reproduces one item on whichever worker is free.

Run `python -m pipeline.orchestration.flows --help` for the command line; see docs/prefect.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pipeline  # noqa: F401  (no-network environment first)
from prefect import flow, get_run_logger, task
from prefect.artifacts import Artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.orchestration.dvc_graph import StageNode, load_stage_graph, select_stages
from pipeline.orchestration.lock_merge import (
    LOCK_FILE,
    encode_outputs,
    files_under,
    merge_lock_text,
    write_lock_entries,
    write_outputs,
)
from pipeline.orchestration.worker_run import (
    PIPELINE_FILES,
    StageFailed,
    dvc,
    run_command,
    run_stage_in_workspace,
    subprocess_env,
)

RUN_STAGE_FLOW = "run-stage"
DEFAULT_DEPLOYMENT = f"{RUN_STAGE_FLOW}/gpu"
RESULT_ARTIFACT_TYPE = "dvc-stage-result"  # carries a worker's result back through the Prefect API
TABLE_ARTIFACTS = {
    "table-iv-accuracy": ("reports/tables/table4_accuracy.md", "Table IV - accuracy of teacher, distilled and baseline students"),
    "table-v-efficiency": ("reports/tables/table5_efficiency.md", "Table V - size, FLOPs, memory, latency, throughput"),
}


# ----------------------------------------------------------------------------------------------
# Worker side
# ----------------------------------------------------------------------------------------------
@flow(name=RUN_STAGE_FLOW, flow_run_name="{stage}", persist_result=False)
def run_stage(
    stage: str,
    repo_url: str,
    commit: str,
    pipeline_files: dict[str, str],
    input_files: dict[str, str] | None = None,
    remote_url: str | None = None,
) -> dict[str, Any]:
    """Reproduce one DVC stage item in its own workspace on this worker (see worker_run)."""
    logger = get_run_logger()
    result = run_stage_in_workspace(
        stage, repo_url=repo_url, commit=commit, pipeline_files=pipeline_files,
        input_files=input_files, remote_url=remote_url, log=logger.info,
    )
    Artifact(type=RESULT_ARTIFACT_TYPE, data=result, description=f"DVC result of stage `{stage}`").create()
    create_markdown_artifact(
        markdown=_lock_entry_markdown(result),
        description=f"dvc.lock entry of `{stage}`",
    )
    return result


def _lock_entry_markdown(result: dict[str, Any]) -> str:
    from dvc.utils.serialize import dumps_yaml

    status = "reproduced" if result["reproduced"] else "unchanged (outputs pulled from the remote)"
    files = "\n".join(f"- `{path}`" for path in sorted(result["files"])) or "- (none)"
    return (
        f"### `{result['stage']}`: {status}\n\n"
        f"host `{result['host']}`, commit `{result['commit'][:12]}`, {result['seconds']:.1f} s\n\n"
        f"```yaml\n{dumps_yaml({result['stage']: result['lock_entry']})}```\n\n"
        f"Uncached outputs handed back:\n{files}\n"
    )


# ----------------------------------------------------------------------------------------------
# Coordinator side
# ----------------------------------------------------------------------------------------------
def _git(repo_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo_dir, env=subprocess_env(), check=True, capture_output=True, text=True
    ).stdout


def uncommitted_stage_code(repo_dir: Path, graph: dict[str, StageNode]) -> list[str]:
    """Changed or untracked files that stages depend on (workers clone the commit, so they would not see them).

    params.yaml, dvc.yaml and dvc.lock are exempt (they travel as parameters), so are stage outputs.
    """
    status = _git(repo_dir, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    changed = [entry[3:] for entry in status.split("\0") if len(entry) > 3]
    outs = {out for node in graph.values() for out in (*node.cached_outs, *node.uncached_outs)}
    deps = {dep for node in graph.values() for dep in node.deps}

    def under(path: str, prefixes: set[str]) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)

    return sorted(p for p in changed if p not in PIPELINE_FILES and under(p, deps) and not under(p, outs))


def default_remote_url(repo_dir: Path) -> str:
    """URL of the coordinator's default DVC remote (local paths made absolute, so workers find them)."""
    from dvc.repo import Repo

    with Repo(str(repo_dir)) as repo:
        config = repo.config
        name = config["core"].get("remote")
        if not name:
            raise ValueError(
                f"{repo_dir}: no default DVC remote; stage workspaces exchange data through one, e.g. "
                "`uv run dvc remote add -d storage /shared/dvc-remote` (or s3://..., gs://..., ssh://...)"
            )
        url = config["remote"][name]["url"]
    if "://" not in url and not Path(url).is_absolute():
        url = str((repo_dir / ".dvc" / url).resolve())
    return url


@task(name="dvc-stage", cache_policy=NO_CACHE, persist_result=False)
def stage_task(stage: str, plan: dict[str, Any], upstream_results: list[dict[str, Any]]) -> dict[str, Any]:
    """Run one stage item: as a `run-stage` flow run on a worker (deployment) or in-process."""
    logger = get_run_logger()
    if stage in plan["up_to_date"]:
        logger.info("stage %s is up to date in the coordinator checkout (dvc status); not dispatched", stage)
        return plan["up_to_date"][stage]
    node = StageNode(**plan["nodes"][stage])
    lock_text = merge_lock_text(plan["lock_text"], {r["stage"]: r["lock_entry"] for r in upstream_results})
    inputs = dict(plan["own_files"].get(stage, {}))
    for result in upstream_results:
        inputs.update(files_under(result["files"], node.deps))
    parameters = {
        "stage": stage,
        "repo_url": plan["repo_url"],
        "commit": plan["commit"],
        "pipeline_files": {**plan["pipeline_files"], LOCK_FILE: lock_text},
        "input_files": inputs,
        "remote_url": plan["remote_url"],
    }
    if not plan["deployment"]:
        result = run_stage_in_workspace(log=logger.info, **parameters)
    else:
        result = _run_on_worker(plan["deployment"], stage, parameters, plan["poll_interval"])
    logger.info(
        "stage %s %s on %s in %.1f s", stage,
        "reproduced" if result["reproduced"] else "unchanged", result["host"], result["seconds"],
    )
    return result


def _run_on_worker(deployment: str, stage: str, parameters: dict[str, Any], poll_interval: float) -> dict[str, Any]:
    """Trigger a `run-stage` flow run for `stage` and wait; its result comes back as an artifact."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterType
    from prefect.deployments import run_deployment

    flow_run = run_deployment(
        deployment, parameters=parameters, flow_run_name=stage, poll_interval=poll_interval, timeout=None
    )
    state = flow_run.state
    if state is None or not state.is_completed():
        kind = state.type.value if state else "UNKNOWN"
        message = state.message if state else ""
        raise StageFailed(f"stage {stage!r}: worker flow run {flow_run.name!r} ({flow_run.id}) ended {kind}: {message}")
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]),
                type=ArtifactFilterType(any_=[RESULT_ARTIFACT_TYPE]),
            )
        )
    if not artifacts:
        raise StageFailed(f"stage {stage!r}: flow run {flow_run.id} completed without a {RESULT_ARTIFACT_TYPE} artifact")
    data = artifacts[0].data
    return json.loads(data) if isinstance(data, str) else data  # the API stores it JSON-encoded


def publish_tables(repo_dir: Path) -> list[str]:
    """Table IV and V as Prefect markdown artifacts; a missing table is a warning, not a failure."""
    logger = get_run_logger()
    published = []
    for key, (rel, description) in TABLE_ARTIFACTS.items():
        path = repo_dir / rel
        if not path.exists():
            logger.warning("%s not found; artifact %s not published (did the report stage run?)", rel, key)
            continue
        create_markdown_artifact(markdown=path.read_text(), key=key, description=description)
        published.append(key)
    return published


def _up_to_date_results(
    root: Path, graph: dict[str, StageNode], selected: list[str], lock_text: str | None,
    own_files: dict[str, dict[str, str]], logger: Any,
) -> dict[str, dict[str, Any]]:
    """Results for stage items that need no worker: clean in this checkout's `dvc status` and
    nothing upstream of them dispatched. Their cached outputs are pushed so that workers of
    downstream items can pull them (a no-op when the remote has them already)."""
    import yaml

    status = json.loads(run_command(dvc("status", "--json", *selected), root, lambda line: None, "coordinator checkout") or "{}")
    lock_stages = (yaml.safe_load(lock_text) or {}).get("stages", {}) if lock_text else {}
    dispatched: set[str] = set()
    for name in selected:
        if name in status or name not in lock_stages or any(up in dispatched for up in graph[name].upstream):
            dispatched.add(name)
    clean = [name for name in selected if name not in dispatched]
    needed_by_workers = [
        name for name in clean
        if graph[name].cached_outs and any(name in graph[d].upstream for d in dispatched)
    ]
    if needed_by_workers:
        run_command(dvc("push", *needed_by_workers), root, logger.info, "coordinator checkout")
    return {
        name: {"stage": name, "lock_entry": lock_stages[name], "files": own_files[name], "reproduced": False,
               "commit": "", "host": "coordinator", "seconds": 0.0}
        for name in clean
    }


@flow(name="reproduce", task_runner=ThreadPoolTaskRunner(max_workers=64), persist_result=False)
def reproduce(
    repo_dir: str = ".",
    targets: list[str] | None = None,
    deployment: str | None = DEFAULT_DEPLOYMENT,
    retries: int = 1,
    retry_delay_seconds: float = 5.0,
    repo_url: str | None = None,
    remote_url: str | None = None,
    allow_dirty: bool = False,
    poll_interval: float = 2.0,
) -> dict[str, bool]:
    """Reproduce the DVC pipeline in `repo_dir`, one Prefect task per stage item, independent items in parallel.

    deployment: `run-stage` deployment whose workers run the items (None: run them in this process,
    each in its own workspace). Workers clone `repo_url` (default: `repo_dir` itself) at this
    checkout's HEAD and exchange cached data through the DVC remote (`remote_url`, default: this
    checkout's default remote). Returns {stage item: whether it was re-run}.
    """
    logger = get_run_logger()
    root = Path(repo_dir).resolve()
    graph = load_stage_graph(root)
    selected = select_stages(graph, targets)
    dirty = uncommitted_stage_code(root, graph)
    if dirty:
        message = f"uncommitted changes to stage code (workers run the committed version): {', '.join(dirty)}"
        if not allow_dirty:
            raise StageFailed(message + "; commit them, or pass allow_dirty=True to run the committed code")
        logger.warning(message)
    lock_path = root / LOCK_FILE
    lock_text = lock_path.read_text() if lock_path.exists() else None
    own_files = {name: encode_outputs(root, graph[name].uncached_outs) for name in selected}
    up_to_date = _up_to_date_results(root, graph, selected, lock_text, own_files, logger)
    plan = {
        "repo_url": repo_url or str(root),
        "commit": _git(root, "rev-parse", "HEAD").strip(),
        "remote_url": remote_url or default_remote_url(root),
        "deployment": deployment,
        "poll_interval": poll_interval,
        "pipeline_files": {name: (root / name).read_text() for name in PIPELINE_FILES[:2]},
        "lock_text": lock_text,
        "nodes": {name: graph[name].__dict__ for name in selected},
        "own_files": own_files,
        "up_to_date": up_to_date,
    }
    logger.info(
        "%d stage items, %d to dispatch at %s via %s", len(selected), len(selected) - len(up_to_date),
        plan["commit"][:12], deployment or "this process",
    )

    futures = {}
    for stage in selected:
        upstream = [futures[name] for name in graph[stage].upstream if name in futures]
        futures[stage] = stage_task.with_options(
            name=stage, task_run_name=stage, retries=retries, retry_delay_seconds=retry_delay_seconds
        ).submit(stage, plan, upstream)
    wait(list(futures.values()))

    results, failed, not_run = {}, {}, []
    for stage, future in futures.items():
        state = future.state
        if state.is_completed():
            results[stage] = future.result()
        elif state.is_failed() or state.is_crashed():
            failed[stage] = state.message or state.type.value
        else:
            not_run.append(stage)

    # Keep what finished even when something failed: a re-run then only redoes the rest.
    if results:
        for result in results.values():
            write_outputs(root, result["files"])
        write_lock_entries(root, {s: r["lock_entry"] for s, r in results.items()}, order=list(graph))
        cached = [s for s in results if graph[s].cached_outs and s not in up_to_date]
        if cached:
            run_command(dvc("pull", "--force", *cached), root, logger.info, "coordinator checkout")
    if failed:
        details = "; ".join(f"{stage}: {message}" for stage, message in failed.items())
        skipped = f" (not run because upstream failed: {', '.join(not_run)})" if not_run else ""
        raise StageFailed(f"DVC stage(s) failed: {', '.join(failed)}{skipped} - {details}")

    status = run_command(dvc("status", "--json", *selected), root, lambda line: None, "coordinator checkout").strip()
    if json.loads(status or "{}"):
        logger.warning("dvc status is not clean after the flow for %s: %s", ", ".join(json.loads(status)), status[:2000])
    publish_tables(root)
    return {stage: result["reproduced"] for stage, result in results.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the DVC pipeline as a Prefect flow, one task per stage item.")
    parser.add_argument("targets", nargs="*", help="stage items or foreach groups (default: the whole pipeline)")
    parser.add_argument("--repo-dir", default=".")
    parser.add_argument("--deployment", default=DEFAULT_DEPLOYMENT, help="run-stage deployment (default %(default)s)")
    parser.add_argument("--local", action="store_true", help="run items in this process instead of on workers")
    parser.add_argument("--retries", type=int, default=1)
    parser.add_argument("--retry-delay", type=float, default=5.0)
    parser.add_argument("--repo-url", help="git URL workers clone (default: --repo-dir)")
    parser.add_argument("--remote-url", help="DVC remote URL for workers (default: the checkout's default remote)")
    parser.add_argument("--allow-dirty", action="store_true", help="run although stage code has uncommitted changes")
    parser.add_argument("--poll-interval", type=float, default=2.0)
    args = parser.parse_args(argv)
    try:
        reran = reproduce(
            repo_dir=args.repo_dir, targets=args.targets or None, deployment=None if args.local else args.deployment,
            retries=args.retries, retry_delay_seconds=args.retry_delay, repo_url=args.repo_url,
            remote_url=args.remote_url, allow_dirty=args.allow_dirty, poll_interval=args.poll_interval,
        )
    except (StageFailed, ValueError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(reran, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
