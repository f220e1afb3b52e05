"""Noticing lost workers with Prefect's own mechanisms: flow-run heartbeats and an automation.

A `run-stage` flow run emits a `prefect.flow-run.heartbeat` event every HEARTBEAT_SECONDS
(`PREFECT_FLOWS_HEARTBEAT_FREQUENCY`, set for the deployment in prefect.yaml; 30 s is Prefect's
minimum). When a worker machine dies with its whole process tree, nobody reports the run as
crashed; the automation below does: a `run-stage` run that is Running or has beaten and then
stays silent for MISSED_AFTER_SECONDS is set to Crashed. The server evaluates such proactive
triggers every 5 s, so a lost run is Crashed at most MISSED_AFTER_SECONDS + 5 s = 50 s after its
last heartbeat, under 2 x HEARTBEAT_SECONDS after the worker died; the coordinator then retries
the stage on another worker.
"""

from __future__ import annotations

from datetime import timedelta

HEARTBEAT_SECONDS = 30
MISSED_AFTER_SECONDS = HEARTBEAT_SECONDS * 3 // 2  # 45 s, 1.5 heartbeats: one late beat under load is not a crash
AUTOMATION_NAME = "run-stage: crash runs whose worker stopped beating"


def zombie_automation(flow_name: str):
    """The automation that marks `flow_name` runs without heartbeats as Crashed (not yet saved)."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return Automation(
        name=AUTOMATION_NAME,
        description=f"Runs of `{flow_name}` whose worker died (no heartbeat for {MISSED_AFTER_SECONDS} s) become Crashed, "
        "so the coordinator retries them elsewhere. Created by pipeline.orchestration (see docs/prefect.md).",
        trigger=EventTrigger(
            after={"prefect.flow-run.Running", "prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled", "prefect.flow-run.Cancelling", "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"}),
            match_related=ResourceSpecification({"prefect.resource.role": "flow", "prefect.resource.name": flow_name}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=MISSED_AFTER_SECONDS),
        ),
        actions=[ChangeFlowRunState(
            state=StateType.CRASHED,
            message=f"no heartbeat for {MISSED_AFTER_SECONDS} s: the worker running it is gone",
        )],
    )


def ensure_zombie_automation(flow_name: str) -> str:
    """Create the automation on the current Prefect server unless one with its name exists; return its id."""
    from prefect.automations import Automation

    try:
        return str(Automation.read(name=AUTOMATION_NAME).id)
    except ValueError:  # not found
        return str(zombie_automation(flow_name).create().id)
