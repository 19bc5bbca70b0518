"""GitHub failing under the incident (issue 5): a missing manifest and a 403 escalate at once
with a reason a person can act on; 5xx answers are retried with backoff and the loop completes.

Faults are injected into the sandbox's GitHub stand-in through its control routes
(lab/selfheal_lab/sandbox/control.py), which also count the requests it served.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from temporalio.api.enums.v1 import EventType

from selfheal.chaos.injection import clear, inject
from selfheal.chaos.through_git import inject_through_repository
from selfheal.client import decisions
from selfheal.model.decisions import Approval
from selfheal.model.incident import IncidentState
from selfheal_lab.demo import now
from selfheal_lab.watch import incident_about
from tests.e2e.follow import wait_for_state, wait_until_healthy
from tests.e2e.oncall import (
    manifest_path,
    read_manifest,
    remove_manifest,
    restore_manifest,
    revert_and_resolve,
)
from tests.e2e.stack import RunningStack


async def test_a_manifest_missing_from_the_repository_escalates_saying_so(
    sandbox_stack: RunningStack,
):
    deployment = "catalog"
    path = manifest_path(deployment)
    repo = sandbox_stack.github().get_repo(sandbox_stack.info.github["repo"])
    original = read_manifest(repo, deployment)
    # The sync does not prune, so the Deployment keeps running with an annotation to nowhere.
    remove_manifest(repo, deployment, "move catalog out of this repository")
    api = sandbox_stack.kubernetes()
    since = now()
    inject(api, "oom", workload=deployment)
    try:
        client = await sandbox_stack.client()
        incident_id = await incident_about(client, deployment, since)
        status = await wait_for_state(client, incident_id, {IncidentState.ESCALATED})
    finally:
        clear(api, workload=deployment)
        restore_manifest(repo, deployment, original, "bring catalog back")
    reason = status.escalation_reason or ""
    assert "could not open the pull request" in reason
    assert f"{path} (named by annotation selfheal.dev/manifest" in reason
    assert "[ManifestNotFound]" in reason
    assert status.pr_number is None
    resolved = sandbox_stack.cli("resolve", incident_id, "--by", "e2e-oncall", "--note", "moved")
    assert resolved.returncode == 0, resolved.stderr
    await wait_until_healthy(api, deployment)


async def test_github_403_escalates_at_once_without_retrying(sandbox_stack: RunningStack):
    deployment = "checkout"
    repo = sandbox_stack.github().get_repo(sandbox_stack.info.github["repo"])
    original = read_manifest(repo, deployment)
    github = sandbox_stack.standin("github")
    since = now()
    await asyncio.to_thread(
        inject_through_repository, sandbox_stack.kubernetes(), repo, "oom", workload=deployment
    )
    already = github.fault()["injected"]  # the count covers the stand-in's whole life
    github.fail(403)
    try:
        client = await sandbox_stack.client()
        incident_id = await incident_about(client, deployment, since)
        status = await wait_for_state(client, incident_id, {IncidentState.ESCALATED})
        refused = github.fault()["injected"] - already
    finally:
        github.heal()
    reason = status.escalation_reason or ""
    assert "GitHub answered HTTP 403" in reason and "GITHUB_TOKEN" in reason, reason
    assert "[GitHubPermissionDenied]" in reason
    assert refused == 1, f"{refused} requests were refused: the 403 was retried"
    await asyncio.to_thread(
        revert_and_resolve, sandbox_stack, repo, incident_id, deployment, original
    )
    await wait_until_healthy(sandbox_stack.kubernetes(), deployment, timeout=90)


async def test_github_5xx_is_retried_with_backoff_and_the_incident_completes(
    sandbox_stack: RunningStack,
):
    deployment = "payments"
    repo = sandbox_stack.github().get_repo(sandbox_stack.info.github["repo"])
    since = now()
    await asyncio.to_thread(
        inject_through_repository, sandbox_stack.kubernetes(), repo, "oom", workload=deployment
    )
    github = sandbox_stack.standin("github")
    already = github.fault()["injected"]
    # The next three requests fail: those are the worker's first three tries to open the PR.
    answer = httpx.put(
        f"{github.url}/sandbox/v1/faults", json={"status": 503, "count": 3}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    try:
        client = await sandbox_stack.client()
        incident_id = await incident_about(client, deployment, since)
        status = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})
        assert github.fault() == {"active": None, "injected": already + 3}
    finally:
        github.heal()
    attempt, waited = await opening_attempts(sandbox_stack, incident_id)
    assert attempt == 4, f"the pull request was opened on attempt {attempt}"
    # Temporal's backoff (1 s, 2 s, 4 s) between the failed tries, not a tight loop.
    assert waited >= timedelta(seconds=6), waited
    await decisions.approve(client, incident_id, Approval(by="e2e-approver"))
    status = await wait_for_state(client, incident_id, {IncidentState.RESOLVED})
    assert repo.get_pull(status.pr_number or 0).merged
    await wait_until_healthy(sandbox_stack.kubernetes(), deployment)


async def opening_attempts(stack: RunningStack, incident_id: str) -> tuple[int, timedelta]:
    """Return the attempt that opened the pull request, and how long after it was scheduled."""
    client = await stack.client()
    history = await client.get_workflow_handle(incident_id).fetch_history()
    scheduled = {
        event.event_id: event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == "open_pull_request"
    }
    for event in history.events:
        started = event.activity_task_started_event_attributes
        if (
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            and started.scheduled_event_id in scheduled
        ):
            at = scheduled[started.scheduled_event_id].event_time.ToDatetime()
            return started.attempt, event.event_time.ToDatetime() - at
    raise AssertionError(f"{incident_id} never started open_pull_request")
