"""Each webhook route accepts a real sample payload and starts or reaches the right incident."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from selfheal.client.incidents import incident_status
from selfheal.model.alerts import AlertSource
from selfheal.model.incident import IncidentState, IncidentStatus
from tests.webhook.conftest import (
    GITHUB_SECRET,
    JIRA_SECRET,
    JSON,
    PAGERDUTY_SECRET,
    UI,
    bearer,
    sample,
    signed,
    unique,
)


async def status_when(
    client: Client, incident_id: str, done: object, timeout: float = 20.0
) -> IncidentStatus:
    """Poll the `status` query until `done(status)` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            status = await incident_status(client, incident_id)
            if done(status):  # type: ignore[operator]
                return status
        except Exception:
            status = None
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{incident_id}: condition not met; last status {status}")
        await asyncio.sleep(0.1)


async def test_alertmanager_group_about_one_workload_is_one_incident(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    workload = unique("checkout")
    body = sample("alertmanager.json", checkout=workload)
    answer = await http.post("/webhooks/alertmanager", content=body, headers=bearer())
    assert answer.status_code == 202, answer.text
    result = answer.json()
    assert len(result["incidents"]) == 2
    crashloop, mismatch = result["incidents"]
    # Two alert names, one workload: one incident, opened by one of them, joined by the other.
    assert result["incident_id"] == crashloop["incident_id"] == mismatch["incident_id"]
    assert crashloop["incident_id"].startswith(f"inc-{workload}-")
    assert crashloop["workflow_id"] == mismatch["workflow_id"]
    assert crashloop["workflow_id"].startswith(f"workload-{workload}-")
    assert crashloop["ui_url"] == f"{UI}/namespaces/default/workflows/{crashloop['incident_id']}"
    assert [crashloop["deduplicated"], mismatch["deduplicated"]].count(False) == 1
    status = await status_when(
        dev_server_env.client, crashloop["incident_id"], lambda s: s.alert_count == 2
    )
    assert sorted(status.alert_names) == ["KubeDeploymentReplicasMismatch", "KubePodCrashLooping"]
    # The workload is derived from the pod name, not from kube-state-metrics' `service` label.
    assert (status.service, status.namespace, status.cluster) == (workload, "demo", "prod-eu1")
    assert status.first_alert is not None
    assert status.first_alert.source == AlertSource.ALERTMANAGER


async def test_alertmanager_resolved_alert_joins_its_incident(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    workload = unique("checkout")
    firing = sample("alertmanager.json", checkout=workload)
    first = await http.post("/webhooks/alertmanager", content=firing, headers=bearer())
    resolved = sample("alertmanager.json", checkout=workload, firing="resolved")
    second = await http.post("/webhooks/alertmanager", content=resolved, headers=bearer())
    assert second.status_code == 202, second.text
    assert second.json()["incident_id"] == first.json()["incident_id"]
    assert second.json()["deduplicated"] is True
    # Two alerts fired, both resolved: the incident follows each, and none fires any more.
    status = await status_when(
        dev_server_env.client, first.json()["incident_id"], lambda s: s.alert_count == 4
    )
    assert status.alert_firing is False
    assert [track.firing for track in status.alerts.values()] == [False, False]


async def test_resolved_alert_for_no_incident_opens_nothing(http: httpx.AsyncClient):
    body = sample("alertmanager.json", checkout=unique("gone"), firing="resolved")
    answer = await http.post("/webhooks/alertmanager", content=body, headers=bearer())
    assert answer.status_code == 202, answer.text
    assert answer.json()["note"] == "resolved alert; no incident is open"
    assert answer.json()["incident_id"] == ""


async def test_pagerduty_incident_maps_through_the_service_map(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    title = unique("Checkout API error rate above 5% ")
    body = sample("pagerduty_triggered.json", **{"Checkout API error rate above 5%": title})
    headers = {**JSON, "X-PagerDuty-Signature": f"v1=0bad,v1={signed(PAGERDUTY_SECRET, body)}"}
    answer = await http.post("/webhooks/pagerduty", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    incident_id = answer.json()["incident_id"]
    assert incident_id.startswith("inc-checkout-api-")
    status = await status_when(dev_server_env.client, incident_id, lambda s: s.alert_count == 1)
    assert (status.service, status.namespace, status.cluster) == (
        "checkout-api",
        "shop",
        "prod-eu1",
    )
    assert status.severity == "critical"
    assert status.first_alert is not None
    assert status.first_alert.external_id == "Q2XQ0SJ7ZK3LMB"


async def test_pagerduty_custom_details_name_the_workload(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    workload = unique("payments")
    body = sample(
        "pagerduty_triggered.json",
        **{
            '"resolve_reason": null': f'"custom_details": {{"namespace": "pay", "deployment": '
            f'"{workload}"}}, "resolve_reason": null'
        },
    )
    headers = {**JSON, "X-PagerDuty-Signature": f"v1={signed(PAGERDUTY_SECRET, body)}"}
    answer = await http.post("/webhooks/pagerduty", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    status = await status_when(
        dev_server_env.client, answer.json()["incident_id"], lambda s: s.alert_count >= 1
    )
    assert (status.service, status.namespace) == (workload, "pay")


async def test_pagerduty_other_event_types_are_acknowledged_and_ignored(http: httpx.AsyncClient):
    body = sample("pagerduty_triggered.json", **{"incident.triggered": "incident.acknowledged"})
    headers = {**JSON, "X-PagerDuty-Signature": f"v1={signed(PAGERDUTY_SECRET, body)}"}
    answer = await http.post("/webhooks/pagerduty", content=body, headers=headers)
    assert answer.status_code == 202
    assert answer.json()["ignored"] is True


async def test_unmapped_pagerduty_incident_escalates_saying_so(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    body = sample(
        "pagerduty_triggered.json",
        **{"Checkout API": unique("Unknown service "), "Checkout API error": unique("Err ")},
    )
    headers = {**JSON, "X-PagerDuty-Signature": f"v1={signed(PAGERDUTY_SECRET, body)}"}
    answer = await http.post("/webhooks/pagerduty", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["incident_id"].startswith("inc-unmapped-")
    status = await status_when(
        dev_server_env.client,
        answer.json()["incident_id"],
        lambda s: s.state == IncidentState.ESCALATED,
    )
    assert "names no Kubernetes workload" in (status.escalation_reason or "")


async def test_jira_ticket_opens_an_incident_linked_to_it(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    workload = unique("checkout")
    body = sample("jira_issue_created.json", **{"demo/checkout": f"demo/{workload}"})
    headers = {**JSON, "X-Hub-Signature": f"sha256={signed(JIRA_SECRET, body)}"}
    answer = await http.post("/webhooks/jira", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    status = await status_when(
        dev_server_env.client, answer.json()["incident_id"], lambda s: s.alert_count == 1
    )
    assert (status.service, status.namespace) == (workload, "demo")
    assert status.first_alert is not None
    assert status.first_alert.ticket_key == "OPS-42"
    assert status.severity == "critical"


async def test_jira_updates_are_ignored(http: httpx.AsyncClient):
    body = sample("jira_issue_created.json", **{"jira:issue_created": "jira:issue_updated"})
    headers = {**JSON, "X-Hub-Signature": f"sha256={signed(JIRA_SECRET, body)}"}
    answer = await http.post("/webhooks/jira", content=body, headers=headers)
    assert answer.status_code == 202
    assert answer.json()["ignored"] is True


async def test_generic_alert_starts_then_joins_its_incident(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    workload = unique("checkout")
    body = sample("generic_alert.json", checkout=workload)
    first = await http.post("/webhooks/generic", content=body, headers=bearer())
    # The sender's next notification (a retry of the first would count once: test_dedup.py).
    later = sample("generic_alert.json", checkout=workload, **{"10 minutes": "15 minutes"})
    second = await http.post("/webhooks/generic", content=later, headers=bearer())
    assert (first.status_code, second.status_code) == (202, 202), first.text
    assert first.json()["deduplicated"] is False
    assert second.json()["deduplicated"] is True
    assert first.json()["incident_id"] == second.json()["incident_id"]
    status = await status_when(
        dev_server_env.client, first.json()["incident_id"], lambda s: s.alert_count == 2
    )
    assert status.severity == "critical"


async def test_github_review_reaches_the_incident_owning_the_pr(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    alert = sample("generic_alert.json", checkout=unique("checkout"))
    started = await http.post("/webhooks/generic", content=alert, headers=bearer())
    incident_id = started.json()["incident_id"]
    await status_when(
        dev_server_env.client, incident_id, lambda s: s.state == IncidentState.AWAITING_REVIEW
    )
    review = sample("github_review_approved.json", BRANCH=f"selfheal/{incident_id}-2")
    headers = {
        **JSON,
        "X-GitHub-Event": "pull_request_review",
        "X-Hub-Signature-256": f"sha256={signed(GITHUB_SECRET, review)}",
    }
    answer = await http.post("/webhooks/github", content=review, headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.json()["incident_id"] == incident_id
    status = await status_when(
        dev_server_env.client, incident_id, lambda s: s.state == IncidentState.RESOLVED
    )
    assert [(a.by, a.accepted) for a in status.approvals] == [("alice", True)]


async def test_github_events_for_unknown_prs_are_ignored(http: httpx.AsyncClient):
    for branch in ("feature/faster-checkout", "selfheal/inc-nothing-here-0badf00d"):
        review = sample("github_review_approved.json", BRANCH=branch)
        headers = {
            **JSON,
            "X-GitHub-Event": "pull_request_review",
            "X-Hub-Signature-256": f"sha256={signed(GITHUB_SECRET, review)}",
        }
        answer = await http.post("/webhooks/github", content=review, headers=headers)
        assert answer.status_code == 202, answer.text
        assert answer.json()["ignored"] is True


async def test_github_ping_is_answered(http: httpx.AsyncClient):
    body = sample("github_ping.json")
    headers = {
        **JSON,
        "X-GitHub-Event": "ping",
        "X-Hub-Signature-256": f"sha256={signed(GITHUB_SECRET, body)}",
    }
    answer = await http.post("/webhooks/github", content=body, headers=headers)
    assert answer.status_code == 200
    assert answer.json() == {"pong": True, "hook_id": 485112934}


async def test_health_reports_temporal_reachable(http: httpx.AsyncClient):
    health = await http.get("/healthz")
    ready = await http.get("/readyz")
    assert health.json() == {"status": "ok", "temporal": "reachable"}
    assert ready.status_code == 200


async def test_openapi_documents_the_payload_models(http: httpx.AsyncClient):
    schema = (await http.get("/openapi.json")).json()
    assert "/webhooks/alertmanager" in schema["paths"]
    assert {
        "AlertmanagerPayload",
        "PagerDutyPayload",
        "JiraPayload",
        "GitHubPayload",
        "Alert",
    } <= set(schema["components"]["schemas"])
    assert (await http.get("/docs")).status_code == 200
