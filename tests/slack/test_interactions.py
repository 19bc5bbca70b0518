"""POST /webhooks/slack/interactions on the real dev server: the Slack stand-in posts the
decision message (the real activity) and clicks its buttons, signed, as Slack would."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from selfheal.activities.permits import PermitActivities
from selfheal.activities.slack.activities import SlackActivities
from selfheal.client.incidents import incident_status
from selfheal.connection import connect
from selfheal.model.alerts import Alert
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal.model.policy import IncidentPolicy
from selfheal.settings import Settings
from selfheal.webhook.app import create_app
from selfheal.workflows.guard import GUARD_WORKFLOWS
from selfheal.workflows.incident import IncidentWorkflow
from selfheal.workflows.workload import WorkloadWorkflow
from selfheal_lab.sandbox.serving import ServedApp, free_port
from selfheal_lab.sandbox.slack import SlackSandbox
from selfheal_lab.sandbox.slack.app import Click
from tests.delivery import deliver
from tests.webhook.conftest import target_of
from tests.workflow.doubles import FakeWorld, memory_fix

SECRET = "slack-signing-secret"
PATH = "/webhooks/slack/interactions"
ALICE, BOB, MALLORY = "U024BE7LH", "U0BOB0001", "U0MALLORY"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackSandbox]:
    with SlackSandbox(signing_secret=SECRET) as sandbox:
        yield sandbox


def slack_settings(slack: SlackSandbox, **more: Any) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=SecretStr(slack.token),
        slack_channel=slack.channel,
        slack_api_url=slack.api_url,
        slack_signing_secret=SecretStr(SECRET),
        slack_users=[f"{ALICE}=alice", f"{BOB}=bob"],
        approvers=["alice", "bob"],
        **more,
    )


@pytest.fixture(scope="module")
def world() -> FakeWorld:
    """The worker's doubles: a test may change what the next analysis proposes."""
    policy = IncidentPolicy(namespaces=["demo"], approvers=["alice", "bob"], chat=True)
    return FakeWorld(policy=policy)


@pytest.fixture(scope="module")
async def queue(
    dev_server_env: WorkflowEnvironment, slack: SlackSandbox, world: FakeWorld
) -> AsyncIterator[str]:
    """A worker whose decision messages go to the stand-in through the real activity."""
    name = f"slack-{uuid.uuid4().hex[:8]}"
    real = SlackActivities(slack_settings(slack)).publish_decision
    doubles = [fn for fn in world.activities() if fn.__name__ != "publish_decision"]
    client = dev_server_env.client
    guard = PermitActivities(client, f"guard-{name}", name, f"{name}-workloads", name)
    with ThreadPoolExecutor(4) as threads:
        incidents = Worker(
            client,
            task_queue=name,
            workflows=[WorkloadWorkflow, IncidentWorkflow, *GUARD_WORKFLOWS],
            activities=[*doubles, real, guard.request_permit],
            activity_executor=threads,
        )
        async with incidents:
            yield name


@pytest.fixture(scope="module")
def webhook(
    dev_server_env: WorkflowEnvironment, slack: SlackSandbox, queue: str
) -> Iterator[ServedApp]:
    target = target_of(dev_server_env.client)
    app = create_app(
        slack_settings(slack, task_queue=queue, webhook_token=SecretStr("t")),
        lambda: connect(target_host=target),
    )
    with ServedApp(app, port=free_port()) as served:
        slack.configure(f"{served.url}{PATH}", SECRET)
        yield served


async def waiting_incident(client: Client, queue: str, slack: SlackSandbox) -> str:
    """An incident waiting for review whose decision message is in the channel."""
    alert = Alert(
        name="KubePodCrashLooping", namespace="demo", workload=f"co-{uuid.uuid4().hex[:6]}"
    )
    delivery = await deliver(client, alert, queue, "http://ui")
    await until(client, delivery.incident_id, lambda s: s.chat is not None)
    return delivery.incident_id


async def until(client: Client, incident_id: str, done: Any, tries: int = 150) -> IncidentStatus:
    for _ in range(tries):
        status = await incident_status(client, incident_id)
        if done(status):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError(f"{incident_id}: never held; last {status.state} {status.timeline[-1]}")


def click(slack: SlackSandbox, user: str, action: str, ts: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{slack.url}/sandbox/v1/click",
        json={"user": user, "action_id": action, "ts": ts},
        timeout=10,
    )
    result: dict[str, Any] = answer.json()
    return result


def replies(slack: SlackSandbox, ts: str) -> list[str]:
    [message] = [m for m in slack.messages() if m.ts == ts]
    return [reply.text for reply in slack.thread(message)]


