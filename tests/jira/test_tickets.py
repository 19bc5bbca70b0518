"""The incident's JIRA ticket through real atlassian-python-api against the JIRA stand-in."""

from __future__ import annotations

import time

import pytest
import requests
from atlassian import Jira
from temporalio.exceptions import ApplicationError

from selfheal.activities.jira.activities import NOT_CONFIGURED, JiraActivities
from selfheal.contracts.jira import TicketUpdate
from selfheal.model.incident import IncidentState
from selfheal_lab.sandbox.jira import JiraSandbox
from tests.jira.conftest import INCIDENT, execution, jira_settings, ticket_request


def comments(sandbox: JiraSandbox, key: str) -> list[str]:
    return [comment.body for comment in sandbox.issue(key).comments]


def update(key: str, state: IncidentState, note: str) -> TicketUpdate:
    return TicketUpdate(incident_id=INCIDENT, key=key, state=state, comment=note)


def test_without_jira_url_there_is_no_ticket_and_it_says_so() -> None:
    activities = JiraActivities(jira_settings(None))
    ticket = execution().run(activities.open_ticket, ticket_request())

    assert ticket.key is None and ticket.url is None
    assert ticket.note == NOT_CONFIGURED == "JIRA not configured (JIRA_URL unset): no ticket"


def test_open_ticket_creates_one_in_progress_ticket(
    sandbox: JiraSandbox, activities: JiraActivities
) -> None:
    ticket = execution().run(activities.open_ticket, ticket_request())

    [issue] = sandbox.issues()
    assert ticket.key == issue.key == "OPS-1"
    assert ticket.url == f"{sandbox.url}/browse/OPS-1"
    assert issue.status == "In Progress"
    assert issue.summary == "[selfheal] checkout: KubePodCrashLooping"
    assert set(issue.labels) == {"selfheal", INCIDENT}
    assert "OOMKilled 4 times" in (issue.description or "")
    assert f"/workflows/{INCIDENT}" in (issue.description or "")


def test_open_ticket_twice_is_one_ticket(sandbox: JiraSandbox, activities: JiraActivities) -> None:
    first = execution().run(activities.open_ticket, ticket_request())
    second = execution().run(activities.open_ticket, ticket_request())

    assert second.key == first.key
    assert len(sandbox.issues()) == 1


def test_the_alerts_own_ticket_is_linked_not_duplicated(
    sandbox: JiraSandbox, activities: JiraActivities, people: Jira
) -> None:
    created = people.issue_create(
        fields={
            "project": {"key": "OPS"},
            "summary": "checkout is down",
            "issuetype": {"name": "Incident"},
        }
    )
    key = str(created["key"])

    for _ in range(2):
        ticket = execution().run(activities.open_ticket, ticket_request(existing_key=key))

    assert ticket.key == key
    assert len(sandbox.issues()) == 1
    issue = sandbox.issue(key)
    assert issue.status == "In Progress"
    assert INCIDENT in issue.labels
    [linked] = comments(sandbox, key)
    assert f"selfheal is handling this as incident {INCIDENT}" in linked


def test_a_recurring_incident_reopens_its_done_ticket(
    sandbox: JiraSandbox, activities: JiraActivities
) -> None:
    first = execution(run_id="run-first").run(activities.open_ticket, ticket_request())
    execution(run_id="run-first", activity_id="9").run(
        activities.update_ticket, update(str(first.key), IncidentState.RESOLVED, "healthy")
    )
    assert sandbox.issue(str(first.key)).status == "Done"

    again = execution(run_id="run-later").run(activities.open_ticket, ticket_request())

    assert again.key == first.key
    assert len(sandbox.issues()) == 1
    assert sandbox.issue(str(again.key)).status == "In Progress"
    assert "The problem is back" in comments(sandbox, str(again.key))[-1]


def test_each_transition_is_commented_once_even_when_retried(
    sandbox: JiraSandbox, activities: JiraActivities
) -> None:
    key = str(execution().run(activities.open_ticket, ticket_request()).key)
    analyzing = update(key, IncidentState.ANALYZING, "gathering cluster context")
    review = update(key, IncidentState.AWAITING_REVIEW, "opened pull request #1: http://gh/pull/1")

    execution(activity_id="2").run(activities.update_ticket, analyzing)
    execution(activity_id="2").run(activities.update_ticket, analyzing)  # a retry
    execution(activity_id="3").run(activities.update_ticket, review)

    written = comments(sandbox, key)
    assert len(written) == 2
    assert written[0].startswith("*ANALYZING*: gathering cluster context")
    assert "*AWAITING_REVIEW*: opened pull request #1: http://gh/pull/1" in written[1]
    assert f"/workflows/{INCIDENT}" in written[1]
    assert sandbox.issue(key).status == "In Progress"


