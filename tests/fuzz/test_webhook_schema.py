"""Fuzzing the webhook from its own OpenAPI schema (schemathesis): no 5xx, no crash.

The webhook is the real app served over HTTP, connected to the real dev server (no worker:
incidents are started, not run). Only a bearer token protects it, so generated bodies reach
every route's parsing instead of stopping at a signature check.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import partial

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis import GenerationMode
from temporalio.testing import WorkflowEnvironment

from selfheal.connection import connect
from selfheal.settings import Settings
from selfheal.webhook.app import create_app
from selfheal_lab.sandbox.serving import ServedApp

TOKEN = "fuzz-token"


@pytest.fixture(scope="module")
def webhook_url(dev_server_env: WorkflowEnvironment) -> Iterator[str]:
    """The webhook on a free port, starting incidents on a queue no worker polls."""
    target = dev_server_env.client.service_client.config.target_host
    config = Settings(  # type: ignore[call-arg]
        _env_file=None,
        task_queue=f"fuzz-{uuid.uuid4().hex[:8]}",
        webhook_token=SecretStr(TOKEN),
        max_body_bytes=64 * 1024,
    )
    app = create_app(config, partial(connect, target_host=target))
    with ServedApp(app) as served:
        yield served.url


def operations(url: str) -> list[schemathesis.APIOperation]:
    """Every operation of the webhook's OpenAPI schema, loaded from the running server."""
    loaded = schemathesis.openapi.from_url(f"{url}/openapi.json")
    loaded.config.update(base_url=url)
    return [result.ok() for result in loaded.get_all_operations()]  # type: ignore[union-attr]


def test_schema_names_every_route(webhook_url: str) -> None:
    paths = {operation.path for operation in operations(webhook_url)}
    assert {"/webhooks/alertmanager", "/webhooks/generic", "/webhooks/github"} <= paths


def test_webhook_never_answers_5xx(webhook_url: str) -> None:
    failures: list[str] = []
    for operation in operations(webhook_url):

        @given(case=st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode)))
        @settings(
            max_examples=80,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def never_5xx(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.path} answered {response.status_code}: "
                    f"{response.text[:300]}\n  reproduce: {case.as_curl_command()}"
                )

        never_5xx()
    assert not failures, "\n".join(failures[:5])
