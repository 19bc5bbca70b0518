"""While Temporal is down the webhook answers 503 + Retry-After; the sender's retry gets in."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from selfheal.connection import connect
from selfheal.webhook.app import create_app
from selfheal.workflows.search import ALL_KEYS
from selfheal_lab.binaries import find_binary
from selfheal_lab.sandbox.serving import ServedApp, free_port
from tests.webhook.conftest import bearer, sample, unique, webhook_settings


async def temporal_on(port: int) -> WorkflowEnvironment:
    """A fresh dev server listening on `port`."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=find_binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=list(ALL_KEYS),
        port=port,
    )


async def post_as_a_sender_does(http: httpx.AsyncClient, body: bytes) -> httpx.Response:
    """POST, retrying after each 503 as long as Retry-After says (as Alertmanager does)."""
    for _ in range(20):
        answer = await http.post("/webhooks/generic", content=body, headers=bearer())
        if answer.status_code != 503:
            return answer
        await asyncio.sleep(float(answer.headers["Retry-After"]))
    raise AssertionError("the webhook never accepted the alert")


async def alerts_recorded(client: Client, workflow_id: str) -> int:
    """How many alert deliveries the workload's history holds (no worker runs here)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(
        1
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and event.workflow_execution_signaled_event_attributes.signal_name == "alerts"
    )


async def test_outage_answers_503_and_the_retried_alert_is_not_lost():
    port = free_port()
    app = create_app(
        webhook_settings(f"outage-{unique('')}"),
        lambda: connect(target_host=f"127.0.0.1:{port}"),
        call_timeout=2.0,
        retry_after=1,
    )
    with ServedApp(app) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
            # Temporal was never up: the webhook started anyway and asks senders to come back.
            before_start = sample("generic_alert.json", checkout=unique("checkout"))
            refused = await http.post("/webhooks/generic", content=before_start, headers=bearer())
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"
            assert (await http.get("/readyz")).status_code == 503
            assert (await http.get("/healthz")).json()["temporal"] == "unreachable"

            temporal = await temporal_on(port)
            try:
                accepted = await post_as_a_sender_does(http, before_start)
                assert accepted.status_code == 202, accepted.text
                assert await alerts_recorded(temporal.client, accepted.json()["workflow_id"]) == 1
                assert (await http.get("/readyz")).status_code == 200
            finally:
                await temporal.shutdown()

            # Temporal goes away after the webhook connected: same answer, same recovery.
            during_outage = sample("generic_alert.json", checkout=unique("checkout"))
            refused = await http.post("/webhooks/generic", content=during_outage, headers=bearer())
            assert refused.status_code == 503, refused.text
            temporal = await temporal_on(port)
            try:
                accepted = await post_as_a_sender_does(http, during_outage)
                assert accepted.status_code == 202, accepted.text
                assert accepted.json()["deduplicated"] is False
                assert await alerts_recorded(temporal.client, accepted.json()["workflow_id"]) == 1
            finally:
                await temporal.shutdown()
