"""Delivering an alert the way the webhook does, then waiting for the incident it opens."""

from __future__ import annotations

from temporalio.client import Client

from selfheal.client.incidents import Delivery, deliver_alert, wait_until_open
from selfheal.model.alerts import Alert


async def deliver(
    client: Client,
    alert: Alert,
    task_queue: str,
    ui_base: str,
    default_cluster: str = "default",
    workload_task_queue: str | None = None,
) -> Delivery:
    """`deliver_alert`, returning once the incident it names exists (the workload starts it
    a moment after the alert)."""
    delivery = await deliver_alert(
        client, alert, task_queue, ui_base, default_cluster, workload_task_queue
    )
    if delivery.incident_id:
        assert await wait_until_open(client, delivery.incident_id), delivery
    return delivery