async def test_an_approvers_click_approves_the_proposal_on_the_button(
    dev_server_env: WorkflowEnvironment, slack: SlackSandbox, webhook: ServedApp, queue: str
) -> None:
    client = dev_server_env.client
    incident_id = await waiting_incident(client, queue, slack)
    waiting = await incident_status(client, incident_id)
    assert waiting.chat is not None and waiting.fix is not None
    started = time.monotonic()
    result = await asyncio.to_thread(click, slack, ALICE, "approve", waiting.chat.ts)
    assert time.monotonic() - started < 3
    assert result["status"] == 200, result
    assert json.loads(result["body"])["decided"] is True, result["body"]
    final = await until(client, incident_id, lambda s: s.state == IncidentState.RESOLVED)
    [approval] = final.approvals
    assert (approval.by, approval.channel, approval.accepted) == ("alice", "slack", True)
    assert approval.proposal == waiting.fix.digest
    assert any("approved proposal" in text for text in replies(slack, waiting.chat.ts))
    [message] = [m for m in slack.messages() if m.ts == waiting.chat.ts]
    for _ in range(50):  # the RESOLVED update follows the workflow's last activity
        if "RESOLVED" in message.text:
            break
        await asyncio.sleep(0.1)
    assert "RESOLVED" in message.text and message.buttons() == []


def signed_body(slack: SlackSandbox, clicker: str, ts: str, **changes: Any) -> dict[str, Any]:
    payload = slack.payload(Click(user=clicker, action_id="approve", ts=ts))
    for path, value in changes.items():
        if path == "user":
            payload["user"]["id"] = value
        if path == "proposal":
            button = json.loads(payload["actions"][0]["value"])
            payload["actions"][0]["value"] = json.dumps({**button, "proposal": value})
    return payload


def post(
    webhook: ServedApp,
    payload: dict[str, Any],
    *,
    age: int = 0,
    secret: str = SECRET,
    headers: bool = True,
) -> httpx.Response:
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    sent = {"Content-Type": "application/x-www-form-urlencoded"}
    if headers:
        sent |= {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature or ""}
    return httpx.post(f"{webhook.url}{PATH}", content=body, headers=sent, timeout=10)


async def test_forged_unsigned_and_replayed_clicks_are_refused_and_decide_nothing(
    dev_server_env: WorkflowEnvironment, slack: SlackSandbox, webhook: ServedApp, queue: str
) -> None:
    client = dev_server_env.client
    incident_id = await waiting_incident(client, queue, slack)
    ts = (await incident_status(client, incident_id)).chat.ts  # type: ignore[union-attr]
    payload = signed_body(slack, ALICE, ts)
    forged = await asyncio.to_thread(post, webhook, payload, secret="not-the-secret")
    unsigned = await asyncio.to_thread(post, webhook, payload, headers=False)
    replayed = await asyncio.to_thread(post, webhook, payload, age=6 * 60)
    assert [r.status_code for r in (forged, unsigned, replayed)] == [401, 401, 401]
    assert "does not match" in forged.json()["error"]
    assert "missing X-Slack-Signature" in unsigned.json()["error"]
    assert "over 5 minutes" in replayed.json()["error"]
    within = await asyncio.to_thread(post, webhook, payload, age=4 * 60)
    assert within.status_code == 200  # inside the 5 minutes: it counts
    status = await until(client, incident_id, lambda s: s.state != IncidentState.AWAITING_REVIEW)
    assert [a.by for a in status.approvals] == ["alice"]


async def test_unknown_and_unlisted_users_are_told_and_the_incident_still_waits(
    dev_server_env: WorkflowEnvironment, slack: SlackSandbox, webhook: ServedApp, queue: str
) -> None:
    client = dev_server_env.client
    incident_id = await waiting_incident(client, queue, slack)
    ts = (await incident_status(client, incident_id)).chat.ts  # type: ignore[union-attr]
    nobody = await asyncio.to_thread(post, webhook, signed_body(slack, ALICE, ts, user="U0NOBODY1"))
    assert nobody.status_code == 200 and nobody.json()["decided"] is False
    assert "does not know who" in nobody.json()["note"]
    mallory = await asyncio.to_thread(click, slack, MALLORY, "approve", ts)
    assert json.loads(mallory["body"])["person"] == "mallory@example.com"  # by profile email
    status = await until(client, incident_id, lambda s: len(s.approvals) == 1)
    [refused] = status.approvals
    assert (refused.by, refused.accepted, refused.channel) == (
        "mallory@example.com",
        False,
        "slack",
    )
    assert status.state == IncidentState.AWAITING_REVIEW
    for _ in range(30):
        said = replies(slack, ts)
        if len(said) >= 2:
            break
        await asyncio.sleep(0.1)
    assert any("does not know who" in text for text in said)
    assert any("not an approver" in text for text in said)


