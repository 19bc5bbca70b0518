"""Fixtures: a real IncidentWorkflow worker on the dev server and the webhook served over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from selfheal.activities.permits import PermitActivities
from selfheal.connection import connect
from selfheal.settings import Settings
from selfheal.webhook.app import create_app
from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.workload import WorkloadWorkflow
from selfheal_lab.sandbox.serving import ServedApp
from tests.workflow.doubles import FakeWorld

PAYLOADS = Path(__file__).parent / "payloads"
TOKEN = "test-webhook-token"
PAGERDUTY_SECRET = "pd-secret"
GITHUB_SECRET = "gh-secret"
JIRA_SECRET = "jira-secret"
UI = "http://ui.test"
JSON = {"Content-Type": "application/json"}


def sample(name: str, **replacements: str) -> bytes:
    """A sample payload from payloads/, with each `old=new` text replacement applied."""
    text = (PAYLOADS / name).read_text()
    for old, new in replacements.items():
        text = text.replace(old, new)
    return json.dumps(json.loads(text)).encode()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def signed(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {**JSON, "Authorization": f"Bearer {token}"}


def webhook_settings(queue: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "task_queue": queue,
        "temporal_ui_url": UI,
        "webhook_token": SecretStr(TOKEN),
        "pagerduty_secret": SecretStr(PAGERDUTY_SECRET),
        "github_webhook_secret": SecretStr(GITHUB_SECRET),
        "jira_webhook_secret": SecretStr(JIRA_SECRET),
        "max_body_bytes": 64 * 1024,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def target_of(client: Client) -> str:
    return client.service_client.config.target_host


@pytest.fixture(scope="module")
async def world_queue(dev_server_env: WorkflowEnvironment) -> AsyncIterator[tuple[FakeWorld, str]]:
    """A worker running IncidentWorkflow (and its guard) with activity doubles on a fresh queue."""
    world = FakeWorld()
    queue = f"webhook-{uuid.uuid4().hex[:8]}"
    guard = PermitActivities(
        dev_server_env.client, f"guard-{queue}", queue, f"{queue}-workloads", queue
    )
    incidents = Worker(
        dev_server_env.client,
        task_queue=queue,
        workflows=[IncidentWorkflow, *GUARD_WORKFLOWS],
        activities=[*world.activities(), guard.request_permit],
        max_concurrent_workflow_tasks=200,
    )
    # The webhook delivers to the workloads' own queue, as `selfheal worker` serves it.
    workloads = Worker(
        dev_server_env.client, task_queue=f"{queue}-workloads", workflows=[WorkloadWorkflow]
    )
    async with incidents, workloads:
        yield world, queue


@pytest.fixture(scope="module")
def served_webhook(
    dev_server_env: WorkflowEnvironment, world_queue: tuple[FakeWorld, str], tmp_path_factory: Any
) -> Iterator[ServedApp]:
    """The webhook app served by uvicorn, connected to the dev server on its own loop."""
    services = tmp_path_factory.mktemp("webhook") / "services.yaml"
    services.write_text(
        "services:\n"
        "  Checkout API: {namespace: shop, deployment: checkout-api, cluster: prod-eu1}\n"
    )
    target = target_of(dev_server_env.client)
    settings = webhook_settings(world_queue[1], service_map=services)
    app = create_app(settings, lambda: connect(target_host=target))
    with ServedApp(app) as served:
        yield served


@pytest.fixture(scope="module")
def in_process_app(dev_server_env: WorkflowEnvironment, world_queue: tuple[FakeWorld, str]) -> Any:
    """The webhook app sharing the test's event loop and Temporal client (for ASGITransport)."""

    async def same_client() -> Client:
        return dev_server_env.client

    return create_app(webhook_settings(world_queue[1]), same_client)


@pytest.fixture
async def asgi_http(in_process_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling the webhook app in-process, without sockets."""
    transport = httpx.ASGITransport(app=in_process_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://webhook") as client:
        yield client


@pytest.fixture
async def http(served_webhook: ServedApp) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served_webhook.url, timeout=30) as client:
        yield client
