"""Fixtures: the GitHub stand-in over HTTP, the activities pointed at it, a human reviewer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from github import Auth, Github
from temporalio.testing import ActivityEnvironment

from selfheal.activities.github.activities import GitHubActivities
from selfheal.contracts.github import PullRequestRequest
from selfheal.model.diagnosis import (
    Diagnosis,
    DiagnosisCategory,
    Evidence,
    FieldChange,
    FixKind,
    FixProposal,
    RiskLevel,
)
from selfheal.settings import Settings
from selfheal_lab.sandbox.github import GitHubSandbox
from tests.github.samples import CHECKOUT, SERVICE, memory_limit

REPO = "acme/infra"
REVIEWER_TOKEN = "alice-token"
INCIDENT = "inc-checkout-oomkilled-1a2b3c4d"


@pytest.fixture
def sandbox() -> Iterator[GitHubSandbox]:
    files = {
        "README.md": "# infra\n",
        "apps/checkout/deployment.yaml": CHECKOUT,
        "apps/checkout/service.yaml": SERVICE,
    }
    with GitHubSandbox(REPO, files) as github:
        github.add_user("alice", REVIEWER_TOKEN)
        yield github


def github_settings(sandbox: GitHubSandbox, **overrides: Any) -> Settings:
    """Return settings for the sandbox, nothing read from the environment or `.env`."""
    values: dict[str, Any] = {
        "github_repo": REPO,
        "github_token": "bot-token",
        "github_api_url": sandbox.url,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def activities(sandbox: GitHubSandbox) -> GitHubActivities:
    return GitHubActivities(github_settings(sandbox))


@pytest.fixture
def env() -> ActivityEnvironment:
    return ActivityEnvironment()


@pytest.fixture
def reviewer(sandbox: GitHubSandbox) -> Github:
    """A PyGithub client for alice, a person who reviews pull requests."""
    return Github(
        base_url=sandbox.url,
        auth=Auth.Token(REVIEWER_TOKEN),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def fix_request(
    incident_id: str = INCIDENT,
    deployment: str = "checkout",
    patch: dict[str, Any] | None = None,
    **fields: Any,
) -> PullRequestRequest:
    """Return the request the workflow sends for an OOMKilled checkout: raise its memory limit."""
    return PullRequestRequest(
        incident_id=incident_id,
        namespace="demo",
        deployment=deployment,
        diagnosis=Diagnosis(
            category=DiagnosisCategory.OOM_KILLED,
            summary="container checkout was OOMKilled 4 times in 10 minutes",
            evidence=[
                Evidence(
                    source="pod/checkout-7d9f status.containerStatuses[checkout]",
                    detail="lastState.terminated.reason=OOMKilled exitCode=137",
                )
            ],
            confidence=0.92,
            suggested_fix=FixKind.INCREASE_MEMORY,
        ),
        fix=FixProposal(
            kind=FixKind.INCREASE_MEMORY,
            risk=RiskLevel.LOW,
            rationale="raise the memory limit from 256Mi to 512Mi",
            manifest_patch=patch if patch is not None else memory_limit(deployment, "512Mi"),
            changes=[
                FieldChange(
                    path="spec.template.spec.containers[checkout].resources.limits.memory",
                    before="256Mi",
                    after="512Mi",
                )
            ],
        ),
        ui_url=f"http://127.0.0.1:8233/namespaces/default/workflows/{incident_id}",
        ticket_key="OPS-7",
        **fields,
    )
