"""Client-side incident operations shared by the webhook and the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import timedelta
from typing import Any

from google.protobuf.duration_pb2 import Duration
from pydantic import BaseModel
from temporalio.api.common.v1 import Payloads, WorkflowExecution, WorkflowType
from temporalio.api.enums.v1 import (
    WorkflowExecutionStatus,
    WorkflowIdConflictPolicy,
    WorkflowIdReusePolicy,
)
from temporalio.api.sdk.v1 import UserMetadata
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    DescribeWorkflowExecutionResponse,
    SignalWithStartWorkflowExecutionRequest,
)
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import decode_typed_search_attributes
from temporalio.service import RPCError, RPCStatusCode

from selfheal.model.alerts import Alert, AlertBatch, AlertStatus, WorkloadRef
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal.model.workload import WorkloadInput
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.search import STATE, summary_of
from selfheal.workflows.workload import WorkloadWorkflow


class Delivery(BaseModel):
    """The webhook's answer for one alert (docs/webhook.md, Answers)."""

    incident_id: str
    workflow_id: str
    ui_url: str
    deduplicated: bool
    note: str = ""


def incident_ui_url(ui_base: str, namespace: str, incident_id: str) -> str:
    """Link to the incident's page in the Temporal Web UI."""
    return f"{ui_base.rstrip('/')}/namespaces/{namespace}/workflows/{incident_id}"


async def deliver_alert(
    client: Client,
    alert: Alert,
    task_queue: str,
    ui_base: str,
    default_cluster: str = "default",
    workload_task_queue: str | None = None,
) -> Delivery:
    """Hand one alert to its workload (see deliver_alerts)."""
    [delivery] = await deliver_alerts(
        client, [alert], task_queue, ui_base, default_cluster, workload_task_queue
    )
    return delivery


async def deliver_alerts(
    client: Client,
    alerts: list[Alert],
    task_queue: str,
    ui_base: str,
    default_cluster: str = "default",
    workload_task_queue: str | None = None,
) -> list[Delivery]:
    """Hand each alert to its workload, which joins it to the open incident or opens one.

    The one way alerts enter: signal-with-start of the workload's `alerts` signal, one call
    per workload however many of `alerts` are about it, accepted by the Temporal server
    alone, so nothing waits for a worker. The workload runs on `workload_task_queue` (the
    worker's is `<task_queue>-workloads`; by default the incidents' own, as a worker serving
    both on one queue has it) and opens incidents on `task_queue`. Alerts that are all
    resolved only signal a
    workload that is running: they never open anything. The answers, in the order of
    `alerts`, name the incident each joined or opened, as the workload last published it.
    Every workload's delivery is finished before the first failure is raised.
    """
    filled = [alert.on_cluster(default_cluster) for alert in alerts]
    by_workload: dict[WorkloadRef, list[int]] = {}
    for index, alert in enumerate(filled):
        by_workload.setdefault(alert.target, []).append(index)
    answers: list[Delivery | None] = [None] * len(filled)

    async def deliver(workload: WorkloadRef, indices: list[int]) -> None:
        batch = [filled[index] for index in indices]
        delivered = await _deliver_to(
            client, workload, batch, task_queue, workload_task_queue or task_queue, ui_base
        )
        for index, delivery in zip(indices, delivered, strict=True):
            answers[index] = delivery

    results = await asyncio.gather(
        *(deliver(workload, indices) for workload, indices in by_workload.items()),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return [answer for answer in answers if answer is not None]


async def _deliver_to(
    client: Client,
    workload: WorkloadRef,
    alerts: list[Alert],
    task_queue: str,
    workload_task_queue: str,
    ui_base: str,
) -> list[Delivery]:
    """Deliver the alerts about one workload in one signal; the answer for each."""
    workflow_id = workload.workflow_id
    batch = AlertBatch(alerts=alerts, count=len(alerts), delivery=delivery_digest(alerts))
    opener = next(
        (index for index, alert in enumerate(alerts) if alert.status == AlertStatus.FIRING), None
    )
    if opener is None:
        try:
            await client.get_workflow_handle(workflow_id).signal(WorkloadWorkflow.alerts, batch)
            joined = await _open_or_opening(client, workload)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            joined = None
        note = "" if joined else DROPPED
        return [_delivery(client, ui_base, joined or "", workflow_id, True, note) for _ in alerts]
    start = WorkloadInput(workload=workload, incident_task_queue=task_queue)
    run_id = await _signal_with_start(client, alerts[opener], batch, start, workload_task_queue)
    if run_id is not None:  # this alert started the workload: it opens its first incident
        incident_id, joined_open = workload.incident_id(run_id, 1), False
    else:
        joined = await _open_or_opening(client, workload)
        incident_id = joined or await _opened(client, workflow_id)
        joined_open = joined is not None
    note = "" if incident_id else QUEUED
    return [
        _delivery(client, ui_base, "", workflow_id, True, DROPPED)
        if index < opener
        else _delivery(
            client, ui_base, incident_id, workflow_id, joined_open or index != opener, note
        )
        for index in range(len(alerts))
    ]


def delivery_digest(alerts: list[Alert]) -> str:
    """What identifies one delivery of `alerts`: the same content gives the same digest, so
    a sender's retry of a notification is recognised by the workload however it arrives."""
    content = hashlib.sha256()
    for alert in alerts:
        content.update(alert.model_dump_json().encode())
        content.update(b"\n")
    return content.hexdigest()[:32]


DROPPED = "resolved alert; no incident is open"
"""A resolved alert with no incident open: the workload drops it."""


RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING

OPENING_WAIT = 2.0
"""Seconds an answer waits for an idle workload to open its next incident."""

QUEUED = (
    "queued: the workload opens the incident for it when it can (none opened within "
    f"{OPENING_WAIT:g} s: no worker is running, or its last incident is still closing)"
)


async def _open_or_opening(client: Client, workload: WorkloadRef) -> str | None:
    """The incident a running workload has open, or is opening, for the alerts it takes now;
    None when it has none (a firing alert then opens the next, which its worker names).

    Its open incident is its pending child. With none, it may be opening the first incident
    of its current run for the alert that started the run a moment ago: that id follows
    from the run, and no incident has it yet.
    """
    description = await _describe(client, workload.workflow_id)
    if description is None:
        return None
    children = [child.workflow_id for child in description.pending_children]
    if children:
        return children[-1] if await _still_open(client, children[-1]) else None
    first = workload.incident_id(description.workflow_execution_info.execution.run_id, 1)
    opened = await _describe(client, first)
    # Read after the workload: the first incident may have started in between, before
    # the workload's history lists it as a child. Only a closed one means "none open".
    if opened is None or _open(opened):
        return first
    return None


async def open_incident(client: Client, workload_id: str) -> str | None:
    """The incident open on the workload now (its pending child, unless it is closing), or
    None. Describe calls, answered by the server alone: no worker, no history read."""
    description = await _describe(client, workload_id)
    children = [child.workflow_id for child in description.pending_children] if description else []
    if children and await _still_open(client, children[-1]):
        return children[-1]
    return None


async def _still_open(client: Client, incident_id: str) -> bool:
    """Whether the workload's pending child is still open. The workload lists it as pending
    until it has recorded its end, and the incident publishes RESOLVED before its last
    ticket and chat updates: one that has ended, or is ending, is not open."""
    child = await _describe(client, incident_id)
    return child is None or _open(child)


def _open(incident: DescribeWorkflowExecutionResponse) -> bool:
    """Running and not yet RESOLVED (what it last published)."""
    if incident.workflow_execution_info.status != RUNNING:
        return False
    attributes = decode_typed_search_attributes(incident.workflow_execution_info.search_attributes)
    return attributes.get(STATE) != IncidentState.RESOLVED.value


async def _describe(client: Client, workflow_id: str) -> DescribeWorkflowExecutionResponse | None:
    try:
        return await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id)
            ),
            retry=True,
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def _opened(client: Client, workload_id: str) -> str:
    """The incident an idle workload opens for the alert just delivered, once its worker has
    opened it; empty when none did within OPENING_WAIT (no worker running)."""
    deadline = asyncio.get_running_loop().time() + OPENING_WAIT
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
        opened = await open_incident(client, workload_id)
        if opened is not None:
            return opened
    return ""


