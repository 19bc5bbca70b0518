"""Finding incidents through Temporal visibility (the same data the Web UI lists)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client, WorkflowExecution

from selfheal.workflows.search import NAMESPACE, REASON, SERVICE, SEVERITY, STATE


class IncidentSummary(BaseModel):
    """One line of `selfheal list --json` (a stable, documented shape)."""

    id: str
    state: str
    service: str
    namespace: str
    severity: str
    reason: str
    workflow_status: str
    started_at: datetime | None
    closed_at: datetime | None


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def incident_query(state: str | None = None, service: str | None = None) -> str:
    """The visibility query selecting incidents, optionally by state and service."""
    clauses = ["WorkflowType = 'IncidentWorkflow'"]
    if state:
        clauses.append(f"IncidentState = {_quote(state.upper())}")
    if service:
        clauses.append(f"IncidentService = {_quote(service)}")
    return " AND ".join(clauses)


def summary_of(execution: WorkflowExecution) -> IncidentSummary:
    """An incident's summary from its visibility record."""
    attributes = execution.typed_search_attributes
    return IncidentSummary(
        id=execution.id,
        state=attributes.get(STATE) or "RECEIVED",
        service=attributes.get(SERVICE) or "",
        namespace=attributes.get(NAMESPACE) or "",
        severity=attributes.get(SEVERITY) or "",
        reason=attributes.get(REASON) or "",
        workflow_status=execution.status.name if execution.status else "UNKNOWN",
        started_at=execution.start_time,
        closed_at=execution.close_time,
    )


async def list_incidents(
    client: Client, state: str | None = None, service: str | None = None, limit: int = 200
) -> list[IncidentSummary]:
    """Incidents matching the filters, newest first, at most `limit`."""
    found: list[IncidentSummary] = []
    async for execution in client.list_workflows(incident_query(state, service), limit=limit):
        found.append(summary_of(execution))
    return found


POLL_SILENCE = timedelta(seconds=75)
"""A worker polls at least once a minute; longer silence means none is running."""


async def worker_last_seen(client: Client, task_queue: str) -> datetime | None:
    """When a worker last polled the incidents' queue, or None if none ever has."""
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    seen = [poller.last_access_time.ToDatetime(tzinfo=UTC) for poller in answer.pollers]
    return max(seen, default=None)


def worker_silent(last_seen: datetime | None, now: datetime) -> bool:
    """True when no worker has polled for longer than a running one would stay silent."""
    return last_seen is None or now - last_seen > POLL_SILENCE
