"""Alertmanager webhook v4 payloads, and the selfheal Alerts they carry."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from selfheal.model.alerts import Alert, AlertSource, AlertStatus

# Kubernetes generates ReplicaSet hashes and pod suffixes from this alphabet (no vowels).
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_DEPLOYMENT_POD = re.compile(rf"^(?P<deployment>.+)-{_SAFE}{{1,10}}-{_SAFE}{{5}}$")
_REPLICASET = re.compile(rf"^(?P<deployment>.+)-{_SAFE}{{1,10}}$")


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


def workload_of(labels: dict[str, str]) -> str | None:
    """The Deployment an alert's labels name, directly or through its ReplicaSet or pod."""
    if labels.get("deployment"):
        return labels["deployment"]
    if (match := _REPLICASET.match(labels.get("replicaset", ""))) is not None:
        return match["deployment"]
    if (match := _DEPLOYMENT_POD.match(labels.get("pod", ""))) is not None:
        return match["deployment"]
    # `service` last: on kube-state-metrics alerts it names the exporter, not the workload.
    for key in ("app_kubernetes_io_name", "app", "service"):
        if labels.get(key):
            return labels[key]
    return None


def alert_of(alert: AlertmanagerAlert) -> Alert:
    """The selfheal Alert for one alert of a group, firing or resolved."""
    labels = alert.labels.as_dict()
    annotations = alert.annotations
    summary = annotations.get("summary") or annotations.get("description") or ""
    description = annotations.get("description", "")
    if description and description != summary:
        summary = f"{summary}: {description}" if summary else description
    return Alert(
        name=alert.labels.alertname,
        source=AlertSource.ALERTMANAGER,
        status=alert.status,
        cluster=labels.get("cluster") or None,
        namespace=labels.get("namespace") or None,
        workload=workload_of(labels),
        severity=labels.get("severity") or "warning",
        summary=summary[:4000],
        labels=labels,
        annotations=annotations,
        starts_at=alert.starts_at,
        external_id=alert.fingerprint[:200] or None,
    )
