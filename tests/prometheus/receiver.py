"""The webhook Alertmanager posts to in these tests, read as the product reads it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse

from selfheal.webhook.alertmanager import AlertmanagerPayload, alert_of


@dataclass
class Receiver:
    """Keeps every notification and its Authorization header."""

    payloads: list[AlertmanagerPayload] = field(default_factory=list)
    authorizations: set[str] = field(default_factory=set)
    first_seen: dict[str, float] = field(default_factory=dict)

    async def receive(self, request: Request) -> JSONResponse:
        self.authorizations.add(request.headers.get("authorization", ""))
        payload = AlertmanagerPayload.model_validate(await request.json())
        self.payloads.append(payload)
        for alert in payload.alerts:
            self.first_seen.setdefault(alert.labels.alertname, time.monotonic())
        return JSONResponse({}, status_code=200)

    def seen(self) -> set[tuple[str, str | None, str, str | None]]:
        """(alert name, namespace, workload kind, workload) of every firing alert received."""
        alerts = [alert_of(a) for p in self.payloads for a in p.alerts if a.status == "firing"]
        return {(a.name, a.namespace, a.kind, a.workload) for a in alerts}
