"""The webhook refuses what it must: bad senders (401), big bodies (413), bad payloads (422)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pydantic import SecretStr

from selfheal.webhook.app import WebhookConfigError, create_app
from selfheal_lab.sandbox.serving import ServedApp
from tests.webhook.conftest import (
    JSON,
    PAGERDUTY_SECRET,
    TOKEN,
    bearer,
    sample,
    signed,
    webhook_settings,
)

SIGNED_ROUTES = [
    ("/webhooks/pagerduty", "pagerduty_triggered.json", "X-PagerDuty-Signature", "v1="),
    ("/webhooks/jira", "jira_issue_created.json", "X-Hub-Signature", "sha256="),
    ("/webhooks/github", "github_review_approved.json", "X-Hub-Signature-256", "sha256="),
]
TOKEN_ROUTES = [
    ("/webhooks/alertmanager", "alertmanager.json"),
    ("/webhooks/generic", "generic_alert.json"),
]


@pytest.mark.parametrize(("route", "payload"), TOKEN_ROUTES)
async def test_token_routes_refuse_missing_or_wrong_tokens(
    http: httpx.AsyncClient, route: str, payload: str
):
    body = sample(payload)
    for headers in (JSON, bearer("not-the-token"), {**JSON, "Authorization": f"Basic {TOKEN}"}):
        answer = await http.post(route, content=body, headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert "token" in answer.json()["error"]


@pytest.mark.parametrize(("route", "payload", "header", "prefix"), SIGNED_ROUTES)
async def test_signed_routes_refuse_missing_or_wrong_signatures(
    http: httpx.AsyncClient, route: str, payload: str, header: str, prefix: str
):
    body = sample(payload)
    forged = signed("someone-else", body)
    tampered = signed(PAGERDUTY_SECRET, body + b" ")
    for headers in (
        JSON,
        {**JSON, header: f"{prefix}{forged}"},
        {**JSON, header: f"{prefix}{tampered}"},
        {**JSON, header: "garbage"},
        bearer(),  # a signed route does not fall back to the token when its secret is set
    ):
        answer = await http.post(route, content=body, headers={"X-GitHub-Event": "ping", **headers})
        assert answer.status_code == 401, (headers, answer.text)
        assert header in answer.json()["error"]


async def test_malformed_json_is_refused_naming_the_body(http: httpx.AsyncClient):
    answer = await http.post("/webhooks/alertmanager", content=b'{"alerts": [', headers=bearer())
    assert answer.status_code == 422
    assert answer.json()["error"] == "malformed JSON"
    assert answer.json()["field"] == "body"


@pytest.mark.parametrize(
    ("route", "payload", "missing", "field"),
    [
        (
            "/webhooks/alertmanager",
            "alertmanager.json",
            '"alertname": "KubePodCrashLooping",',
            "alerts.0.labels.alertname",
        ),
        ("/webhooks/alertmanager", "alertmanager.json", '"status": "firing",', "status"),
        ("/webhooks/generic", "generic_alert.json", '"name": "CheckoutLatencyHigh",', "name"),
    ],
)
async def test_missing_fields_are_named(
    http: httpx.AsyncClient, route: str, payload: str, missing: str, field: str
):
    body = sample(payload, **{missing: ""})
    answer = await http.post(route, content=body, headers=bearer())
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid payload"
    assert answer.json()["field"] == field
    assert answer.json()["message"] == "Field required"


async def test_signed_payload_missing_a_nested_field_is_named(http: httpx.AsyncClient):
    body = sample(
        "pagerduty_triggered.json", **{'"title": "Checkout API error rate above 5%",': ""}
    )
    headers = {**JSON, "X-PagerDuty-Signature": f"v1={signed(PAGERDUTY_SECRET, body)}"}
    answer = await http.post("/webhooks/pagerduty", content=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "event.data.title"


async def test_unknown_generic_fields_are_refused_by_name(http: httpx.AsyncClient):
    body = sample("generic_alert.json", **{'"severity"': '"sevirity"'})
    answer = await http.post("/webhooks/generic", content=body, headers=bearer())
    assert answer.status_code == 422
    assert answer.json()["field"] == "sevirity"


async def test_oversize_bodies_are_refused_before_parsing(http: httpx.AsyncClient):
    big = b'{"name": "' + b"x" * (64 * 1024) + b'"}'
    declared = await http.post("/webhooks/generic", content=big, headers=bearer())
    assert declared.status_code == 413
    assert "larger than 65536 bytes" in declared.json()["error"]

    async def chunks():  # streamed with no Content-Length at all
        for _ in range(100):
            yield b"x" * 1024

    streamed = await http.post("/webhooks/generic", content=chunks(), headers=bearer())
    assert streamed.status_code == 413
    # The size is checked before the sender: an anonymous flood is not read either.
    anonymous = await http.post("/webhooks/generic", content=big, headers=JSON)
    assert anonymous.status_code == 413


async def test_a_declared_length_over_the_limit_is_refused_unread(served_webhook: ServedApp):
    # httpx will not send a Content-Length that disagrees with its body; a raw socket will.
    reader, writer = await asyncio.open_connection(served_webhook.host, served_webhook.port)
    writer.write(
        b"POST /webhooks/generic HTTP/1.1\r\nHost: webhook\r\n"
        b"Content-Type: application/json\r\nContent-Length: 10485760\r\n"
        + f"Authorization: Bearer {TOKEN}\r\n\r\n".encode()
        + b"{}"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 413"), status_line


def test_webhook_refuses_to_start_unprotected():
    unprotected = webhook_settings(
        "q",
        webhook_token=None,
        pagerduty_secret=None,
        github_webhook_secret=None,
        jira_webhook_secret=None,
    )
    with pytest.raises(WebhookConfigError, match="SELFHEAL_WEBHOOK_TOKEN"):
        create_app(unprotected)
    create_app(unprotected.model_copy(update={"webhook_insecure": True}))


async def test_token_routes_stay_closed_when_only_secrets_are_set():
    settings = webhook_settings("q", webhook_token=None)
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://webhook") as client:
        answer = await client.post(
            "/webhooks/generic", content=sample("generic_alert.json"), headers=bearer()
        )
    assert answer.status_code == 401
    assert "not configured" in answer.json()["error"]


async def test_routes_without_a_secret_fall_back_to_the_token():
    settings = webhook_settings("q", pagerduty_secret=SecretStr(""), jira_webhook_secret=None)
    transport = httpx.ASGITransport(app=create_app(settings))
    body = sample("jira_issue_created.json", **{"jira:issue_created": "jira:issue_updated"})
    async with httpx.AsyncClient(transport=transport, base_url="http://webhook") as client:
        anonymous = await client.post("/webhooks/jira", content=body, headers=JSON)
        with_token = await client.post("/webhooks/jira", content=body, headers=bearer())
    assert anonymous.status_code == 401
    assert with_token.status_code == 202
