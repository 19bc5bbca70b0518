"""Alertmanager webhook v4 payloads, and the selfheal Alerts they carry."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from selfheal.model.alerts import Alert, AlertSource, AlertStatus
from selfheal.model.workload_labels import workload_of


class AlertLabels(BaseModel):
    """An alert's labels; only `alertname` is required, every other label is kept."""

    model_config = ConfigDict(extra="allow")

    alertname: str = Field(min_length=1, max_length=200)

    def as_dict(self) -> dict[str, str]:
        """All labels, `alertname` included, as strings."""
        extra = {key: str(value) for key, value in (self.model_extra or {}).items()}
        return {"alertname": self.alertname, **extra}


class AlertmanagerAlert(BaseModel):
    """One alert of a notification group."""

    model_config = ConfigDict(populate_by_name=True)

    status: AlertStatus
    labels: AlertLabels
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = Field(default=None, alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = ""


class AlertmanagerPayload(BaseModel):
    """Alertmanager's webhook notification (version 4): a group of alerts sharing a receiver."""

    model_config = ConfigDict(populate_by_name=True)

    version: Literal["4"] = "4"
    group_key: str = Field(default="", alias="groupKey")
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")
    status: AlertStatus
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[AlertmanagerAlert] = Field(min_length=1)


def alert_of(alert: AlertmanagerAlert) -> Alert:
    """The selfheal Alert for one alert of a group, firing or resolved."""
    labels = alert.labels.as_dict()
    annotations = alert.annotations
    summary = annotations.get("summary") or annotations.get("description") or ""
    description = annotations.get("description", "")
    if description and description != summary:
        summary = f"{summary}: {description}" if summary else description
    workload = workload_of(labels)
    return Alert(
        name=alert.labels.alertname,
        source=AlertSource.ALERTMANAGER,
        status=alert.status,
        cluster=labels.get("cluster") or None,
        namespace=labels.get("namespace") or None,
        workload=workload.name if workload else None,
        kind=workload.kind if workload else "Deployment",
        severity=labels.get("severity") or "warning",
        summary=summary[:4000],
        labels=labels,
        annotations=annotations,
        starts_at=alert.starts_at,
        external_id=alert.fingerprint[:200] or None,
    )
