"""The Slack decision message and the reminders before a human wait's deadline, on the
time-skipping server with activity doubles (the Slack side itself: tests/slack/)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from selfheal.client.incidents import incident_handle
from selfheal.contracts.slack import DecisionPost
from selfheal.model.decisions import Approval, Rejection, RetryRequest
from selfheal.model.incident import IncidentState
from selfheal.workflows.reminders import plan, reminder_note
from tests.delivery import deliver
from tests.workflow.doubles import FakeWorld
from tests.workflow.test_incident_workflow import UI, an_alert, demo_policy, running, wait_for_state


def test_reminders_fall_at_their_share_of_the_wait() -> None:
    from datetime import UTC, datetime

    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert plan(start, timedelta(hours=4), [0.9, 0.5]) == [
        start + timedelta(hours=2),
        start + timedelta(hours=3, minutes=36),
    ]
    note = reminder_note(IncidentState.AWAITING_REVIEW, timedelta(minutes=24), timedelta(hours=4))
    assert note == (
        "reminder: 24m left of 4h waiting for the pull request's review; then it escalates"
    )


async def test_review_reminds_at_half_and_ninety_percent_then_escalates(
    own_time_skipping_env: WorkflowEnvironment,
) -> None:
    env = own_time_skipping_env
    policy = demo_policy(
        review_timeout=timedelta(hours=4), reminders=[0.5, 0.9], chat=True, ticketing=True
    )
    world = FakeWorld(policy=policy)
    async with running(env, world) as queue:
        delivery = await deliver(env.client, an_alert(), queue, UI)
        await wait_for_state(env.client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await env.sleep(timedelta(hours=4, minutes=1))
        status = await wait_for_state(env.client, delivery.incident_id, IncidentState.ESCALATED)
    waiting = next(e for e in status.timeline if e.state == IncidentState.AWAITING_REVIEW)
    reminders = [e for e in status.timeline if e.note.startswith("reminder:")]
    assert [e.note.split(" left")[0] for e in reminders] == ["reminder: 2h", "reminder: 24m"]
    offsets = [e.at - waiting.at for e in reminders]
    assert abs(offsets[0] - timedelta(hours=2)) < timedelta(seconds=5)
    assert abs(offsets[1] - timedelta(hours=3, minutes=36)) < timedelta(seconds=5)
    assert "review deadline passed" in (status.escalation_reason or "")
    ticket = [u.comment for u in world.requests["update_ticket"]]
    assert [c for c in ticket if c.startswith("reminder:")] == [e.note for e in reminders]
    posts: list[DecisionPost] = world.requests["publish_decision"]
    assert posts[0].message is None and posts[0].card.state == IncidentState.AWAITING_REVIEW
    assert posts[0].card.deadline == waiting.at + timedelta(hours=4)
    assert posts[0].card.fix is not None and posts[0].card.diagnosis is not None
    thread = [p.thread_note for p in posts[1:]]
    assert thread[:2] == [e.note for e in reminders]
    assert thread[2].startswith("review deadline passed")
    assert all(p.message is not None and p.note_key for p in posts[1:])
    assert len({p.note_key for p in posts[1:]}) == len(posts) - 1


async def test_one_decision_message_per_attempt_updated_at_every_later_transition(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    world = FakeWorld(policy=demo_policy(chat=True))
    async with running(env, world) as queue:
        delivery = await deliver(env.client, an_alert(), queue, UI)
        handle = incident_handle(env.client, delivery.incident_id)
        await wait_for_state(env.client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await handle.signal("reject", Rejection(by="carol", reason="wrong limit"))
        await wait_for_state(env.client, delivery.incident_id, IncidentState.ESCALATED)
        await handle.signal("retry", RetryRequest(by="carol"))
        await wait_for_state(env.client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await handle.signal("approve", Approval(by="carol", channel="slack"))
        final = await handle.result()
    assert final.state == IncidentState.RESOLVED
    posts: list[DecisionPost] = world.requests["publish_decision"]
    new = [p.card.attempt for p in posts if p.message is None]
    assert new == [1, 2]
    assert final.chat is not None and final.chat.attempt == 2
    first_attempt = [p for p in posts if p.message is not None and p.message.attempt == 1]
    assert any("rejected by carol" in p.thread_note for p in first_attempt)
    assert any(p.card.state == IncidentState.ANALYZING for p in first_attempt)  # told of the retry
    last = posts[-1]
    assert last.card.state == IncidentState.RESOLVED and last.message == final.chat


async def test_without_slack_no_message_and_no_reminders(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    world = FakeWorld()
    async with running(env, world) as queue:
        delivery = await deliver(env.client, an_alert(), queue, UI)
        handle = incident_handle(env.client, delivery.incident_id)
        await wait_for_state(env.client, delivery.incident_id, IncidentState.AWAITING_REVIEW)
        await handle.signal("approve", Approval(by="carol"))
        final = await handle.result()
    assert world.calls["publish_decision"] == 0
    assert final.chat is None and not any(e.note.startswith("reminder") for e in final.timeline)
