"""People's decisions sent to an incident, answered at once (validated updates)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from selfheal.domain import (
    Approval,
    IncidentStatus,
    ManualResolution,
    Rejection,
    RetryRequest,
    SignalAck,
)
from selfheal.starters.incidents import incident_handle
from selfheal.workflows.incident import IncidentWorkflow

QUERY_TIMEOUT = timedelta(seconds=15)


class Refused(Exception):
    """The incident refused the request, or does not exist; the message says why."""


def _refusal(err: WorkflowUpdateFailedError) -> Refused:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return Refused(cause.message)
    return Refused(str(cause or err))


async def read_status(client: Client, incident_id: str) -> IncidentStatus:
    """The incident's status: the live query while it runs, its result once it has ended."""
    handle = incident_handle(client, incident_id)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Refused(f"no such incident: {incident_id}") from err
        raise
    if description.status == WorkflowExecutionStatus.COMPLETED:
        return await handle.result()
    return await handle.query(IncidentWorkflow.status, rpc_timeout=QUERY_TIMEOUT)


async def _send(client: Client, incident_id: str, update: object, arg: object) -> SignalAck:
    handle = incident_handle(client, incident_id)
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
    return await _send(client, incident_id, IncidentWorkflow.approve_now, approval)


async def reject(client: Client, incident_id: str, rejection: Rejection) -> SignalAck:
    """Reject the incident's fix; it escalates."""
    return await _send(client, incident_id, IncidentWorkflow.reject_now, rejection)


async def retry(client: Client, incident_id: str, request: RetryRequest) -> SignalAck:
    """Send an ESCALATED incident back to analysis."""
    return await _send(client, incident_id, IncidentWorkflow.retry_now, request)


async def resolve(client: Client, incident_id: str, request: ManualResolution) -> SignalAck:
    """Close an ESCALATED incident as resolved by a person."""
    return await _send(client, incident_id, IncidentWorkflow.resolve_now, request)
