"""Alerts as kube-prometheus and Alertmanager send them, posted to a running stack's webhook."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.e2e.stack import RunningStack

SENDER_ATTEMPTS = 3
"""Posts of one notification while the webhook answers 503 (Temporal busy or down)."""


@dataclass
class PromAlert:
    """One alert of an Alertmanager notification, with a fixed fingerprint and start."""

    name: str
    deployment: str
    summary: str = ""
    cluster: str = "sandbox"
    namespace: str = "demo"
    labels: dict[str, str] = field(default_factory=dict)
    workload_label: str = "deployment"  # statefulset, daemonset, job_name for other kinds
    starts_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def fingerprint(self) -> str:
        return f"{self.cluster}-{self.namespace}-{self.deployment}-{self.name}".lower()

    def as_payload(self, status: str) -> dict[str, Any]:
        return {
            "status": status,
            "labels": {
                "alertname": self.name,
                "namespace": self.namespace,
                self.workload_label: self.deployment,
                "cluster": self.cluster,
                "severity": "critical",
                **self.labels,
            },
            "annotations": {"summary": self.summary or f"{self.deployment}: {self.name}"},
            "startsAt": self.starts_at.isoformat(),
            "endsAt": datetime.now(UTC).isoformat()
            if status == "resolved"
            else "0001-01-01T00:00:00Z",
            "generatorURL": "http://e2e-prometheus/graph",
            "fingerprint": self.fingerprint,
        }


def post_alerts(
    stack: RunningStack, alerts: list[PromAlert], status: str = "firing"
) -> list[dict[str, Any]]:
    """Post one Alertmanager v4 notification of `alerts`; return the webhook's deliveries."""
    body = {
        "version": "4",
        "status": status,
        "receiver": "selfheal",
        "groupKey": "{}:{e2e}",
        "truncatedAlerts": 0,
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://e2e-alertmanager",
        "alerts": [alert.as_payload(status) for alert in alerts],
    }
    token = stack.env["SELFHEAL_WEBHOOK_TOKEN"]
    for _ in range(SENDER_ATTEMPTS):  # as Alertmanager does: a 503 is sent again
        answer = httpx.post(
            stack.info.webhook["url"] + "/webhooks/alertmanager",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        if answer.status_code != 503:
            break
        time.sleep(float(answer.headers.get("Retry-After", "1")))
    assert answer.status_code == 202, answer.text
    deliveries: list[dict[str, Any]] = answer.json()["incidents"]
    return deliveries
