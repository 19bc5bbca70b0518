"""Driving incidents on a private stack: break a workload, find its incident, decide, wait."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TypeVar

from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from selfheal.chaos.through_git import inject_through_repository
from selfheal.client import decisions
from selfheal.client.decisions import read_status
from selfheal.model.decisions import Approval
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab.experiments.stack import ExperimentStack
from selfheal_lab.watch import eventually

T = TypeVar("T")

APPROVER = "chaos-approver"
FINAL_STATES = frozenset({IncidentState.RESOLVED, IncidentState.ESCALATED})
WAITING_STATES = frozenset({IncidentState.AWAITING_REVIEW, IncidentState.AWAITING_APPROVAL})


def now() -> datetime:
    return datetime.now(UTC)


async def break_workload(stack: ExperimentStack, scenario: str, deployment: str) -> datetime:
    """Commit `scenario` for `deployment` to the manifest repo (the sync deploys it); when."""
    since = now()
    # The kubernetes client and PyGithub block: keep them off the event loop.
    await asyncio.to_thread(
        lambda: inject_through_repository(
            stack.kubernetes(), stack.repository(), scenario, workload=deployment
        )
    )
    return since


async def status_of(client: Client, incident_id: str) -> IncidentStatus | None:
    """The incident's status, or None while no worker can answer (it is being restarted)."""
    try:
        return await asyncio.wait_for(read_status(client, incident_id), timeout=10)
    except (RPCError, TimeoutError, decisions.Refused):
        return None


async def reach(
    client: Client, incident_id: str, states: frozenset[IncidentState], timeout: float
) -> IncidentStatus:
    """Wait until the incident is in one of `states`; return its status then."""

    async def there() -> IncidentStatus | None:
        status = await status_of(client, incident_id)
        return status if status is not None and status.state in states else None

    names = "/".join(sorted(s.value for s in states))
    return await eventually(there, f"{incident_id} in {names}", timeout)


async def leave(
    client: Client, incident_id: str, state: IncidentState, timeout: float
) -> IncidentStatus:
    """Wait until the incident is no longer in `state`; return its status then."""

    async def gone() -> IncidentStatus | None:
        status = await status_of(client, incident_id)
        return status if status is not None and status.state != state else None

    return await eventually(gone, f"{incident_id} leaving {state.value}", timeout)


async def activity_started(client: Client, incident_id: str, name: str, timeout: float) -> None:
    """Wait until a worker has started the incident's activity `name` (it is in flight)."""

    async def started() -> bool | None:
        description = await client.get_workflow_handle(incident_id).describe()
        for pending in description.raw_description.pending_activities:
            running = pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            if pending.activity_type.name == name and running:
                return True
        return None

    await eventually(started, f"{name} of {incident_id} in flight", timeout)


async def approve(client: Client, incident_id: str, timeout: float) -> None:
    """Approve the incident's fix as `selfheal approve` does, once a worker can answer."""

    async def approved() -> bool | None:
        try:
            await asyncio.wait_for(
                decisions.approve(
                    client, incident_id, Approval(by=APPROVER, comment="approved by chaos")
                ),
                timeout=60,
            )
        except decisions.Refused:
            return True  # an earlier attempt got through: a decision was already made
        except (RPCError, TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            return None
        return True

    await eventually(approved, f"approving {incident_id}", timeout, every=1)


async def see_through(
    client: Client, incident_id: str, timeout: float, approve: bool = True
) -> IncidentStatus:
    """Follow the incident to RESOLVED or ESCALATED, approving its fix as a person would."""
    deadline = time.monotonic() + timeout
    approved = False
    while True:
        status = await status_of(client, incident_id)
        if status is not None and status.state in FINAL_STATES:
            return status
        if status is not None and status.state in WAITING_STATES and approve and not approved:
            await decisions.approve(
                client, incident_id, Approval(by=APPROVER, comment="approved by a chaos experiment")
            )
            approved = True
        if time.monotonic() > deadline:
            state = status.state.value if status else "unknown"
            raise TimeoutError(f"{incident_id} still {state} after {timeout:.0f}s")
        await asyncio.sleep(0.5)
