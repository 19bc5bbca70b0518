"""Slack approvals on the real processes of `selfheal up` (issue 17).

The worker posts the incident's decision message to the Slack stand-in; buttons are clicked
through the stand-in's control route, which signs Slack's `block_actions` payload and posts
it to the webhook exactly as Slack does. The stack is this module's own: it names who may
approve (alice, mapped from her Slack user) and has a short review deadline, so reminders
come due within seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from selfheal.chaos.through_git import inject_through_repository
from selfheal.model.incident import IncidentState
from selfheal_lab.demo import now
from selfheal_lab.local_stack import pid_alive
from selfheal_lab.sandbox.slack.control import PostedMessage, SlackControl, member
from selfheal_lab.watch import eventually, incident_about
from tests.e2e.follow import wait_for_state, wait_until_healthy
from tests.e2e.stack import RunningStack, start_stack

ALICE, MALLORY = member("alice"), member("mallory")
REVIEW_TIMEOUT = 90
"""Seconds: long enough for a click after a worker restart, short enough for a reminder."""


@pytest.fixture(scope="module")
def slack_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """A stack where only alice approves, and review reminders fall at 20% and 50%."""
    running = start_stack(
        tmp_path_factory.mktemp("slack-stack"),
        SELFHEAL_APPROVERS="alice",
        SELFHEAL_SLACK_USERS=f"{ALICE}=alice",
        SELFHEAL_REVIEW_TIMEOUT=f"{REVIEW_TIMEOUT}s",
        SELFHEAL_REMINDERS="20%,50%",
    )
    yield running
    running.stack.down()


def slack_of(stack: RunningStack) -> SlackControl:
    return SlackControl(stack.info.slack["url"])


async def decision_message(
    slack: SlackControl, incident_id: str, holds: str, timeout: float = 60, replied: str = ""
) -> PostedMessage:
    """The incident's only decision message, once `holds` is in its text or a reply (and
    `replied`, when given, is a reply of its thread)."""
    seen: list[list[PostedMessage]] = []

    async def found() -> PostedMessage | None:
        posted = await asyncio.to_thread(slack.decision_messages, incident_id)
        seen[:] = [posted]
        assert len(posted) <= 1, f"{len(posted)} decision messages for {incident_id}"
        if not posted or (replied and replied not in posted[0].replies):
            return None
        return posted[0] if any(holds in t for t in (posted[0].text, *posted[0].replies)) else None

    try:
        return await eventually(found, f"{holds!r} on {incident_id}'s message", timeout)
    except TimeoutError as late:
        raise AssertionError(f"{late}; messages: {seen}") from None


def kill_worker(stack: RunningStack) -> None:
    """SIGKILL the worker's process group and wait until it is gone."""
    worker = stack.info.pids["worker"]
    os.killpg(worker, signal.SIGKILL)
    while pid_alive(worker):
        time.sleep(0.05)


async def test_a_slack_click_approves_and_the_one_message_follows_the_incident_to_resolved(
    slack_stack: RunningStack,
):
    stack, slack = slack_stack, slack_of(slack_stack)
    client = await stack.client()
    await wait_until_healthy(stack.kubernetes(), "checkout", timeout=90)
    since = now()
    injected = await asyncio.to_thread(stack.cli, "chaos", "inject", "oom")
    assert injected.returncode == 0, injected.stderr

    incident_id = await incident_about(client, "checkout", since)
    waiting = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})
    assert waiting.fix is not None
    message = await decision_message(slack, incident_id, "AWAITING_REVIEW")
    assert message.buttons == ["approve", "reject"]
    assert message.proposal == waiting.fix.digest

    # Someone not on the approver list: recorded, told so in the thread, nothing decided.
    refused = await asyncio.to_thread(slack.click, MALLORY, "approve", message.ts)
    assert (refused.status, refused.decided) == (200, False), refused
    assert "not an approver" in refused.note
    await decision_message(slack, incident_id, "is not an approver")
    status = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})
    assert [(a.by, a.accepted, a.channel) for a in status.approvals] == [
        ("mallory@example.com", False, "slack")
    ]

    # The worker dies after the post and before the update; alice clicks while it is down
    # (the webhook sends her approval as a signal), and a new worker carries on.
    await asyncio.to_thread(kill_worker, stack)
    try:
        approved = await asyncio.to_thread(slack.click, ALICE, "approve", message.ts)
        assert approved.status == 200, approved
        await decision_message(slack, incident_id, "sent as a signal")
    finally:  # the module's other tests need the worker whatever became of this one
        await asyncio.to_thread(stack.start_missing)

    status = await wait_for_state(client, incident_id, {IncidentState.RESOLVED}, timeout=180)
    accepted = [(a.by, a.channel, a.proposal) for a in status.approvals if a.accepted]
    assert accepted == [("alice", "slack", waiting.fix.digest)]
    assert stack.github().get_repo(stack.info.github["repo"]).get_pull(status.pr_number or 0).merged

    # The message is updated, then the transition said in its thread: wait for both.
    resolved = next(e.note for e in status.timeline if e.state == IncidentState.RESOLVED)
    final = await decision_message(slack, incident_id, "RESOLVED", replied=resolved)
    assert final.ts == message.ts and final.edited
    assert final.text.startswith("RESOLVED") and final.buttons == []
    for state in (IncidentState.DEPLOYING, IncidentState.VERIFYING):
        notes = [e.note for e in status.timeline if e.state == state]
        assert any(note in final.replies for note in notes), (state, final.replies)
    assert len(await asyncio.to_thread(slack.decision_messages, incident_id)) == 1
    await wait_until_healthy(stack.kubernetes(), "checkout", timeout=90)


async def test_a_review_reminds_in_the_thread_and_on_the_ticket_before_its_deadline(
    slack_stack: RunningStack,
):
    stack, slack = slack_stack, slack_of(slack_stack)
    client = await stack.client()
    api = stack.kubernetes()
    repo = stack.github().get_repo(stack.info.github["repo"])
    await wait_until_healthy(api, "payments", timeout=90)
    since = now()
    await asyncio.to_thread(inject_through_repository, api, repo, "oom", workload="payments")

    incident_id = await incident_about(client, "payments", since)
    waiting = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})
    deadline = waiting.deadline
    assert deadline is not None
    message = await decision_message(slack, incident_id, "reminder:", timeout=REVIEW_TIMEOUT)
    assert datetime.now(UTC) < deadline, "the reminder came only after the deadline"
    reminder = next(text for text in message.replies if text.startswith("reminder:"))
    assert f"left of {REVIEW_TIMEOUT}s waiting for the pull request's review" in reminder, reminder

    status = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})
    reminded = [e for e in status.timeline if e.note.startswith("reminder:")]
    assert reminded and reminded[0].at < deadline
    assert status.ticket_key, "no ticket was opened"
    jira = stack.jira()

    async def commented() -> list[str] | None:
        notes = await asyncio.to_thread(jira.issue_get_comments, status.ticket_key)
        bodies = [c["body"] for c in (notes or {})["comments"] if "reminder:" in c["body"]]
        return bodies or None

    comments = await eventually(commented, f"a reminder on {status.ticket_key}", timeout=30)
    assert any(reminder in comment for comment in comments), (reminder, comments)
