"""The whole GitOps loop on the sandbox, through the real processes of `selfheal up` (issue 5).

oom is injected as a commit on main; the incident opens a pull request that changes only the
memory lines; `selfheal approve` merges it; the GitOps sync deploys it; the incident verifies
and resolves; the JIRA ticket carries a comment per step and ends Done.
"""

from __future__ import annotations

import asyncio
import re

from selfheal.chaos.through_git import inject_through_repository
from selfheal.model.diagnosis import FixKind
from selfheal.model.incident import IncidentState
from selfheal_lab.demo import now
from selfheal_lab.watch import eventually, incident_about
from tests.e2e.follow import wait_for_state, wait_until_healthy
from tests.e2e.oncall import manifest_path, read_manifest
from tests.e2e.stack import RunningStack

DEPLOYMENT = "payments"
MANIFEST = manifest_path(DEPLOYMENT)
STEP = re.compile(r"^\*([A-Z_]+)\*:")


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """Return the (before, after) pairs of lines that differ; the files must align line by line."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new), "the fix added or removed lines"
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def comments(text: str) -> list[str]:
    """Return every comment of a YAML text, whole-line and inline, in order."""
    return [line.partition("#")[2] for line in text.splitlines() if "#" in line]


async def test_oom_is_fixed_by_a_minimal_pull_request_and_resolves(sandbox_stack: RunningStack):
    repo = sandbox_stack.github().get_repo(sandbox_stack.info.github["repo"])
    since = now()
    await asyncio.to_thread(
        inject_through_repository, sandbox_stack.kubernetes(), repo, "oom", workload=DEPLOYMENT
    )
    broken = read_manifest(repo, DEPLOYMENT)
    client = await sandbox_stack.client()
    incident_id = await incident_about(client, DEPLOYMENT, since)
    status = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})

    pull = repo.get_pull(status.pr_number or 0)
    assert (pull.base.ref, pull.head.ref) == ("main", f"selfheal/{incident_id}")
    assert [f.filename for f in pull.get_files()] == [MANIFEST]
    assert f"selfheal approve {incident_id}" in (pull.body or "")
    proposed = read_manifest(repo, DEPLOYMENT, ref=pull.head.ref)
    changes = changed_lines(broken, proposed)
    assert changes and all("memory:" in a and "memory:" in b for a, b in changes), changes
    for before, after in changes:  # inline comments and indentation ride along untouched
        assert before.partition("#")[2] == after.partition("#")[2]
        assert before[: before.index("memory")] == after[: after.index("memory")]
    assert comments(broken) and comments(proposed) == comments(broken)

    approved = await asyncio.to_thread(
        sandbox_stack.cli, "approve", incident_id, "--by", "e2e-approver", "--comment", "lgtm"
    )
    assert approved.returncode == 0, approved.stderr
    status = await wait_for_state(client, incident_id, {IncidentState.RESOLVED})
    assert status.fix is not None and status.fix.kind == FixKind.INCREASE_MEMORY
    states = [entry.state for entry in status.timeline]
    for step in (IncidentState.DEPLOYING, IncidentState.VERIFYING, IncidentState.RESOLVED):
        assert step in states, states
    assert repo.get_pull(pull.number).merged
    assert read_manifest(repo, DEPLOYMENT) == proposed
    await wait_until_healthy(sandbox_stack.kubernetes(), DEPLOYMENT)

    jira = sandbox_stack.jira()
    key = status.ticket_key
    assert key, "no ticket was opened"

    async def done() -> str | None:
        issue = await asyncio.to_thread(jira.issue, key, fields="status")
        name = issue["fields"]["status"]["name"]
        return name if name == "Done" else None

    await eventually(done, f"ticket {key} Done", timeout=30)
    notes = (jira.issue_get_comments(key) or {})["comments"]
    commented = {m[1] for c in notes if (m := STEP.match(c["body"]))}
    expected = {entry.state.value for entry in status.timeline} - {"RECEIVED"}
    assert expected <= commented, f"steps without a ticket comment: {expected - commented}"
    assert any(pull.html_url in c["body"] for c in notes), "no comment links the PR"
