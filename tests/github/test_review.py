"""Reading reviews, merging, closing and reverting the fix pull request, over HTTP."""

from __future__ import annotations

import pytest
from github import Github
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from selfheal.activities.github.activities import GitHubActivities
from selfheal.contracts.github import (
    ClosePullRequest,
    MergeRequest,
    PullRequestInfo,
    PullRequestRef,
    RevertRequest,
)
from selfheal_lab.sandbox.github import GitHubSandbox
from tests.github.conftest import INCIDENT, REPO, fix_request
from tests.github.samples import CHECKOUT, memory_limit

MANIFEST = "apps/checkout/deployment.yaml"


@pytest.fixture
def opened(activities: GitHubActivities, env: ActivityEnvironment) -> PullRequestInfo:
    return env.run(activities.open_pull_request, fix_request())


def review(reviewer: Github, number: int, event: str, body: str = "") -> None:
    reviewer.get_repo(REPO).get_pull(number).create_review(body=body, event=event)


def test_state_counts_each_reviewers_latest_verdict(
    activities: GitHubActivities,
    env: ActivityEnvironment,
    reviewer: Github,
    opened: PullRequestInfo,
) -> None:
    ref = PullRequestRef(incident_id=INCIDENT, number=opened.number)
    fresh = env.run(activities.get_pull_request, ref)
    assert (fresh.open, fresh.merged, fresh.approved_by, fresh.author) == (
        True,
        False,
        [],
        "selfheal-bot",
    )

    review(reviewer, opened.number, "APPROVE")
    assert env.run(activities.get_pull_request, ref).approved_by == ["alice"]

    review(reviewer, opened.number, "REQUEST_CHANGES", "512Mi is too much for this node pool")
    changed = env.run(activities.get_pull_request, ref)
    assert changed.approved_by == []
    assert changed.changes_requested_by == ["alice"]


def test_merge_squashes_once_and_says_who_approved(
    sandbox: GitHubSandbox,
    activities: GitHubActivities,
    env: ActivityEnvironment,
    opened: PullRequestInfo,
) -> None:
    request = MergeRequest(incident_id=INCIDENT, number=opened.number, approved_by="alice")
    merged = env.run(activities.merge_pull_request, request)
    again = env.run(activities.merge_pull_request, request)

    assert merged.merged and not merged.open
    assert again == merged
    main = sandbox.read_file(MANIFEST)
    assert main == sandbox.read_file(MANIFEST, ref=opened.branch)
    assert main != CHECKOUT
    comments = [c.body for c in sandbox.comments(opened.number)]
    assert len(comments) == 1
    assert "Approved by **alice**" in comments[0]
    head = sandbox.history.commit(sandbox.history.resolve("main"))
    assert len(head.parents) == 1, "squash merge: one commit on main"
    assert f"(#{opened.number})" in head.message


def test_the_bot_cannot_approve_its_own_pull_request(
    sandbox: GitHubSandbox,
    activities: GitHubActivities,
    env: ActivityEnvironment,
    opened: PullRequestInfo,
) -> None:
    request = MergeRequest(incident_id=INCIDENT, number=opened.number, approved_by="selfheal-bot")
    with pytest.raises(ApplicationError) as refused:
        env.run(activities.merge_pull_request, request)

    assert refused.value.type == "SelfApproval"
    assert refused.value.non_retryable
    assert not sandbox.pulls()[0].merged


def test_close_comments_the_reason_once(
    sandbox: GitHubSandbox,
    activities: GitHubActivities,
    env: ActivityEnvironment,
    opened: PullRequestInfo,
) -> None:
    request = ClosePullRequest(
        incident_id=INCIDENT, number=opened.number, reason="fix rejected by bob: wrong container"
    )
    closed = env.run(activities.close_pull_request, request)
    again = env.run(activities.close_pull_request, request)

    assert (closed.open, closed.merged) == (False, False)
    assert again == closed
    comments = [c.body for c in sandbox.comments(opened.number)]
    assert len(comments) == 1
    assert "fix rejected by bob: wrong container" in comments[0]
    assert sandbox.read_file(MANIFEST) == CHECKOUT


def test_a_closed_pull_request_is_not_merged(
    activities: GitHubActivities, env: ActivityEnvironment, opened: PullRequestInfo
) -> None:
    env.run(
        activities.close_pull_request,
        ClosePullRequest(incident_id=INCIDENT, number=opened.number, reason="rejected"),
    )
    with pytest.raises(ApplicationError) as refused:
        env.run(
            activities.merge_pull_request,
            MergeRequest(incident_id=INCIDENT, number=opened.number, approved_by="alice"),
        )

    assert refused.value.type == "PullRequestClosed"
    assert refused.value.non_retryable


def test_revert_restores_the_manifest_as_before_the_merge(
    sandbox: GitHubSandbox,
    activities: GitHubActivities,
    env: ActivityEnvironment,
    opened: PullRequestInfo,
) -> None:
    env.run(
        activities.merge_pull_request,
        MergeRequest(incident_id=INCIDENT, number=opened.number, approved_by="alice"),
    )
    request = RevertRequest(
        incident_id=INCIDENT, number=opened.number, reason="pods still OOMKilled after the fix"
    )
    revert = env.run(activities.open_revert_pull_request, request)
    again = env.run(activities.open_revert_pull_request, request)

    assert again == revert
    assert revert.branch == f"selfheal/{INCIDENT}-revert"
    assert sandbox.read_file(MANIFEST, ref=revert.branch) == CHECKOUT
    assert "-              memory: 512Mi" in revert.diff
    pulls = sandbox.pulls()
    assert [p.number for p in pulls] == [opened.number, revert.number]
    assert "pods still OOMKilled after the fix" in pulls[1].body
    assert set(pulls[1].labels) == {"selfheal", "revert"}

    env.run(
        activities.merge_pull_request,
        MergeRequest(incident_id=INCIDENT, number=revert.number, approved_by="alice"),
    )
    assert sandbox.read_file(MANIFEST) == CHECKOUT


def test_nothing_to_revert_before_a_merge(
    activities: GitHubActivities, env: ActivityEnvironment, opened: PullRequestInfo
) -> None:
    with pytest.raises(ApplicationError) as refused:
        env.run(
            activities.open_revert_pull_request,
            RevertRequest(incident_id=INCIDENT, number=opened.number, reason="verify failed"),
        )

    assert refused.value.type == "NothingToRevert"
    assert refused.value.non_retryable


def test_the_same_incident_recurring_starts_from_the_current_main(
    sandbox: GitHubSandbox,
    activities: GitHubActivities,
    env: ActivityEnvironment,
    opened: PullRequestInfo,
) -> None:
    env.run(
        activities.merge_pull_request,
        MergeRequest(incident_id=INCIDENT, number=opened.number, approved_by="alice"),
    )
    recurrence = env.run(
        activities.open_pull_request, fix_request(patch=memory_limit("checkout", "1Gi"))
    )

    assert recurrence.number != opened.number
    assert recurrence.branch == opened.branch
    history = sandbox.history
    ahead = history.commits_between(history.resolve("main"), history.resolve(recurrence.branch))
    assert len(ahead) == 1
    assert "-              memory: 512Mi" in recurrence.diff
    assert "+              memory: 1Gi" in recurrence.diff


def test_unknown_pull_request_fails_for_good(
    activities: GitHubActivities, env: ActivityEnvironment
) -> None:
    with pytest.raises(ApplicationError) as failed:
        env.run(activities.get_pull_request, PullRequestRef(incident_id=INCIDENT, number=99))

    assert failed.value.type == "PullRequestNotFound"
    assert failed.value.non_retryable
