"""The coordinator's side of one worker run: start it, wait with a bound, cancel it when told to stop.

Every wait ends: a run not picked up within `queue_bound_s`, or still running after the stage's
own bound, is cancelled and the stage fails (Prefect's task retry then starts a fresh run, which
any free worker may take); a run whose worker died is Crashed by the heartbeat automation
(liveness.py). STOP, set on SIGINT/SIGTERM, ends every wait at once and cancels the runs in flight.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable
from uuid import UUID

from pipeline.orchestration.worker_run import StageFailed

STOP = threading.Event()
RESULT_ARTIFACT_TYPE = "dvc-stage-result"  # carries a worker's (small) result back through the Prefect API
WORKER_TAG_PREFIX = "worker:"  # the run-stage flow tags its run with the worker that took it

_in_flight: dict[UUID, str] = {}
_in_flight_lock = threading.Lock()


class Stopped(RuntimeError):
    """The coordinator was told to stop (SIGINT/SIGTERM); not retried."""


def run_items(parameters: dict[str, Any]) -> list[str]:
    """The stage items a `run-stage` run reproduces, from its parameters: its stage, then its followers."""
    return [parameters["stage"], *(parameters.get("followers") or [])]


def kept_on_stop(finished: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What a stopped coordinator merges: the finished items' results and, for a follower whose own task has not
    yet taken its result from its leader's finished run, the result that run carried (a follower's error is not kept:
    a re-run redoes it)."""
    carried = {item: result for leader in finished.values() for item, result in leader.get("followers", {}).items()
               if "lock_entry" in result}
    return {**carried, **finished}  # an item's own task result wins


def run_name(items: list[str]) -> str:
    """A `run-stage` run's name: its items, `distill@E1 + evaluate_distill@E1` (the UI lists it by this)."""
    return " + ".join(items)


def short(text: str | None, lines: int = 8, width: int = 240) -> str:
    """The first `lines` lines of `text`, each cut to `width`: a failure must fit on one screen."""
    kept = [line[:width] for line in (text or "").strip().splitlines()[:lines]]
    more = len((text or "").strip().splitlines()) - len(kept)
    return "\n".join(kept) + (f"\n  ... ({more} more lines in the run's log)" if more > 0 else "")


def run_link(flow_run_id: UUID) -> str:
    """Where the full log of a run is: its UI page, else the CLI command that prints it."""
    from prefect.settings import PREFECT_UI_URL

    ui = PREFECT_UI_URL.value()
    cli = f"`prefect flow-run logs {flow_run_id}`"
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id} (or {cli})" if ui else cli


def worker_of(flow_run) -> str:
    tags = [tag[len(WORKER_TAG_PREFIX):] for tag in (flow_run.tags or []) if tag.startswith(WORKER_TAG_PREFIX)]
    return tags[-1] if tags else "(no worker yet)"


def cancel_in_flight() -> list[str]:
    """Cancel every worker run this process is waiting on; return their stage names."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelled, Cancelling

    with _in_flight_lock:
        runs = dict(_in_flight)
    if not runs:
        return []
    with get_client(sync_client=True) as api:
        for flow_run_id in runs:
            try:
                state = api.read_flow_run(flow_run_id).state
                if state is None or state.is_final():
                    continue
                # A run no worker has taken is simply cancelled; a taken one is killed by its worker.
                new = Cancelling if state.is_running() or state.is_pending() else Cancelled
                api.set_flow_run_state(flow_run_id, new(message="coordinator stopped"), force=True)
            except Exception:  # best effort: the API may be going away too
                pass
    return list(runs.values())


def run_on_worker(
    deployment: str, stage: str, parameters: dict[str, Any], *, bound_s: float, queue_bound_s: float,
    poll_s: float, log: Callable[..., None], scheduled: str | None = None,
) -> dict[str, Any]:
    """Run `stage` as a flow run of `deployment`, linked under the calling task run; return its result.

    `scheduled` (ISO time, default now) orders the waiting runs: workers take the earliest first
    (dvc_graph.queue_offsets).
    """
    from prefect.client.orchestration import get_client
    from prefect.context import TaskRunContext
    from prefect.states import Scheduled

    task_run = TaskRunContext.get()
    with get_client(sync_client=True) as client:
        deployment_id = client.read_deployment_by_name(deployment).id
        # Created here rather than with run_deployment(): that one adds a placeholder task run per
        # attempt; linking to our own task run keeps one task run per stage item in the UI.
        flow_run = client.create_flow_run_from_deployment(
            deployment_id, parameters=parameters, name=stage,
            parent_task_run_id=task_run.task_run.id if task_run else None,
            state=Scheduled(scheduled_time=datetime.fromisoformat(scheduled) if scheduled else datetime.now(timezone.utc)),
        )
        with _in_flight_lock:
            _in_flight[flow_run.id] = stage
        try:
            flow_run = _wait(client, flow_run, stage, bound_s, queue_bound_s, poll_s, log)
        finally:
            with _in_flight_lock:
                _in_flight.pop(flow_run.id, None)
        state = flow_run.state
        if not state.is_completed():
            raise StageFailed(
                f"stage {stage!r} on worker {worker_of(flow_run)}: run ended {state.name}\n"
                f"{short(state.message)}\n  full log: {run_link(flow_run.id)}"
            )
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterType

        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]), type=ArtifactFilterType(any_=[RESULT_ARTIFACT_TYPE]),
        ))
    if not artifacts:
        raise StageFailed(f"stage {stage!r}: run {flow_run.id} completed without a {RESULT_ARTIFACT_TYPE} artifact")
    data = artifacts[0].data
    return json.loads(data) if isinstance(data, str) else data  # the API stores it JSON-encoded


def _wait(client, flow_run, stage: str, bound_s: float, queue_bound_s: float, poll_s: float, log) -> Any:
    """Poll `flow_run` until it is final, the bound of its phase passes (cancel, fail) or STOP is set."""
    from prefect.states import Cancelling

    created, started = time.monotonic(), None
    while True:
        flow_run = client.read_flow_run(flow_run.id)
        state = flow_run.state
        if state is not None and state.is_final():
            return flow_run
        now = time.monotonic()
        if started is None and state is not None and state.is_running():
            started = now
            log("stage %s running on worker %s (run %s)", stage, worker_of(flow_run), flow_run.id)
        late = (now - created > queue_bound_s) if started is None else (now - started > bound_s)
        if STOP.is_set() or late:
            if not STOP.is_set():
                client.set_flow_run_state(flow_run.id, Cancelling(message="past the stage's bound"), force=True)
            raise Stopped(f"stage {stage!r}: coordinator stopped") if STOP.is_set() else StageFailed(
                f"stage {stage!r} on worker {worker_of(flow_run)}: "
                + (f"not picked up by a worker within {queue_bound_s:.0f} s" if started is None
                   else f"still running after its {bound_s:.0f} s bound")
                + f"; run cancelled\n  full log: {run_link(flow_run.id)}"
            )
        STOP.wait(poll_s)
