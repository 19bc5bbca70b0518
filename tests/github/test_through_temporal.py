"""The GitHub activities run by a real worker: retries belong to Temporal, refusals stop at once."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError, RetryState
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from selfheal.activities.github.activities import GitHubActivities
from selfheal.contracts.github import OPEN_PULL_REQUEST, PullRequestInfo, PullRequestRequest
from selfheal.workflows.activity_calls import call
from selfheal_lab.sandbox.github import GitHubSandbox
from tests.github.conftest import REPO, fix_request, github_settings
from tests.github.samples import memory_limit


@workflow.defn(sandboxed=False)
class OpenFix:
    """Calls open_pull_request exactly as the incident workflow does."""

    @workflow.run
    async def run(self, request: PullRequestRequest) -> PullRequestInfo:
        return await call(OPEN_PULL_REQUEST, request)


async def open_fix(
    env: WorkflowEnvironment, activities: GitHubActivities, request: PullRequestRequest
) -> PullRequestInfo:
    queue = f"github-{uuid.uuid4()}"
    with ThreadPoolExecutor(4) as executor:
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[OpenFix],
            activities=[activities.open_pull_request],
            activity_executor=executor,
        ):
            return await env.client.execute_workflow(
                OpenFix.run, request, id=f"open-fix-{uuid.uuid4()}", task_queue=queue
            )


async def test_a_server_error_is_retried_by_temporal_into_one_pull_request(
    time_skipping_env: WorkflowEnvironment, sandbox: GitHubSandbox
) -> None:
    sandbox.faults.set(503, path_contains=f"/repos/{REPO}/pulls", methods={"POST"}, count=1)
    activities = GitHubActivities(github_settings(sandbox))

    info = await open_fix(time_skipping_env, activities, fix_request())

    assert sandbox.faults.injected == 1
    assert [p.number for p in sandbox.pulls()] == [info.number]


async def test_a_missing_manifest_fails_on_the_first_attempt(
    time_skipping_env: WorkflowEnvironment, sandbox: GitHubSandbox
) -> None:
    activities = GitHubActivities(github_settings(sandbox))
    request = fix_request(deployment="ghost", patch=memory_limit("ghost", "1Gi"))

    with pytest.raises(WorkflowFailureError) as failed:
        await open_fix(time_skipping_env, activities, request)

    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    assert activity_error.retry_state == RetryState.NON_RETRYABLE_FAILURE
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "ManifestNotFound"
    assert "apps/ghost/deployment.yaml" in cause.message
    assert sandbox.pulls() == []