def _delivery(
    client: Client,
    ui_base: str,
    incident_id: str,
    workflow_id: str,
    deduplicated: bool,
    note: str = "",
) -> Delivery:
    return Delivery(
        incident_id=incident_id,
        workflow_id=workflow_id,
        ui_url=incident_ui_url(ui_base, client.namespace, incident_id or workflow_id),
        deduplicated=deduplicated,
        note=note,
    )


async def _signal_with_start(
    client: Client, alert: Alert, batch: AlertBatch, start: WorkloadInput, task_queue: str
) -> str | None:
    """Signal-with-start the workload with `batch` (`alert` is the one that may open an
    incident); its run id when this call started it, else None.

    Built on the service call itself because only its response says whether the run was
    started or joined (the SDK's handle does not keep that bit).
    """
    converter = client.data_converter
    summary = summary_of(alert)
    request = SignalWithStartWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_id=start.workload.workflow_id,
        workflow_type=WorkflowType(name="WorkloadWorkflow"),
        task_queue=TaskQueue(name=task_queue),
        input=Payloads(payloads=await converter.encode([start])),
        signal_name="alerts",
        signal_input=Payloads(payloads=await converter.encode([batch])),
        identity=client.identity,
        request_id=str(uuid.uuid4()),
        workflow_id_reuse_policy=WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
        workflow_id_conflict_policy=(
            WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
        ),
        workflow_task_timeout=Duration(seconds=10),
        user_metadata=UserMetadata(
            summary=(await converter.encode([f"workload {start.workload}"]))[0],
            details=(await converter.encode([f"first alert: {summary}"]))[0],
        ),
    )
    response = await client.workflow_service.signal_with_start_workflow_execution(
        request, retry=True
    )
    return response.run_id if response.started else None


def incident_handle(client: Client, incident_id: str) -> WorkflowHandle[Any, IncidentStatus]:
    """Handle on the incident's latest run."""
    return client.get_workflow_handle_for(IncidentWorkflow.run, incident_id)


async def incident_status(client: Client, incident_id: str) -> IncidentStatus:
    """The `status` query; raises RPCError NOT_FOUND for an unknown incident."""
    return await incident_handle(client, incident_id).query(IncidentWorkflow.status)


async def wait_until_open(
    client: Client, incident_id: str, timeout: timedelta = timedelta(seconds=10)
) -> bool:
    """Wait until incident `incident_id` exists (its workload has started it); False when it
    did not within `timeout`, e.g. because no worker runs to start it."""
    deadline = asyncio.get_running_loop().time() + timeout.total_seconds()
    while True:
        try:
            await client.get_workflow_handle(incident_id).describe()
            return True
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.05)
