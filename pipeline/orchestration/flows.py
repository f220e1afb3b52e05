"""Prefect flows: `reproduce` (coordinator) runs the DVC pipeline stage item by stage item; `run-stage`
(deployed to a `process` work pool) reproduces one item on whichever worker is free.

Run `python -m pipeline.orchestration.flows --help` for the command line; see docs/prefect.md.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pipeline  # noqa: F401  (no-network environment first)
from prefect import flow, get_run_logger, task
from prefect.artifacts import Artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext, TaskRunContext
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline.orchestration import dispatch
from pipeline.orchestration.checkout import (
    DEFAULT_STAGE_BOUND_S,
    check_pipeline_params,
    default_remote_url,
    git,
    merge_results,
    stage_bounds,
    stage_inputs,
    uncommitted_stage_code,
    up_to_date_results,
)
from pipeline.orchestration.dvc_graph import StageNode, load_stage_graph, queue_offsets, run_followers, select_stages
from pipeline.orchestration.gitignore import ignore_cached_outs
from pipeline.orchestration.lock_merge import LOCK_FILE
from pipeline.orchestration.packs import store_for
from pipeline.orchestration.preflight import Unreachable, check_git, check_remote, check_server
from pipeline.orchestration.worker_run import (
    StageFailed,
    dvc,
    run_command,
    run_stage_in_workspace,
    terminate_commands,
    worker_name,
)

RUN_STAGE_FLOW = "run-stage"
DEFAULT_DEPLOYMENT = f"{RUN_STAGE_FLOW}/gpu"
DEFAULT_TABLES_DIR = "reports/tables"  # dvc.yaml's vars.paths.tables: the report stage's output folder
_coordinator_run: dict[str, Any] = {}  # id of this process's `reproduce` run, to close it on a signal


# ----------------------------------------------------------------------------------------------
# Worker side
# ----------------------------------------------------------------------------------------------
def _run_name() -> str:
    """`distill@E1`, or `distill@E1 + evaluate_distill@E1` for a run with a follower: the items it reproduces."""
    from prefect.runtime import flow_run

    return dispatch.run_name(dispatch.run_items(flow_run.parameters))


@flow(name=RUN_STAGE_FLOW, flow_run_name=_run_name, persist_result=False)
def run_stage(
    stage: str, repo_url: str, commit: str, remote_url: str, inputs: list[str], timeout_s: float | None = None,
    followers: list[str] | None = None,
) -> dict[str, Any]:
    """Reproduce one DVC stage item, then its `followers` (items ready the moment it ends), in one workspace on
    this worker (see worker_run).

    Parameters are references only (a commit, a remote URL, pack hashes): a few hundred bytes
    whatever the stage reads or writes.
    """
    logger = get_run_logger()
    _tag_with_worker()
    result = run_stage_in_workspace(
        stage, repo_url=repo_url, commit=commit, inputs=inputs, remote_url=remote_url, followers=followers or (),
        log=logger.info, timeout_s=timeout_s,
    )
    Artifact(type=dispatch.RESULT_ARTIFACT_TYPE, data=result, description=f"DVC result of stage `{stage}`").create()
    for item in [result, *result["followers"].values()]:
        if "lock_entry" in item:
            create_markdown_artifact(markdown=_result_markdown(item), description=f"dvc.lock entry of `{item['stage']}`")
    return result


def _tag_with_worker() -> None:
    """Tag this run `worker:<name>`, so the coordinator (and the UI) can say which worker ran or lost it."""
    from prefect.client.orchestration import get_client

    run = FlowRunContext.get().flow_run
    with get_client(sync_client=True) as client:
        client.update_flow_run(run.id, tags=[*(run.tags or []), f"{dispatch.WORKER_TAG_PREFIX}{worker_name()}"])


def _result_markdown(result: dict[str, Any]) -> str:
    from dvc.utils.serialize import dumps_yaml

    status = "reproduced" if result["reproduced"] else "unchanged (outputs pulled from the remote)"
    files = "\n".join(f"- `{path}`" for path in result["files"]) or "- (none)"
    return (
        f"### `{result['stage']}`: {status}\n\n"
        f"worker `{result['worker']}` on `{result['host']}`, commit `{result['commit'][:12]}`, {result['seconds']:.1f} s\n\n"
        f"```yaml\n{dumps_yaml({result['stage']: result['lock_entry']})}```\n\n"
        f"Uncached outputs, pack `{(result['outputs'] or '-')[:12]}` in the DVC remote:\n{files}\n"
    )


# ----------------------------------------------------------------------------------------------
# Coordinator side
# ----------------------------------------------------------------------------------------------
def _not_stopped(task, task_run, state) -> bool:
    return not dispatch.STOP.is_set()


@task(name="dvc-stage", cache_policy=NO_CACHE, persist_result=False, retry_condition_fn=_not_stopped)
def stage_task(stage: str, plan: dict[str, Any], upstream_results: list[dict[str, Any]]) -> dict[str, Any]:
    """Run one stage item, with its followers: as a `run-stage` flow run on a worker (deployment) or in-process.

    A follower's task takes its result from its leader's run; when it failed there, the task fails with that
    error, and its retry (or a follower the leader's run never reached) runs it alone.
    """
    logger = get_run_logger()
    if stage in plan["up_to_date"]:
        logger.info("stage %s is up to date in the coordinator checkout (dvc status); not dispatched", stage)
        return plan["up_to_date"][stage]
    leader = plan["leader_of"].get(stage)
    if leader:
        carried = next((r["followers"].get(stage) for r in upstream_results if r["stage"] == leader), None) or {}
        if "lock_entry" in carried:
            _log_result(logger, carried, f"in {leader}'s run ")
            return carried
        if "error" in carried and TaskRunContext.get().task_run.run_count <= 1:
            raise StageFailed(dispatch.short(carried["error"]))
    followers = plan["followers"].get(stage, []) if not leader else []
    root = Path(plan["root"])
    store = store_for(str(root), url=plan["store_url"])
    inputs = stage_inputs(root, store, [StageNode(**plan["nodes"][name]) for name in [stage, *followers]],
                          plan["lock_text"], upstream_results, plan["up_to_date"], plan["nodes"])
    bound_s = sum(plan["bounds"][name] for name in [stage, *followers])
    parameters = {"stage": stage, "repo_url": plan["repo_url"], "commit": plan["commit"],
                  "remote_url": plan["remote_url"], "inputs": inputs, "timeout_s": bound_s, "followers": followers}
    try:
        if not plan["deployment"]:
            result = run_stage_in_workspace(log=logger.info, **parameters)
        else:
            result = dispatch.run_on_worker(
                plan["deployment"], dispatch.run_name([stage, *followers]), parameters, bound_s=bound_s + 120,
                queue_bound_s=plan["queue_bound_s"], poll_s=plan["poll_interval"], log=logger.info,
                scheduled=plan["scheduled"][stage],
            )
    except StageFailed as exc:  # in-process: no run link, the log is this flow run's
        raise StageFailed(dispatch.short(str(exc))) from None
    _log_result(logger, result)
    for follower in result.get("followers", {}).values():
        if "error" in follower:
            logger.warning("%s", dispatch.short(follower["error"]))
    return result


def _log_result(logger, result: dict[str, Any], run: str = "") -> None:
    logger.info("stage %s %s %son worker %s (%s) in %.1f s", result["stage"],
                "reproduced" if result["reproduced"] else "unchanged", run, result["worker"], result["host"],
                result["seconds"])


def publish_tables(tables_dir: Path) -> list[str]:
    """Tables IV and V as Prefect table artifacts (one row per run, readable in the UI) from the report's
    CSV files in ``tables_dir``; the Markdown version (paper beside ours) as the artifact description.
    A missing table is a warning."""
    import csv

    from pipeline.reporting.tables import paper_tables  # here: it brings pandas, which worker runs never need

    logger = get_run_logger()
    published = []
    for stem, table in paper_tables().items():  # the tables that declare an artifact key (pipeline/reporting)
        key, title = table.artifact, table.artifact_title
        if key is None:
            continue
        csv_path, md_path = tables_dir / f"{stem}.csv", tables_dir / f"{stem}.md"
        if not csv_path.exists():
            logger.warning("%s not found; artifact %s not published (did the report stage run?)", csv_path.name, key)
            continue
        with csv_path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        create_table_artifact(table=rows, key=key, description=f"{title} (`{stem}.md` has the paper's values beside ours)")
        if md_path.exists():
            create_markdown_artifact(markdown=md_path.read_text(), key=f"{key}-md", description=title)
        published.append(key)
    return published


def plan_run(root: Path, targets: list[str] | None, deployment: str | None, repo_url: str | None,
             remote_url: str | None, allow_dirty: bool, poll_interval: float, stage_timeout_s: float,
             queue_timeout_s: float, log, fuse: bool = True) -> tuple[dict[str, StageNode], list[str], dict[str, Any]]:
    """What to run and how: (graph, selected items, plan). The plan holds plain values only (tasks get it).

    Refuses, before anything is dispatched, a bad params.yaml (this pipeline's checked whole, as its first
    stage checks it; any project's `orchestration` section) and uncommitted stage code (unless
    `allow_dirty`); items already up to date in this checkout are marked as such. With `fuse`, an item ready the
    moment another ends rides in that one's worker run (dvc_graph.run_followers).
    """
    started = datetime.now(timezone.utc)
    check_pipeline_params(root)
    graph = load_stage_graph(root)
    selected = select_stages(graph, targets)
    bounds = stage_bounds(root, selected, stage_timeout_s, known=graph)  # a bad orchestration section stops here
    dirty = uncommitted_stage_code(root, graph)
    if dirty:
        message = f"uncommitted changes to stage code (workers run the committed version): {', '.join(dirty)}"
        if not allow_dirty:
            raise StageFailed(message + "; commit them, or pass allow_dirty=True to run the committed code")
        log.warning(message)
    if deployment:
        from pipeline.orchestration.liveness import ensure_zombie_automation

        ensure_zombie_automation(RUN_STAGE_FLOW)
    lock_path = root / LOCK_FILE
    lock_text = lock_path.read_text() if lock_path.exists() else None
    store_for(str(root), url=remote_url)  # opened once, now: an interrupt later merges without opening the repo
    up_to_date = up_to_date_results(root, graph, selected, lock_text, log.info)
    groups = run_followers(graph, [name for name in selected if name not in up_to_date]) if fuse else {}
    plan = {
        "root": str(root), "store_url": remote_url,
        "repo_url": repo_url or str(root),
        "commit": git(root, "rev-parse", "HEAD").strip(),
        "remote_url": remote_url or default_remote_url(root),
        "deployment": deployment,
        "poll_interval": poll_interval,
        "queue_bound_s": queue_timeout_s,
        "bounds": bounds,
        "lock_text": lock_text,
        "nodes": {name: graph[name].__dict__ for name in selected},
        "scheduled": {name: (started - timedelta(seconds=offset)).isoformat()
                      for name, offset in queue_offsets(graph, selected).items()},
        "up_to_date": up_to_date,
        "followers": groups,
        "leader_of": {item: leader for leader, items in groups.items() for item in items},
    }
    return graph, selected, plan


def dispatch_stages(graph: dict[str, StageNode], selected: list[str], plan: dict[str, Any], retries: int,
                    retry_delay_seconds: float) -> dict[str, Any]:
    """One task per item, each submitted with its upstream items' futures (a leader with its followers' too: their
    outputs go into its run's inputs); waits for all of them.

    On an interrupt (SIGINT / SIGTERM) every wait ends, the worker runs are cancelled, what finished
    is merged into the checkout, and the interrupt goes on.
    """
    futures: dict[str, Any] = {}
    try:
        for stage in selected:
            run = [stage, *plan["followers"].get(stage, [])]
            wanted = dict.fromkeys(up for name in run for up in graph[name].upstream if up not in run)
            if stage in plan["leader_of"]:  # its result comes in the leader's (its upstream may be another follower)
                wanted[plan["leader_of"][stage]] = None
            upstream = [futures[name] for name in wanted if name in futures]
            futures[stage] = stage_task.with_options(
                name=stage, task_run_name=stage, retries=retries, retry_delay_seconds=retry_delay_seconds
            ).submit(stage, plan, upstream)
        wait(list(futures.values()))
    except BaseException:  # SIGINT / SIGTERM: end every wait now, cancel worker runs, keep what finished
        _stop()
        done = dispatch.kept_on_stop({s: f.result() for s, f in futures.items() if f.state.is_completed()})
        root = Path(plan["root"])
        merge_results(root, store_for(str(root), url=plan["store_url"]),
                      {s: r for s, r in done.items() if s not in plan["up_to_date"]}, order=list(graph))
        raise
    return futures


def collect(futures: dict[str, Any]) -> tuple[dict[str, dict], dict[str, str], list[str]]:
    """(results of finished items, short errors of failed ones, items not run because upstream failed)."""
    results, failed, not_run = {}, {}, []
    for stage, future in futures.items():
        state = future.state
        if state.is_completed():
            results[stage] = future.result()
        elif state.is_failed() or state.is_crashed():
            failed[stage] = _task_error(state)
        else:
            not_run.append(stage)
    return results, failed, not_run


def finalize(graph: dict[str, StageNode], selected: list[str], plan: dict[str, Any], results: dict[str, dict],
             failed: dict[str, str], not_run: list[str], tables_dir: str | None, log) -> dict[str, bool]:
    """Merge what finished into the checkout (even when something failed: a re-run then only redoes the rest),
    pull the cached outputs, raise the failures, check `dvc status`, publish the tables from ``tables_dir``."""
    root = Path(plan["root"])
    store = store_for(str(root), url=plan["store_url"])
    fresh = {s: r for s, r in results.items() if s not in plan["up_to_date"]}
    to_pull = [s for s in merge_results(root, store, fresh, order=list(graph)) if graph[s].cached_outs]
    if to_pull:
        run_command(dvc("pull", "--force", *to_pull), root, log.info, "coordinator checkout")
    if fresh:  # what `dvc repro` leaves: .gitignore entries of the cached outputs, and both staged under autostage
        ignore_cached_outs(root, to_pull, written=[LOCK_FILE])
    if failed:
        skipped = f"\nnot run because upstream failed: {', '.join(not_run)}" if not_run else ""
        details = "\n".join(failed.values())
        raise StageFailed(f"DVC stage(s) failed: {', '.join(failed)}{skipped}\n{details}")
    status = run_command(dvc("status", "--json", *selected), root, lambda line: None, "coordinator checkout").strip()
    if json.loads(status or "{}"):
        log.warning("dvc status is not clean after the flow for %s", ", ".join(json.loads(status)))
    if tables_dir:
        publish_tables(root / tables_dir)
    return {stage: result["reproduced"] for stage, result in results.items()}


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
    poll_interval: float = 1.0,
    stage_timeout_s: float = DEFAULT_STAGE_BOUND_S,
    queue_timeout_s: float = 24 * 3600.0,
    tables_dir: str | None = DEFAULT_TABLES_DIR,
    fuse: bool = True,
) -> dict[str, bool]:
    """Reproduce the DVC pipeline in `repo_dir`, one Prefect task per stage item, independent items in parallel.

    deployment: `run-stage` deployment whose workers run the items (None: run them in this process,
    each in its own workspace). Workers clone `repo_url` (default: `repo_dir` itself) at this
    checkout's HEAD and exchange files through the DVC remote (`remote_url`, default: this
    checkout's default remote). `tables_dir` (relative to `repo_dir`; None: none) holds the report's
    tables published as artifacts. Returns {stage item: whether it was re-run}.
    """
    logger = get_run_logger()
    _coordinator_run["id"] = FlowRunContext.get().flow_run.id
    root = Path(repo_dir).resolve()
    graph, selected, plan = plan_run(root, targets, deployment, repo_url, remote_url, allow_dirty, poll_interval,
                                     stage_timeout_s, queue_timeout_s, logger, fuse)
    logger.info("%d stage items, %d to dispatch at %s via %s", len(selected), len(selected) - len(plan["up_to_date"]),
                plan["commit"][:12], deployment or "this process")
    for leader, items in plan["followers"].items():
        logger.info("%s run in the worker run of %s", dispatch.run_name(items), leader)
    futures = dispatch_stages(graph, selected, plan, retries, retry_delay_seconds)
    results, failed, not_run = collect(futures)
    return finalize(graph, selected, plan, results, failed, not_run, tables_dir, logger)


def _task_error(state) -> str:
    """The stage's own error from a failed task state (not Prefect's wrapping around it), kept short."""
    try:
        state.result()
    except BaseException as exc:  # the task's exception, re-raised by Prefect
        return dispatch.short(str(exc), lines=10)
    return dispatch.short(state.message)


def _stop() -> None:
    """Stop every wait and command of this process and cancel the worker runs it started."""
    dispatch.STOP.set()
    terminate_commands()
    dispatch.cancel_in_flight()


def _close_coordinator_run(reason: str) -> None:
    """Leave this process's `reproduce` run Cancelled, not Running (the engine marks it only on a clean exit)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled

    if "id" not in _coordinator_run:
        return
    try:
        with get_client(sync_client=True) as client:
            if not client.read_flow_run(_coordinator_run["id"]).state.is_final():
                client.set_flow_run_state(_coordinator_run["id"], Cancelled(message=reason), force=True)
    except Exception:
        pass


