"""Client-side incident operations shared by the webhook and the CLI."""

from __future__ import annotations

import uuid
from typing import Any

from google.protobuf.duration_pb2 import Duration
from pydantic import BaseModel
from temporalio.api.common.v1 import Payloads, WorkflowType
from temporalio.api.enums.v1 import WorkflowIdConflictPolicy, WorkflowIdReusePolicy
from temporalio.api.sdk.v1 import UserMetadata
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import SignalWithStartWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.converter import encode_search_attributes
from temporalio.service import RPCError, RPCStatusCode

from selfheal.domain import Alert, AlertStatus, IncidentInput, IncidentStatus
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.search import attributes_of


class Delivery(BaseModel):
    """The webhook's answer for one alert (DESIGN §4)."""

    incident_id: str
    workflow_id: str
    ui_url: str
    deduplicated: bool
    note: str = ""


def incident_ui_url(ui_base: str, namespace: str, incident_id: str) -> str:
    """Link to the incident's page in the Temporal Web UI."""
    return f"{ui_base.rstrip('/')}/namespaces/{namespace}/workflows/{incident_id}"


def _summary_of(alert: Alert) -> str:
    target = f"{alert.namespace or '?'}/{alert.workload or 'unmapped'}"
    return f"{alert.name} on {target} ({alert.cluster}, {alert.severity})"


async def deliver_alert(client: Client, alert: Alert, task_queue: str, ui_base: str) -> Delivery:
    """Start the alert's incident, or join it if it is running (signal-with-start).

    A resolved alert only joins: it never opens a new incident.
    """
    incident_id = alert.incident_id
    ui_url = incident_ui_url(ui_base, client.namespace, incident_id)
    if alert.status == AlertStatus.RESOLVED:
        try:
            await client.get_workflow_handle(incident_id).signal(IncidentWorkflow.alert, alert)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return Delivery(
                incident_id=incident_id,
                workflow_id=incident_id,
                ui_url=ui_url,
                deduplicated=False,
                note="resolved alert for an incident that is not open; nothing to do",
            )
        return Delivery(
            incident_id=incident_id, workflow_id=incident_id, ui_url=ui_url, deduplicated=True
        )
    started = await _signal_with_start(
        client, alert, IncidentInput(incident_id=incident_id), task_queue
    )
    return Delivery(
        incident_id=incident_id, workflow_id=incident_id, ui_url=ui_url, deduplicated=not started
    )


async def _signal_with_start(
    client: Client, alert: Alert, start: IncidentInput, task_queue: str
) -> bool:
    """Signal-with-start the incident; True when this call started a new run.

    Built on the service call itself because only its response says whether the run was
    started or joined (the SDK's handle does not keep that bit).
    """
    seed = IncidentStatus(
        id=start.incident_id,
        service=alert.workload or "",
        namespace=alert.namespace or "",
        severity=alert.severity,
        reason=alert.reason or alert.name,
    )
    converter = client.data_converter
    request = SignalWithStartWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_id=start.incident_id,
        workflow_type=WorkflowType(name="IncidentWorkflow"),
        task_queue=TaskQueue(name=task_queue),
        input=Payloads(payloads=await converter.encode([start])),
        signal_name="alert",
        signal_input=Payloads(payloads=await converter.encode([alert])),
        identity=client.identity,
        request_id=str(uuid.uuid4()),
        workflow_id_reuse_policy=WorkflowIdReusePolicy.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
        workflow_id_conflict_policy=(
            WorkflowIdConflictPolicy.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
        ),
        workflow_task_timeout=Duration(seconds=10),
        user_metadata=UserMetadata(
            summary=(await converter.encode([_summary_of(alert)]))[0],
            details=(await converter.encode([alert.summary or _summary_of(alert)]))[0],
        ),
    )
    encode_search_attributes(attributes_of(seed), request.search_attributes)
    response = await client.workflow_service.signal_with_start_workflow_execution(
        request, retry=True
    )
    return bool(response.started)


def incident_handle(client: Client, incident_id: str) -> WorkflowHandle[Any, IncidentStatus]:
    """Handle on the incident's latest run."""
    return client.get_workflow_handle_for(IncidentWorkflow.run, incident_id)


async def incident_status(client: Client, incident_id: str) -> IncidentStatus:
    """The `status` query; raises RPCError NOT_FOUND for an unknown incident."""
    return await incident_handle(client, incident_id).query(IncidentWorkflow.status)
