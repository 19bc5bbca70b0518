"""Which GitHub failures Temporal retries, and which fail the incident's step for good."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from github import Auth, Github, GithubException
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from selfheal.activities.github.activities import GitHubActivities
from selfheal.activities.github.errors import translate
from selfheal_lab.sandbox.github import GitHubSandbox
from tests.github.conftest import REPO, fix_request, github_settings


def failure(status: int, message: str, headers: dict[str, str] | None = None) -> ApplicationError:
    return translate(GithubException(status, {"message": message}, headers or {}), "read", REPO)


def test_rate_limited_403_waits_for_the_reset_and_retries() -> None:
    reset = str(int(time.time()) + 120)
    error = failure(
        403,
        "API rate limit exceeded for installation",
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
    )

    assert error.type == "GitHubRateLimited"
    assert not error.non_retryable
    assert error.next_retry_delay is not None
    assert timedelta(seconds=100) <= error.next_retry_delay <= timedelta(seconds=121)


def test_secondary_rate_limit_honours_retry_after() -> None:
    error = failure(403, "You have exceeded a secondary rate limit", {"Retry-After": "30"})

    assert error.type == "GitHubRateLimited"
    assert error.next_retry_delay == timedelta(seconds=30)


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [
        (401, "GitHubPermissionDenied", False),
        (403, "GitHubPermissionDenied", False),
        (404, "GitHubRequestRejected", False),
        (422, "GitHubRequestRejected", False),
        (500, "GitHubUnavailable", True),
        (502, "GitHubUnavailable", True),
    ],
)
def test_status_decides_retrying(status: int, kind: str, retryable: bool) -> None:
    error = failure(status, "Resource not accessible by integration")

    assert (error.type, not error.non_retryable) == (kind, retryable)
    assert f"HTTP {status}" in error.message
    assert "Resource not accessible by integration" in error.message


def test_a_hung_github_times_out_and_is_left_to_temporal() -> None:
    with GitHubSandbox(REPO) as sandbox:
        client = Github(base_url=sandbox.url, auth=Auth.Token("bot"), timeout=1, retry=None)
        activities = GitHubActivities(github_settings(sandbox), client)
        sandbox.faults.set(hang=True, for_seconds=5)
        started = time.monotonic()
        with pytest.raises(requests.exceptions.Timeout):
            ActivityEnvironment().run(activities.open_pull_request, fix_request())
        elapsed = time.monotonic() - started
        sandbox.faults.clear()

    assert elapsed < 3, "one short timeout, no retries inside the activity"