def test_resolved_moves_the_ticket_to_done(
    sandbox: JiraSandbox, activities: JiraActivities
) -> None:
    key = str(execution().run(activities.open_ticket, ticket_request()).key)
    ticket = execution(activity_id="5").run(
        activities.update_ticket, update(key, IncidentState.RESOLVED, "verified healthy")
    )

    assert ticket.key == key
    assert sandbox.issue(key).status == "Done"
    assert "*RESOLVED*: verified healthy" in comments(sandbox, key)[-1]


def test_escalated_moves_the_ticket_to_needs_human(
    sandbox: JiraSandbox, activities: JiraActivities
) -> None:
    key = str(execution().run(activities.open_ticket, ticket_request()).key)
    execution(activity_id="5").run(
        activities.update_ticket,
        update(key, IncidentState.ESCALATED, "fix rejected by bob: wrong container"),
    )

    assert sandbox.issue(key).status == "Needs Human"
    assert "fix rejected by bob: wrong container" in comments(sandbox, key)[-1]

    execution(activity_id="6").run(
        activities.update_ticket, update(key, IncidentState.ANALYZING, "retry requested by bob")
    )
    assert sandbox.issue(key).status == "In Progress"


def test_escalated_without_such_a_status_adds_a_label(sandbox: JiraSandbox) -> None:
    activities = JiraActivities(jira_settings(sandbox, jira_status_needs_human="Blocked"))
    key = str(execution().run(activities.open_ticket, ticket_request()).key)
    ticket = execution(activity_id="5").run(
        activities.update_ticket, update(key, IncidentState.ESCALATED, "review deadline passed")
    )

    assert "needs-human" in sandbox.issue(key).labels
    assert sandbox.issue(key).status == "In Progress"
    assert "labelled needs-human" in ticket.note


def test_unknown_ticket_fails_for_good(activities: JiraActivities) -> None:
    with pytest.raises(ApplicationError) as failed:
        execution().run(
            activities.update_ticket, update("OPS-404", IncidentState.ANALYZING, "hello")
        )

    assert failed.value.type == "TicketNotFound"
    assert failed.value.non_retryable


def test_invalid_project_fails_for_good_with_jiras_reason(sandbox: JiraSandbox) -> None:
    activities = JiraActivities(jira_settings(sandbox, jira_project="NOPE"))
    with pytest.raises(ApplicationError) as failed:
        execution().run(activities.open_ticket, ticket_request())

    assert failed.value.type == "JiraRequestRejected"
    assert failed.value.non_retryable
    assert "project" in failed.value.message


def test_forbidden_fails_for_good(sandbox: JiraSandbox, activities: JiraActivities) -> None:
    sandbox.faults.set(403)
    with pytest.raises(ApplicationError) as failed:
        execution().run(activities.open_ticket, ticket_request())

    assert failed.value.type == "JiraPermissionDenied"
    assert failed.value.non_retryable


def test_server_error_is_left_to_temporal_to_retry(
    sandbox: JiraSandbox, activities: JiraActivities
) -> None:
    sandbox.faults.set(500)
    with pytest.raises(ApplicationError) as failed:
        execution().run(activities.open_ticket, ticket_request())

    assert failed.value.type == "JiraUnavailable"
    assert not failed.value.non_retryable
    assert sandbox.faults.injected == 1, "the client does not retry on its own"


def test_a_hung_jira_times_out_and_is_left_to_temporal(sandbox: JiraSandbox) -> None:
    client = Jira(url=sandbox.url, username="selfheal", password="api-token", timeout=1)
    activities = JiraActivities(jira_settings(sandbox), client)
    sandbox.faults.set(hang=True, for_seconds=5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        execution().run(activities.open_ticket, ticket_request())
    sandbox.faults.clear()

    assert time.monotonic() - started < 3, "one short timeout, no retries inside the activity"
