"""Fault injection: the stand-in answers 5xx, 4xx or nothing when a test says so."""

from __future__ import annotations

import time

import pytest
import requests
from github import GithubException
from github.GithubRetry import GithubRetry

from selfheal_lab.sandbox.github import GitHubSandbox
from tests.sandbox_github.conftest import BOT_TOKEN, client


def test_503_is_answered_until_cleared(sandbox: GitHubSandbox) -> None:
    gh = client(sandbox, BOT_TOKEN, retry=None)
    sandbox.faults.set(status=503)
    with pytest.raises(GithubException) as failed:
        gh.get_repo("acme/infra")
    assert failed.value.status == 503
    sandbox.faults.clear()
    assert gh.get_repo("acme/infra").full_name == "acme/infra"


def test_pygithub_retries_through_a_short_outage(sandbox: GitHubSandbox) -> None:
    gh = client(sandbox, BOT_TOKEN, retry=GithubRetry(total=3, backoff_factor=0.01))
    sandbox.faults.set(status=502, count=2)
    assert gh.get_repo("acme/infra").default_branch == "main"
    assert sandbox.faults.injected == 2


def test_403_is_answered_and_not_retried(sandbox: GitHubSandbox) -> None:
    gh = client(sandbox, BOT_TOKEN)
    sandbox.faults.set(status=403, methods={"POST"})
    repo = gh.get_repo("acme/infra")
    with pytest.raises(GithubException) as refused:
        repo.create_label("selfheal", "ffffff")
    assert refused.value.status == 403
    assert "not accessible" in str(refused.value.data)
    assert sandbox.faults.injected == 1


def test_hang_holds_requests_until_the_client_times_out(sandbox: GitHubSandbox) -> None:
    sandbox.faults.set(hang=True, for_seconds=5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{sandbox.url}/repos/acme/infra", timeout=0.3)
    assert time.monotonic() - started < 2
    sandbox.faults.clear()
    answered = requests.get(
        f"{sandbox.url}/repos/acme/infra", headers={"Authorization": "token x"}, timeout=2
    )
    assert answered.status_code == 200
