"""People's decisions sent to an incident, answered at once (validated updates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from selfheal.client.incidents import incident_handle
from selfheal.model.decisions import Approval, ManualResolution, Rejection, RetryRequest, SignalAck
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.search import STATE, STATUS_MEMO

QUERY_TIMEOUT = timedelta(seconds=15)

LIVENESS_TIMEOUT = timedelta(seconds=3)
"""How long a query may take before the worker counts as not answering (not running, or
too busy): the status then comes from what the incident last published."""


class Refused(Exception):
    """The incident refused the request, or does not exist; the message says why."""


@dataclass(frozen=True)
class Reading:
    """An incident's status and where it was read: `live` (the worker answered), `ended`
    (its result), or `published` (its memo, while no worker answers)."""

    status: IncidentStatus
    source: str

    @property
    def as_of(self) -> datetime | None:
        """When the status was last published: its last timeline entry."""
        return self.status.timeline[-1].at if self.status.timeline else None


def _refusal(err: WorkflowUpdateFailedError) -> Refused:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return Refused(cause.message)
    return Refused(str(cause or err))


async def read_incident(
    client: Client, incident_id: str, timeout: timedelta = LIVENESS_TIMEOUT
) -> Reading:
    """The incident's status: its result once it has ended, the live query while a worker
    answers, else what it last published in its memo (no worker is needed for that)."""
    handle = incident_handle(client, incident_id)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Refused(f"no such incident: {incident_id}") from err
        raise
    if description.status == WorkflowExecutionStatus.COMPLETED:
        return Reading(await handle.result(), "ended")
    if description.status != WorkflowExecutionStatus.RUNNING:
        state = description.status.name.lower() if description.status else "closed"
        raise Refused(f"incident {incident_id} was {state} by hand in Temporal")
    try:
        status = await handle.query(IncidentWorkflow.status, rpc_timeout=timeout)
        return Reading(status, "live")
    except RPCError as err:
        published = await _published(description)
        if published is None:
            raise Refused(
                f"the worker did not answer ({err}) and {incident_id} has published no status "
                "(it started before incidents published one)"
            ) from err
        return Reading(published, "published")


async def read_status(client: Client, incident_id: str) -> IncidentStatus:
    """The incident's status, however it can be read (see read_incident)."""
    return (await read_incident(client, incident_id, QUERY_TIMEOUT)).status


async def _published(description: WorkflowExecutionDescription) -> IncidentStatus | None:
    """The status the incident last published at a wait, moved to the state its search
    attribute says now (it publishes the state at every step, the rest at waits)."""
    if STATUS_MEMO not in description.raw_description.workflow_execution_info.memo.fields:
        return None
    value = await description.memo_value(STATUS_MEMO, type_hint=IncidentStatus)
    if not isinstance(value, IncidentStatus):
        return None
    state = description.typed_search_attributes.get(STATE)
    if state and state != value.state.value:
        value.state = IncidentState(state)
    return value


async def _send(
    client: Client, incident_id: str, update: object, signal: object, arg: object
) -> SignalAck:
    """Send a decision as a validated update, answered at once; while no worker answers, as
    the signal of the same name, which the incident acts on when a worker runs again."""
    reading = await read_incident(client, incident_id)
    if reading.source == "ended":
        raise Refused(f"incident has ended (state {reading.status.state.value})")
    handle = incident_handle(client, incident_id)
    if reading.source == "published":
        await handle.signal(signal, arg)  # type: ignore[call-overload]
        return SignalAck(
            incident_id=incident_id,
            state=reading.status.state,
            note="no worker answers: sent as a signal; the incident acts on it (or records "
            "why not) when a worker runs again",
        )
    try:
        result: SignalAck = await handle.execute_update(update, arg)  # type: ignore[call-overload]
        return result
    except WorkflowUpdateFailedError as err:
        raise _refusal(err) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            status = await read_status(client, incident_id)
            raise Refused(f"incident has ended (state {status.state.value})") from err
        raise


async def approve(client: Client, incident_id: str, approval: Approval) -> SignalAck:
    """Approve the incident's fix; Refused when it is not waiting or the person may not."""
    return await _send(
        client, incident_id, IncidentWorkflow.approve_now, IncidentWorkflow.approve, approval
    )


async def reject(client: Client, incident_id: str, rejection: Rejection) -> SignalAck:
    """Reject the incident's fix; it escalates."""
    return await _send(
        client, incident_id, IncidentWorkflow.reject_now, IncidentWorkflow.reject, rejection
    )


async def retry(client: Client, incident_id: str, request: RetryRequest) -> SignalAck:
    """Send an ESCALATED incident back to analysis."""
    return await _send(
        client, incident_id, IncidentWorkflow.retry_now, IncidentWorkflow.retry, request
    )


async def resolve(client: Client, incident_id: str, request: ManualResolution) -> SignalAck:
    """Close an ESCALATED incident as resolved by a person; an incident already RESOLVED
    (its alerts resolved while the person fixed it) is answered as done, not refused."""
    try:
        return await _send(
            client, incident_id, IncidentWorkflow.resolve_now, IncidentWorkflow.resolve, request
        )
    except Refused:
        status = (await read_incident(client, incident_id)).status
        if status.state != IncidentState.RESOLVED:
            raise
        return SignalAck(
            incident_id=incident_id,
            state=status.state,
            note=f"already resolved: {status.resolution or 'no note'}",
        )
