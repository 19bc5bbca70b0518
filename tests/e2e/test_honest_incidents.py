"""Honest incidents on the real processes of `selfheal up` (issue 14).

One incident per workload whatever the alerts are called; an alert the cluster cannot explain
goes to a person and closes only when it resolves; an unknown cluster is never touched.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime

import httpx

from selfheal.chaos.through_git import inject_through_repository
from selfheal.client.listing import list_incidents
from selfheal.model.incident import IncidentState
from selfheal_lab.demo import now
from selfheal_lab.watch import eventually, incident_about
from tests.e2e.alerting import PromAlert, post_alerts
from tests.e2e.follow import wait_for_state, wait_until_healthy
from tests.e2e.stack import RunningStack

OOM_ALERTS = (
    "KubePodCrashLooping",
    "KubeDeploymentReplicasMismatch",
    "KubeContainerOOMKilled",
    "KubePodNotReady",
)
"""What kube-prometheus fires for one OOM."""


async def incidents_since(stack: RunningStack, deployment: str, since: datetime) -> list[str]:
    client = await stack.client()
    listed = await list_incidents(client, service=deployment, limit=50)
    return [i.id for i in listed if i.started_at and i.started_at >= since]


def tickets_of(stack: RunningStack, incident_id: str) -> list[dict[str, object]]:
    answer = stack.jira().jql(f'labels = "{incident_id}"', fields="status", limit=10)
    issues: list[dict[str, object]] = (answer or {}).get("issues") or []
    return issues


async def test_one_oom_with_four_alert_names_is_one_incident_and_a_later_fault_names_it(
    sandbox_stack: RunningStack,
):
    stack, deployment = sandbox_stack, "checkout"
    repo = stack.github().get_repo(stack.info.github["repo"])
    client = await stack.client()
    await wait_until_healthy(stack.kubernetes(), deployment)
    since = now()
    await asyncio.to_thread(
        inject_through_repository, stack.kubernetes(), repo, "oom", workload=deployment
    )
    incident_id = await incident_about(client, deployment, since)
    deliveries = post_alerts(stack, [PromAlert(name, deployment) for name in OOM_ALERTS])
    assert {d["incident_id"] for d in deliveries} == {incident_id}

    status = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})

    async def all_joined() -> bool | None:
        current = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})
        return True if set(OOM_ALERTS) <= set(current.alert_names) else None

    await eventually(all_joined, "the four alert names joined", timeout=30)
    status = await wait_for_state(client, incident_id, {IncidentState.AWAITING_REVIEW})
    assert status.alert_count >= len(OOM_ALERTS)
    assert await incidents_since(stack, deployment, since) == [incident_id]

    approved = await asyncio.to_thread(
        stack.cli, "approve", incident_id, "--by", "e2e-approver", "--comment", "one fault"
    )
    assert approved.returncode == 0, approved.stderr
    await wait_for_state(client, incident_id, {IncidentState.VERIFYING, IncidentState.RESOLVED})
    await wait_until_healthy(stack.kubernetes(), deployment)
    post_alerts(stack, [PromAlert(name, deployment) for name in OOM_ALERTS], status="resolved")
    status = await wait_for_state(client, incident_id, {IncidentState.RESOLVED})
    # Verified by the cluster, and closed once what paged had cleared.
    assert "every alert that paged has resolved" in (status.resolution or ""), status.resolution
    assert [a.decision for a in status.approvals if a.accepted] == ["approve"]
    pulls = [
        p for p in repo.get_pulls(state="all") if p.head.ref.startswith(f"selfheal/{incident_id}")
    ]
    assert len(pulls) == 1 and pulls[0].merged
    assert len(tickets_of(stack, incident_id)) == 1
    assert await incidents_since(stack, deployment, since) == [incident_id]
    await wait_until_healthy(stack.kubernetes(), deployment)

    # A second fault on the same workload: a new incident, naming the first.
    again = now()
    await asyncio.to_thread(
        inject_through_repository, stack.kubernetes(), repo, "bad-image", workload=deployment
    )
    second = await incident_about(client, deployment, again)
    assert second != incident_id
    status = await wait_for_state(
        client, second, {IncidentState.AWAITING_REVIEW, IncidentState.ESCALATED}
    )
    assert status.previous_incident == incident_id
    assert f"after {incident_id} was resolved" in status.timeline[0].note, status.timeline[0]
    approved = await asyncio.to_thread(stack.cli, "approve", second, "--by", "e2e-approver")
    assert approved.returncode == 0, approved.stderr
    await wait_for_state(client, second, {IncidentState.RESOLVED})
    await wait_until_healthy(stack.kubernetes(), deployment)


async def test_an_alert_the_cluster_cannot_explain_escalates_and_closes_when_it_resolves(
    sandbox_stack: RunningStack,
):
    stack, deployment = sandbox_stack, "payments"
    client = await stack.client()
    await wait_until_healthy(stack.kubernetes(), deployment)
    since = now()
    alert = PromAlert("HighErrorRate", deployment, summary="payments 5xx ratio 12%")
    [delivery] = post_alerts(stack, [alert])
    incident_id = delivery["incident_id"]
    started = time.monotonic()
    status = await wait_for_state(client, incident_id, {IncidentState.ESCALATED}, timeout=60)
    escalated_after = time.monotonic() - started
    print(f"\nunexplained HighErrorRate → ESCALATED in {escalated_after:.1f}s")
    reason = status.escalation_reason or ""
    assert reason.startswith("the cluster does not show why HighErrorRate fires for demo/payments")
    assert "dependencies" in reason and status.actions_taken == 0 and status.fix is None
    assert status.ticket_key

    async def ticket_status() -> str | None:
        issue = await asyncio.to_thread(stack.jira().issue, status.ticket_key, fields="status")
        name = str(issue["fields"]["status"]["name"])
        return name if name != "In Progress" else None

    assert await eventually(ticket_status, "the ticket handed to a person", 30) == "Needs Human"

    post_alerts(stack, [alert], status="resolved")
    status = await wait_for_state(client, incident_id, {IncidentState.RESOLVED})
    assert (status.resolution or "").startswith("the alert resolved by itself")
    # A resolved notification for an incident that has ended opens nothing.
    [late] = post_alerts(stack, [alert], status="resolved")
    assert late["incident_id"] == "" and "no incident is open" in late["note"]
    await asyncio.sleep(2)
    assert await incidents_since(stack, deployment, since) == [incident_id]


async def test_an_alert_about_an_unknown_cluster_escalates_having_touched_nothing(
    sandbox_stack: RunningStack,
):
    stack = sandbox_stack
    client = await stack.client()
    counts = stack.standin("kubernetes")

    def catalog_requests() -> Counter[str]:
        by_route = httpx.get(counts.url + "/sandbox/v1/requests", timeout=30).json()["by_route"]
        return Counter({r: n for r, n in by_route.items() if "/catalog" in r})

    before = catalog_requests()
    [delivery] = post_alerts(
        stack, [PromAlert("KubePodCrashLooping", "catalog", cluster="prod-eu-1")]
    )
    status = await wait_for_state(client, delivery["incident_id"], {IncidentState.ESCALATED})
    reason = status.escalation_reason or ""
    assert "cluster prod-eu-1" in reason and "nothing was read or changed" in reason, reason
    assert status.cluster == "prod-eu-1" and status.diagnosis is None
    assert catalog_requests() == before
