"""PagerDuty v3 webhook payloads (incident.triggered, incident.resolved) and their Alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from selfheal.model.alerts import DEFAULT_KIND, Alert, AlertSource, AlertStatus
from selfheal.model.workload_labels import workload_of
from selfheal.webhook.service_map import ServiceMap

_NOT_A_WORKLOAD = frozenset({"app", "app_kubernetes_io_name", "service"})

HANDLED_EVENTS = {
    "incident.triggered": AlertStatus.FIRING,
    "incident.resolved": AlertStatus.RESOLVED,
}
"""Event types that start or resolve an incident; every other type is acknowledged and ignored."""

_SEVERITY_OF_URGENCY = {"high": "critical", "low": "warning"}


class Reference(BaseModel):
    """A PagerDuty object reference (service, priority, ...)."""

    id: str = ""
    type: str = ""
    summary: str = ""
    html_url: str | None = None


class IncidentData(BaseModel):
    """The incident an event is about (`event.data` of a resource_type=incident event)."""

    id: str = Field(min_length=1)
    type: str = "incident"
    title: str = Field(min_length=1)
    number: int | None = None
    status: str = ""
    urgency: str = "high"
    incident_key: str | None = None
    html_url: str | None = None
    created_at: datetime | None = None
    service: Reference
    priority: Reference | None = None
    custom_details: dict[str, Any] = Field(
        default_factory=dict,
        description="Details from the triggering event; `namespace`, `cluster` and the "
        "workload (`workload` with `kind`, or `deployment`, `statefulset`, `daemonset`, "
        "`cronjob`, `job_name`, `pod`) here name the Kubernetes workload",
    )


class PagerDutyEvent(BaseModel):
    """One webhook event."""

    id: str = ""
    event_type: str = Field(min_length=1, description="e.g. incident.triggered")
    resource_type: str = ""
    occurred_at: datetime | None = None
    # Other resource types carry other data; only incident.* events must match IncidentData.
    data: IncidentData | dict[str, Any] = Field(
        default_factory=dict, description="The incident, for incident.* events"
    )


class PagerDutyPayload(BaseModel):
    """PagerDuty's v3 webhook body: `{"event": {...}}`."""

    event: PagerDutyEvent


def alert_of(data: IncidentData, status: AlertStatus, services: ServiceMap) -> Alert:
    """The Alert a PagerDuty incident stands for, mapped to a workload when anything names one."""
    details = {key: str(value) for key, value in data.custom_details.items()}
    kind, workload = _named_workload(details)
    namespace = details.get("namespace")
    cluster = details.get("cluster")
    if not (workload and namespace) and (ref := services.lookup(data.service.summary)):
        workload, namespace, cluster = ref.deployment, ref.namespace, cluster or ref.cluster
        kind = ref.kind
    labels = {"pagerduty_service": data.service.summary, "urgency": data.urgency}
    if data.priority and data.priority.summary:
        labels["priority"] = data.priority.summary
    return Alert(
        name=data.title[:200],
        source=AlertSource.PAGERDUTY,
        status=status,
        cluster=cluster or None,
        namespace=namespace or None,
        workload=workload or None,
        kind=kind,
        severity=_SEVERITY_OF_URGENCY.get(data.urgency, data.urgency or "warning"),
        summary=f"PagerDuty #{data.number or data.id}: {data.title}"[:4000],
        labels=labels,
        annotations={"pagerduty_url": data.html_url} if data.html_url else {},
        starts_at=data.created_at,
        external_id=data.id,
    )


def _named_workload(details: dict[str, str]) -> tuple[str, str | None]:
    """The kind and name the event's details give: `workload` with `kind`, or the labels
    Alertmanager's PagerDuty integration copies (`deployment`, `statefulset`, `pod` ...)."""
    if workload := details.get("workload"):
        return details.get("kind") or DEFAULT_KIND, workload
    # Not the app or service labels: a PagerDuty service name is the service map's to read.
    named = {key: value for key, value in details.items() if key not in _NOT_A_WORKLOAD}
    if found := workload_of(named):
        return found.kind, found.name
    return DEFAULT_KIND, None
