"""Review decisions on the fix pull request: a reject from the CLI, an approval on GitHub
whose webhook is lost and that polling catches (issue 5)."""

from __future__ import annotations

import asyncio

from selfheal.chaos.through_git import inject_through_repository
from selfheal.model.incident import IncidentState
from selfheal_lab.demo import now
from selfheal_lab.watch import eventually, incident_about
from tests.e2e.follow import wait_for_state, wait_until_healthy
from tests.e2e.oncall import read_manifest, revert_and_resolve
from tests.e2e.stack import RunningStack

REASON = "the limit must come from the capacity plan, not a guess"


async def test_reject_closes_the_pull_request_and_escalates_the_ticket(
    sandbox_stack: RunningStack,
):
    deployment = "catalog"
    repo = sandbox_stack.github().get_repo(sandbox_stack.info.github["repo"])
    original = read_manifest(repo, deployment)
    since = now()
    await asyncio.to_thread(
        inject_through_repository, sandbox_stack.kubernetes(), repo, "oom", workload=deployment
    )
    client = await sandbox_stack.client()
    incident_id = await incident_about(client, deployment, since)
    status = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})

    rejected = await asyncio.to_thread(
        sandbox_stack.cli, "reject", incident_id, "--by", "e2e-reviewer", "--reason", REASON
    )
    assert rejected.returncode == 0, rejected.stderr
    status = await wait_for_state(client, incident_id, {IncidentState.ESCALATED})
    assert "e2e-reviewer" in (status.escalation_reason or "")
    assert REASON in (status.escalation_reason or "")
    pull = repo.get_pull(status.pr_number or 0)
    assert pull.state == "closed" and not pull.merged
    assert any(REASON in c.body for c in pull.get_issue_comments()), "the PR does not say why"

    jira, key = sandbox_stack.jira(), status.ticket_key
    assert key, "no ticket was opened"

    async def escalated() -> bool | None:
        fields = (await asyncio.to_thread(jira.issue, key, fields="status,labels"))["fields"]
        needs_human = fields["status"]["name"] == "Needs Human" or "needs-human" in fields["labels"]
        return True if needs_human else None

    await eventually(escalated, f"ticket {key} handed to a person", timeout=30)
    await asyncio.to_thread(
        revert_and_resolve, sandbox_stack, repo, incident_id, deployment, original
    )
    await wait_until_healthy(sandbox_stack.kubernetes(), deployment, timeout=90)


async def test_an_approval_whose_webhook_is_lost_is_caught_by_polling(
    private_stack: RunningStack,
):
    deployment = "checkout"
    repo = private_stack.github().get_repo(private_stack.info.github["repo"])
    since = now()
    await asyncio.to_thread(
        inject_through_repository, private_stack.kubernetes(), repo, "oom", workload=deployment
    )
    client = await private_stack.client()
    incident_id = await incident_about(client, deployment, since)
    status = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})
    private_stack.stop_part("webhook")  # GitHub's delivery of the review now fails
    try:
        reviewer = private_stack.github_as("alice").get_repo(repo.full_name)
        pull = reviewer.get_pull(status.pr_number or 0)
        pull.create_review(event="APPROVE", body="looks right")
        status = await wait_for_state(client, incident_id, {IncidentState.RESOLVED}, timeout=90)
    finally:
        private_stack.start_missing()
    assert [a.by for a in status.approvals if a.accepted] == ["alice"]
    assert repo.get_pull(pull.number).merged
    await wait_until_healthy(private_stack.kubernetes(), deployment)