async def test_a_stale_button_is_refused_naming_the_current_proposal(
    dev_server_env: WorkflowEnvironment, slack: SlackSandbox, webhook: ServedApp, queue: str
) -> None:
    client = dev_server_env.client
    incident_id = await waiting_incident(client, queue, slack)
    status = await incident_status(client, incident_id)
    assert status.chat is not None and status.fix is not None
    stale = await asyncio.to_thread(
        post, webhook, signed_body(slack, BOB, status.chat.ts, proposal="0123456789ab")
    )
    assert stale.json()["decided"] is False
    assert f"now proposes {status.fix.digest}" in stale.json()["note"]
    assert (await incident_status(client, incident_id)).state == IncidentState.AWAITING_REVIEW


def selfheal_cli(client: Client, *args: str) -> subprocess.CompletedProcess[str]:
    """`selfheal ARGS` in its own process against the dev server."""
    environ = {**os.environ, "TEMPORAL_ADDRESS": target_of(client), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "selfheal", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


async def test_after_a_reject_and_a_retry_the_old_button_and_the_old_digest_are_refused(
    dev_server_env: WorkflowEnvironment,
    slack: SlackSandbox,
    webhook: ServedApp,
    queue: str,
    world: FakeWorld,
) -> None:
    client = dev_server_env.client
    incident_id = await waiting_incident(client, queue, slack)
    first = await incident_status(client, incident_id)
    assert first.chat is not None and first.fix is not None
    old_ts, old = first.chat.ts, first.fix.digest
    # What a Slack client still showing the first message sends when its Approve is clicked.
    stale_click = signed_body(slack, ALICE, old_ts)

    rejected = await asyncio.to_thread(click_reject, slack, BOB, old_ts)
    assert json.loads(rejected["body"])["decided"] is True, rejected["body"]
    await until(client, incident_id, lambda s: s.state == IncidentState.ESCALATED)
    bigger = memory_fix()
    assert bigger.manifest_patch is not None
    bigger.manifest_patch["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"memory": "512Mi"}
    }
    assert bigger.action is not None
    bigger.action.patch = bigger.manifest_patch
    bigger.rationale = "raise the memory limit from 128Mi to 512Mi"
    world.fix = bigger
    try:
        retried = await asyncio.to_thread(
            selfheal_cli, client, "retry", incident_id, "--by", "bob", "--note", "512Mi"
        )
        assert retried.returncode == 0, retried.stderr
        second = await until(
            client,
            incident_id,
            lambda s: s.state == IncidentState.AWAITING_REVIEW and s.chat and s.chat.attempt == 2,
        )
    finally:
        world.fix = memory_fix()
    assert second.fix is not None and second.chat is not None
    current = second.fix.digest
    assert current != old and second.chat.ts != old_ts

    stale = await asyncio.to_thread(post, webhook, stale_click)
    assert stale.status_code == 200
    assert stale.json()["decided"] is False
    assert f"names proposal {old}, but the incident now proposes {current}" in stale.json()["note"]
    by_cli = await asyncio.to_thread(
        selfheal_cli, client, "approve", incident_id, "--by", "alice", "--proposal", old
    )
    assert by_cli.returncode == 1, by_cli.stdout
    said = " ".join(by_cli.stderr.split())  # rich wraps long lines
    assert f"names proposal {old}, but the incident now proposes {current}" in said, said

    status = await incident_status(client, incident_id)
    assert status.state == IncidentState.AWAITING_REVIEW
    # Refused before it reached the incident (the update's validator): nothing recorded.
    assert [(a.by, a.decision, a.accepted) for a in status.approvals] == [("bob", "reject", True)]
    [old_message] = [m for m in slack.messages() if m.ts == old_ts]
    assert old_message.buttons() == []  # told of the retry, it offers nothing to click
    for _ in range(50):  # the webhook replies in the thread after answering Slack
        if any(f"now proposes {current}" in text for text in replies(slack, old_ts)):
            break
        await asyncio.sleep(0.1)
    assert any(f"now proposes {current}" in text for text in replies(slack, old_ts))


def click_reject(slack: SlackSandbox, user: str, ts: str) -> dict[str, Any]:
    """Click Reject (Slack asks to confirm first; the payload comes after the confirmation)."""
    return click(slack, user, "reject", ts)
