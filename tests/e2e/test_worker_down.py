"""The newcomer's first incident, then the worker dies mid-review (issue 14).

`selfheal chaos inject oom` commits the fault to the manifest repository (gitops mode has a
repository, so git is the default); the incident opens a pull request. The worker is
SIGKILLed while the review waits: `show` and `list` still answer from what the incident last
published, an `approve` is accepted as a signal, and once a worker runs again it merges,
verifies and resolves.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal

from selfheal.model.incident import IncidentState
from selfheal_lab.demo import now
from selfheal_lab.local_stack import pid_alive
from selfheal_lab.watch import incident_about
from tests.e2e.follow import wait_for_state, wait_until_healthy
from tests.e2e.oncall import read_manifest
from tests.e2e.stack import RunningStack


async def test_chaos_through_git_then_a_dead_worker_still_shows_and_takes_the_approval(
    private_stack: RunningStack,
):
    stack = private_stack
    repo = stack.github().get_repo(stack.info.github["repo"])
    client = await stack.client()
    await wait_until_healthy(stack.kubernetes(), "checkout", timeout=90)
    before = await asyncio.to_thread(read_manifest, repo, "checkout")
    since = now()

    injected = await asyncio.to_thread(stack.cli, "chaos", "inject", "oom")
    assert injected.returncode == 0, injected.stderr
    assert "committed to the manifest repository" in injected.stdout, injected.stdout
    assert await asyncio.to_thread(read_manifest, repo, "checkout") != before

    incident_id = await incident_about(client, "checkout", since)
    status = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})
    assert status.pr_url

    worker = stack.info.pids["worker"]
    os.killpg(worker, signal.SIGKILL)
    while pid_alive(worker):
        await asyncio.sleep(0.1)

    shown = await asyncio.to_thread(stack.cli, "show", incident_id)
    assert shown.returncode == 0, shown.stderr
    assert "no worker is answering" in shown.stdout
    assert "AWAITING_REVIEW" in shown.stdout and status.pr_url in shown.stdout
    as_json = await asyncio.to_thread(stack.cli, "show", incident_id, "--json")
    published = json.loads(as_json.stdout)
    assert published["read_from"] == "published" and published["as_of"]
    assert (published["state"], published["pr_url"]) == ("AWAITING_REVIEW", status.pr_url)
    listed = await asyncio.to_thread(stack.cli, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    states = {row["id"]: row["state"] for row in json.loads(listed.stdout)}
    assert states[incident_id] == "AWAITING_REVIEW"

    approved = await asyncio.to_thread(stack.cli, "approve", incident_id, "--by", "e2e-approver")
    assert approved.returncode == 0, approved.stderr
    assert "sent as a signal" in approved.stdout

    await asyncio.to_thread(stack.start_missing)
    status = await wait_for_state(client, incident_id, {IncidentState.RESOLVED}, timeout=180)
    assert repo.get_pull(status.pr_number or 0).merged
    assert [a.by for a in status.approvals if a.accepted] == ["e2e-approver"]
    await wait_until_healthy(stack.kubernetes(), "checkout", timeout=90)
