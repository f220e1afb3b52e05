"""A `reproduce` run's page in the Prefect UI, as a browser renders it: every stage item on it.

    python -m pipeline.orchestration.ui docs/prefect_run.png [--flow-run ID]

opens the page of the latest `reproduce` run (or of run ID) on the server that PREFECT_API_URL names in
headless Chromium, shows its Subflow Runs tab, waits until the single-page app has rendered the name of
each stage item, saves a screenshot and prints the names. Each stage item is a task run of `reproduce`
whose `run-stage` flow run (named after the item) did the work on a worker; Prefect's UI lists a task run
that has a subflow run under Subflow Runs, not under Task Runs, so that is the tab a person reads. The
API lists the runs without a browser; this proves that a person opening the page sees them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from uuid import UUID

from pipeline.browser.chromium import Chromium, find_chromium

FLOW_NAME = "reproduce"
TAB = "Subflow Runs"
GRAPH_DRAW_S = 2.0  # the run's graph is a canvas: no DOM text says it is drawn, so a pause before the picture


def run_page(flow_run_id: UUID | str) -> str:
    from prefect.settings import PREFECT_UI_URL

    return f"{PREFECT_UI_URL.value().rstrip('/')}/runs/flow-run/{flow_run_id}"


def task_run_names(client, flow_run_id: UUID | str, settle_s: float = 3.0, timeout_s: float = 60.0) -> list[str]:
    """The names of the run's task runs once the server has recorded them all: task runs reach its database
    through the event recorder, shortly after the flow, so the list must be final and unchanged for
    ``settle_s``."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(str(flow_run_id))]))
    deadline, last, since = time.monotonic() + timeout_s, None, time.monotonic()
    while True:
        runs = client.read_task_runs(flow_run_filter=run_filter)
        names = sorted(run.name for run in runs) if all(run.state and run.state.is_final() for run in runs) else None
        if names != last:
            last, since = names, time.monotonic()
        elif names and time.monotonic() - since >= settle_s:
            return names
        if time.monotonic() > deadline:
            raise TimeoutError(f"the task runs of flow run {flow_run_id} did not settle within {timeout_s:g} s")
        time.sleep(0.5)


def newest_items(client, flow_run_id: UUID | str, count: int) -> list[str]:
    """The names of the run's ``count`` most recently started subflow runs (stage items), as the tab lists them
    first ("Newest")."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
    from prefect.client.schemas.sorting import FlowRunSort

    children = FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[UUID(str(flow_run_id))]))
    return [run.name for run in client.read_flow_runs(flow_run_filter=children, sort=FlowRunSort.START_TIME_DESC,
                                                       limit=count)]


def latest_run(client) -> UUID:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[FLOW_NAME])),
                                 sort=FlowRunSort.START_TIME_DESC, limit=1)
    if not runs:
        raise LookupError(f"no `{FLOW_NAME}` run on this server")
    return runs[0].id


def show_stage_items(page: Chromium, url: str, names: list[str], timeout_s: float = 60.0) -> str:
    """Open ``url`` (a flow run's page), show its Subflow Runs tab (clicked until the app makes it the active
    one) and wait until every name is on a line of the rendered page, alone or after its flow's name; the
    page's text."""
    page.open(url)
    check = f"""(() => {{
        const tab = [...document.querySelectorAll('li.p-tab')].find(e => e.innerText.trim() === {json.dumps(TAB)});
        if (!tab) return '';
        if (!tab.classList.contains('p-tab__active')) {{ tab.click(); return ''; }}
        const text = document.body.innerText, lines = text.split('\\n').map(line => line.trim());
        const shown = name => lines.some(line => line === name || line.split(/[\\s/>\\u203a]+/).includes(name));
        return {json.dumps(names)}.every(shown) ? text : ''; }})()"""
    try:
        return page.wait_for(check, timeout_s, what=f"every stage item with the {TAB} tab shown")
    except TimeoutError as exc:
        active = page.evaluate("document.querySelector('li.p-tab__active')?.innerText || '(no active tab)'")
        seen = page.evaluate("document.body.innerText.slice(0, 600)")
        raise TimeoutError(f"{exc}; active tab {active!r}; the page at {url} shows: {seen!r}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot a reproduce run's page in the Prefect UI.")
    parser.add_argument("png", type=Path, help="where to write the screenshot")
    parser.add_argument("--flow-run", help="the run (default: the latest reproduce run)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the page, each step")
    parser.add_argument("--newest", type=int, default=0,
                        help="wait for the N most recently started items only (the tab pages a long run's items); "
                             "0: every item")
    args = parser.parse_args(argv)
    from prefect.client.orchestration import get_client

    if find_chromium() is None:
        print("ERROR: no chromium on PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 1
    try:
        with get_client(sync_client=True) as client:
            flow_run = args.flow_run or latest_run(client)
            names = task_run_names(client, flow_run, timeout_s=args.timeout)
            wanted = newest_items(client, flow_run, args.newest) if args.newest else names
        with Chromium(width=1400, height=1000, timeout_s=args.timeout) as page:
            show_stage_items(page, run_page(flow_run), wanted, args.timeout)
            time.sleep(GRAPH_DRAW_S)
            page.screenshot(args.png, full_page=False)
    except (LookupError, TimeoutError, RuntimeError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"flow_run": str(flow_run), "stage_items": names, "shown": sorted(set(wanted)),
                      "png": str(args.png)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
