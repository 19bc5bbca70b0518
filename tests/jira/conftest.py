"""Fixtures: the JIRA stand-in over HTTP and the activities pointed at it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from atlassian import Jira
from temporalio.testing import ActivityEnvironment

from selfheal.activities.jira.activities import JiraActivities
from selfheal.contracts.jira import TicketRequest
from selfheal.settings import Settings
from selfheal_lab.sandbox.jira import JiraSandbox

INCIDENT = "inc-checkout-oomkilled-1a2b3c4d"


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(project="OPS") as jira:
        yield jira


def jira_settings(sandbox: JiraSandbox | None, **overrides: Any) -> Settings:
    """Return settings for the sandbox (JIRA unset when None), nothing read from the environment."""
    values: dict[str, Any] = {
        "jira_url": sandbox.url if sandbox else None,
        "jira_user": "selfheal",
        "jira_token": "api-token",
        "jira_project": "OPS",
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def activities(sandbox: JiraSandbox) -> JiraActivities:
    return JiraActivities(jira_settings(sandbox))


@pytest.fixture
def people(sandbox: JiraSandbox) -> Jira:
    """A JIRA client for a person working the same project."""
    return Jira(url=sandbox.url, username="oncall", password="secret", timeout=5)


def execution(run_id: str = "run-0001", activity_id: str = "1") -> ActivityEnvironment:
    """Return an activity environment as one scheduled activity of one workflow run sees it."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, workflow_id=INCIDENT, workflow_run_id=run_id, activity_id=activity_id
    )
    return env


def ticket_request(**fields: Any) -> TicketRequest:
    """Return the request the workflow sends when an incident starts."""
    values: dict[str, Any] = {
        "incident_id": INCIDENT,
        "summary": "[selfheal] checkout: KubePodCrashLooping",
        "description": "checkout pods restart: OOMKilled 4 times in 10 minutes",
        "labels": ["selfheal", INCIDENT],
        **fields,
    }
    return TicketRequest(**values)
