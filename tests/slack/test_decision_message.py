"""The publish_decision activity against the Slack stand-in, through slack_sdk over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from selfheal.activities.slack.activities import NOT_CONFIGURED, SlackActivities
from selfheal.contracts.slack import DecisionCard, DecisionPost
from selfheal.model.diagnosis import FieldChange
from selfheal.model.incident import IncidentState
from selfheal.settings import Settings
from selfheal_lab.sandbox.slack import SlackSandbox
from tests.workflow.doubles import memory_fix, oom_diagnosis

OPENED = datetime.now(UTC) - timedelta(minutes=5)


@pytest.fixture
def slack() -> Iterator[SlackSandbox]:
    with SlackSandbox() as sandbox:
        yield sandbox


def settings_for(slack: SlackSandbox, **changes: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": SecretStr(slack.token),
        "slack_channel": slack.channel,
        "slack_api_url": slack.api_url,
    }
    return Settings(**{**values, **changes})


def card(state: IncidentState = IncidentState.AWAITING_APPROVAL, attempt: int = 1) -> DecisionCard:
    return DecisionCard(
        incident_id="inc-checkout-1a2b3c4d",
        attempt=attempt,
        state=state,
        note="proposed increase_memory (risk low): raise the memory limit from 64Mi to 128Mi",
        namespace="demo",
        service="checkout",
        diagnosis=oom_diagnosis(),
        fix=memory_fix().model_copy(
            update={"changes": [FieldChange(path="limits.memory", before="64Mi", after="128Mi")]}
        ),
        pr_url="http://github.test/acme/infra/pull/7",
        ticket_key="OPS-1",
        ticket_url="http://jira.test/browse/OPS-1",
        deadline=OPENED + timedelta(hours=4),
        opened_at=OPENED,
    )


def test_the_decision_message_shows_diagnosis_diff_links_and_buttons_bound_to_the_proposal(
    slack: SlackSandbox,
) -> None:
    posted = SlackActivities(settings_for(slack)).publish_decision(DecisionPost(card=card()))
    [message] = slack.messages()
    assert posted.message is not None and posted.message.ts == message.ts
    text = json.dumps(message.blocks)
    assert "OOMKilled" in text and "- 64Mi" in text and "+ 128Mi" in text
    assert "pull/7" in text and "OPS-1" in text and "decide by" in text
    values = {b["action_id"]: json.loads(b["value"]) for b in message.buttons()}
    digest = memory_fix().digest
    assert values == {
        "approve": {"incident": "inc-checkout-1a2b3c4d", "proposal": digest},
        "reject": {"incident": "inc-checkout-1a2b3c4d", "proposal": digest},
    }


def test_a_retried_post_finds_the_message_instead_of_posting_twice(slack: SlackSandbox) -> None:
    activities = SlackActivities(settings_for(slack))
    first = activities.publish_decision(DecisionPost(card=card()))
    # The worker died before recording `first`: the retry knows of no message.
    again = activities.publish_decision(DecisionPost(card=card()))
    assert again.message == first.message
    assert len(slack.messages()) == 1
    other = activities.publish_decision(DecisionPost(card=card(attempt=2)))
    assert other.message is not None and other.message.ts != first.message.ts  # type: ignore[union-attr]
    assert len(slack.messages()) == 2


def test_later_transitions_update_the_message_and_say_their_note_once_in_its_thread(
    slack: SlackSandbox,
) -> None:
    activities = SlackActivities(settings_for(slack))
    posted = activities.publish_decision(DecisionPost(card=card()))
    resolved = DecisionPost(
        card=card(IncidentState.RESOLVED),
        message=posted.message,
        thread_note="verified healthy for 2m",
        note_key="run-1:9",
    )
    activities.publish_decision(resolved)
    activities.publish_decision(resolved)  # a retry: the reply is not said twice
    [message] = slack.messages()
    assert message.buttons() == []
    assert "RESOLVED" in message.text and message.edited == 2
    assert [reply.text for reply in slack.thread(message)] == ["verified healthy for 2m"]


def test_without_token_or_channel_it_says_so_and_posts_nothing(slack: SlackSandbox) -> None:
    settings = settings_for(slack, slack_bot_token=None)
    posted = SlackActivities(settings).publish_decision(DecisionPost(card=card()))
    assert posted.message is None and posted.note == NOT_CONFIGURED
    assert slack.messages() == []


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"slack_channel": "C0GONE"}, "channel_not_found"),
        ({"slack_bot_token": SecretStr("xoxb-revoked")}, "invalid_auth"),
    ],
)
def test_a_refusal_fails_for_good_naming_slacks_error(
    slack: SlackSandbox, changes: dict[str, object], said: str
) -> None:
    with pytest.raises(ApplicationError) as refused:
        SlackActivities(settings_for(slack, **changes)).publish_decision(DecisionPost(card=card()))
    assert refused.value.non_retryable and refused.value.type == "SlackRefused"
    assert said in refused.value.message


def test_an_outage_is_retried(slack: SlackSandbox) -> None:
    slack.faults.set(503, count=1)
    with pytest.raises(ApplicationError) as failed:
        SlackActivities(settings_for(slack)).publish_decision(DecisionPost(card=card()))
    assert not failed.value.non_retryable and failed.value.type == "SlackUnavailable"
