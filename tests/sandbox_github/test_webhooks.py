"""Signed webhooks for pull request events, delivered to a real receiving app."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from github import Github

from selfheal_lab.sandbox.github import GitHubSandbox
from tests.sandbox_github.conftest import WEBHOOK_SECRET, Receiver
from tests.sandbox_github.test_pull_requests import open_fix_branch


def wait_for(received: list[dict[str, object]], count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while len(received) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(received) >= count, f"expected {count} deliveries, got {len(received)}"


def test_pull_request_events_are_signed_and_shaped_like_github(
    sandbox: GitHubSandbox, bot: Github, reviewer: Github, receiver: tuple[Receiver, str]
) -> None:
    recv, _ = receiver
    open_fix_branch(bot, "selfheal/inc-w", "memory: 256Mi", "memory: 320Mi")
    repo = bot.get_repo("acme/infra")
    pr = repo.create_pull(base="main", head="selfheal/inc-w", title="fix", body="")
    reviewer.get_repo("acme/infra").get_pull(pr.number).create_review(body="ok", event="APPROVE")
    pr.merge(merge_method="squash")
    wait_for(recv.received, 3)

    events = []
    for delivery in recv.received:
        headers, body = delivery["headers"], delivery["body"]
        assert isinstance(headers, dict) and isinstance(body, bytes)
        expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-hub-signature-256"], expected)
        assert headers["x-github-delivery"]
        payload = json.loads(body)
        events.append((headers["x-github-event"], payload["action"], payload))

    assert [(e, a) for e, a, _ in events] == [
        ("pull_request", "opened"),
        ("pull_request_review", "submitted"),
        ("pull_request", "closed"),
    ]
    opened, review, closed = (p for _, _, p in events)
    assert opened["pull_request"]["head"]["ref"] == "selfheal/inc-w"
    assert opened["repository"]["full_name"] == "acme/infra"
    assert review["review"]["state"] == "approved"
    assert review["review"]["user"]["login"] == "alice"
    assert review["pull_request"]["number"] == pr.number
    assert closed["pull_request"]["merged"] is True
    assert closed["pull_request"]["merge_commit_sha"] == repo.get_branch("main").commit.sha


def test_failed_delivery_does_not_fail_the_api_call(
    sandbox: GitHubSandbox, bot: Github, receiver: tuple[Receiver, str]
) -> None:
    recv, _ = receiver
    recv.status = 500
    open_fix_branch(bot, "selfheal/inc-x", "replicas: 2", "replicas: 5")
    pr = bot.get_repo("acme/infra").create_pull(
        base="main", head="selfheal/inc-x", title="x", body=""
    )
    sandbox.set_webhook("http://127.0.0.1:9/unreachable", WEBHOOK_SECRET)
    pr.edit(state="closed")
    assert sandbox.webhooks.flush()

    first, second = sandbox.deliveries
    assert (first.action, first.status) == ("opened", 500)
    assert second.action == "closed" and second.status is None and second.error
    assert bot.get_repo("acme/infra").get_pull(pr.number).state == "closed"
