"""What a webhook route needs, as FastAPI dependencies read from the app's state.

`create_app` puts the settings, the Temporal link and the service map on `app.state`; a
route names what it uses (`link: Link`, `door: Door`) and FastAPI hands it over.

The dependencies are coroutines although they only read attributes: FastAPI runs a plain
function dependency on its thread pool, which cost 0.28 ms a request (benchmarks/ingest.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Request
from temporalio.client import Client

from selfheal.client.incidents import Delivery, deliver_alerts
from selfheal.model.alerts import Alert
from selfheal.settings import Settings
from selfheal.webhook.answers import Accepted
from selfheal.webhook.service_map import ServiceMap
from selfheal.webhook.temporal_link import TemporalLink

log = structlog.get_logger("selfheal.webhook")


async def settings_of(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def link_of(request: Request) -> TemporalLink:
    """The app's one Temporal link (connected on first use, 503 while unreachable)."""
    link: TemporalLink = request.app.state.temporal
    return link


async def services_of(request: Request) -> ServiceMap:
    """The service map (SELFHEAL_SERVICE_MAP) that names workloads for PagerDuty and JIRA."""
    services: ServiceMap = request.app.state.services
    return services


@dataclass(frozen=True)
class AlertDoor:
    """Hands alerts to their workloads (client/incidents.py) and says what became of each."""

    settings: Settings
    link: TemporalLink

    async def deliver(self, alerts: list[Alert]) -> Accepted:
        """Deliver `alerts` in one call per workload; the 202 answer naming their incidents."""

        async def deliver_all(client: Client) -> list[Delivery]:
            return await deliver_alerts(
                client,
                alerts,
                self.settings.task_queue,
                self.settings.temporal_ui_url,
                self.settings.cluster,
                self.settings.workload_task_queue(),
            )

        deliveries = await self.link.run(deliver_all)
        for alert, delivery in zip(alerts, deliveries, strict=True):
            _log_delivery(alert, delivery)
        return Accepted.of(deliveries)


async def alert_door(request: Request) -> AlertDoor:
    """The door alerts enter by, for this app."""
    door: AlertDoor = request.app.state.door
    return door


Settings_ = Annotated[Settings, Depends(settings_of)]
Link = Annotated[TemporalLink, Depends(link_of)]
Services = Annotated[ServiceMap, Depends(services_of)]
Door = Annotated[AlertDoor, Depends(alert_door)]


def _log_delivery(alert: Alert, delivery: Delivery) -> None:
    if delivery.deduplicated:
        # A storm repeats this line thousands of times: debug, and no bound logger to build.
        log.debug("alert joined incident", incident_id=delivery.incident_id)
        return
    log.bind(incident_id=delivery.incident_id, source=alert.source.value).info(
        "alert delivered",
        status=alert.status.value,
        namespace=alert.namespace,
        workload=alert.workload,
        note=delivery.note or None,
    )