def _on_sigterm(signum, frame) -> None:
    """SIGTERM like Ctrl-C. Inside the flow Prefect's own handler raises first; the flow body then
    stops everything, and this handler (re-invoked by Prefect) keeps quiet."""
    if not dispatch.STOP.is_set():
        raise KeyboardInterrupt(f"signal {signum}")


def preflight(root: Path, targets: list[str] | None, local: bool, repo_url: str | None, remote_url: str | None,
              stage_timeout_s: float) -> None:
    """What `reproduce` would refuse, refused before the flow starts (so it is said once, not also in Prefect's
    logs of a crashed run), and what a worker on another host needs from this one, reached as it would be."""
    check_server()
    check_pipeline_params(root)
    graph = load_stage_graph(root)
    stage_bounds(root, select_stages(graph, targets), stage_timeout_s, known=graph)
    if not local:
        check_git(repo_url or str(root))
        check_remote(remote_url or default_remote_url(root))


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
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--stage-timeout", type=float, default=DEFAULT_STAGE_BOUND_S,
                        help="bound on one stage's run, seconds, unless params.yaml orchestration.timeout_s sets it")
    parser.add_argument("--queue-timeout", type=float, default=24 * 3600.0,
                        help="bound on waiting for a worker to take a stage, seconds")
    parser.add_argument("--one-run-per-item", action="store_true",
                        help="give every stage item its own worker run (default: an item ready the moment another "
                             "ends, such as an evaluation after its training, runs in that one's run)")
    parser.add_argument("--tables-dir", default=DEFAULT_TABLES_DIR,
                        help="folder (in --repo-dir) of the report tables published as artifacts (default %(default)s)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        preflight(Path(args.repo_dir).resolve(), args.targets or None, args.local, args.repo_url, args.remote_url,
                  args.stage_timeout)
    except (Unreachable, ValueError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    try:
        reran = reproduce(
            repo_dir=args.repo_dir, targets=args.targets or None, deployment=None if args.local else args.deployment,
            retries=args.retries, retry_delay_seconds=args.retry_delay, repo_url=args.repo_url,
            remote_url=args.remote_url, allow_dirty=args.allow_dirty, poll_interval=args.poll_interval,
            stage_timeout_s=args.stage_timeout, queue_timeout_s=args.queue_timeout, tables_dir=args.tables_dir,
            fuse=not args.one_run_per_item,
        )
    except (StageFailed, ValueError, Unreachable) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # e.g. the server went away mid-run: named, not reported as a stop
        _stop()
        _close_coordinator_run(f"failed: {type(exc).__name__}")
        print(f"ERROR: {type(exc).__name__}: {dispatch.short(str(exc))}", file=sys.stderr)
        return 1
    except BaseException as exc:  # KeyboardInterrupt, Prefect's TerminationSignal
        if isinstance(exc, SystemExit) and not dispatch.STOP.is_set():
            raise
        _stop()
        _close_coordinator_run("stopped by a signal")
        print("stopped: worker runs cancelled, finished stages merged; run the same command again to resume",
              file=sys.stderr)
        return 130
    print(json.dumps(reran, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
