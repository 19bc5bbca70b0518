"""`selfheal demo`: one chaos scenario through the whole loop on the sandbox.

The real path runs: the sandbox's alert monitor sees the broken pods and posts an
Alertmanager webhook; the webhook starts the incident; the worker analyses, proposes and
opens the pull request; the demo approves exactly as `selfheal approve` does; the GitOps
sync deploys the merge; the worker verifies and resolves.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Console
from temporalio.client import Client

from selfheal.cli.render import print_status
from selfheal.client import decisions
from selfheal.client.incidents import incident_ui_url
from selfheal.model.decisions import Approval
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal.settings import Settings
from selfheal_lab.watch import incident_about

DEMO_APPROVER = "demo-approver"
FINAL_STATES = (IncidentState.RESOLVED, IncidentState.ESCALATED)


@dataclass
class DemoOutcome:
    """How the demo ended: the incident (if one opened) and whether it resolved."""

    resolved: bool
    message: str
    status: IncidentStatus | None = None


async def close_stale_incidents(client: Client, namespace: str) -> int:
    """Terminate running incidents of the sandbox namespace left by an earlier demo run.

    Their sandbox was just started afresh, so they describe a cluster that no longer exists;
    left open, a new alert about the same workload would join them instead of starting anew.
    """
    query = (
        "WorkflowType = 'IncidentWorkflow' AND ExecutionStatus = 'Running' "
        f"AND IncidentNamespace = '{namespace}'"
    )
    stale = [execution.id async for execution in client.list_workflows(query)]
    for incident_id in stale:
        await client.get_workflow_handle(incident_id).terminate(
            reason="the sandbox was restarted by `selfheal demo`"
        )
    return len(stale)


async def follow_incident(
    client: Client,
    settings: Settings,
    console: Console,
    deployment: str,
    since: datetime,
    timeout: float,
) -> DemoOutcome:
    """Wait for the incident, approve its fix like the CLI would, and follow it to the end."""
    deadline = time.monotonic() + timeout
    console.print(f"waiting for the monitor's alert about [bold]{deployment}[/] …")
    try:
        incident_id = await incident_about(client, deployment, since, timeout)
    except TimeoutError:
        return DemoOutcome(False, f"no incident opened for {deployment} within {timeout:.0f}s")
    ui_url = incident_ui_url(settings.temporal_ui_url, client.namespace, incident_id)
    # Links and commands are printed whole (soft_wrap) so they stay clickable and copyable
    # when the output is not a terminal of known width.
    console.print(f"incident [bold]{incident_id}[/] opened: {ui_url}", soft_wrap=True)
    shown = 0
    approved = False
    status: IncidentStatus | None = None
    while time.monotonic() < deadline:
        status = await decisions.read_status(client, incident_id)
        for entry in status.timeline[shown:]:
            console.print(
                f"  {entry.at:%H:%M:%S} {entry.state.value:<18} {entry.note}", markup=False
            )
        shown = len(status.timeline)
        if status.state in FINAL_STATES:
            break
        waiting = status.state in (IncidentState.AWAITING_REVIEW, IncidentState.AWAITING_APPROVAL)
        if waiting and not approved:
            console.print(
                f"approving as a person would: [bold]selfheal approve {incident_id} "
                f"--by {DEMO_APPROVER}[/]",
                soft_wrap=True,
            )
            await decisions.approve(
                client, incident_id, Approval(by=DEMO_APPROVER, comment="approved by selfheal demo")
            )
            approved = True
        await asyncio.sleep(1)
    if status is None or status.state not in FINAL_STATES:
        state = status.state.value if status else "unknown"
        return DemoOutcome(False, f"{incident_id} still {state} after {timeout:.0f}s", status)
    console.print()
    print_status(console, status, ui_url)
    if status.state == IncidentState.RESOLVED:
        return DemoOutcome(True, f"{incident_id} RESOLVED: {status.resolution}", status)
    return DemoOutcome(
        False,
        f"{incident_id} ended ESCALATED: {status.escalation_reason} — selfheal found no safe "
        "automatic fix and handed it to a person, as it should for this scenario",
        status,
    )


def now() -> datetime:
    """The current time, for matching incidents started after the injection."""
    return datetime.now(UTC)
