"""Alert storms collapse into one incident per workload (signal-with-start on the incident id)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
from temporalio.testing import WorkflowEnvironment

from selfheal.workflows.workload import WorkloadWorkflow
from tests.webhook.conftest import bearer, unique
from tests.webhook.test_routes import status_when


def crashloop_notification(workload: str, pod_suffix: str = "7d4b9c8f6-x2x9k") -> bytes:
    """A one-alert Alertmanager notification about `workload`'s pod crash-looping."""
    return json.dumps(
        {
            "version": "4",
            "status": "firing",
            "receiver": "selfheal",
            "groupKey": '{}:{alertname="KubePodCrashLooping"}',
            "alerts": [
                {
                    "status": "firing",
                    "labels": {
                        "alertname": "KubePodCrashLooping",
                        "namespace": "demo",
                        "pod": f"{workload}-{pod_suffix}",
                        "container": "app",
                        "severity": "warning",
                    },
                    "annotations": {"summary": "Pod is crash looping."},
                    "startsAt": "2025-03-14T09:26:53Z",
                }
            ],
        }
    ).encode()


def pod_suffix(n: int) -> str:
    """The n-th five-letter pod suffix, in the alphabet Kubernetes generates them from."""
    letters = "bcdfghjklmnpqrstvwxz2456789"
    return "".join(letters[(n // len(letters) ** i) % len(letters)] for i in range(5))


async def test_a_storm_of_1000_alerts_is_one_incident(
    asgi_http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    workload = unique("storm")
    # Different pods of the same Deployment: still one workload, one incident.
    bodies = [crashloop_notification(workload, f"7d4b9c8f6-{pod_suffix(n)}") for n in range(1000)]

    async def send(body: bytes) -> httpx.Response:
        return await asgi_http.post("/webhooks/alertmanager", content=body, headers=bearer())

    answers = list(await asyncio.gather(*(send(body) for body in bodies)))
    first = Counter(answer.status_code for answer in answers)
    # A 503 (Temporal slow to confirm) is retried with the same body, as Alertmanager does;
    # a first attempt that landed anyway must not count twice.
    for _ in range(10):
        again = [n for n, answer in enumerate(answers) if answer.status_code == 503]
        if not again:
            break
        await asyncio.sleep(1)
        retried = await asyncio.gather(*(send(bodies[n]) for n in again))
        for n, answer in zip(again, retried, strict=True):
            answers[n] = answer
    assert Counter(answer.status_code for answer in answers) == {202: 1000}, first
    incident_ids = {answer.json()["incident_id"] for answer in answers}
    assert len(incident_ids) == 1
    opened = [answer.json()["deduplicated"] for answer in answers].count(False)
    # One answer says it opened the incident; when the opener's first attempt was answered
    # 503 but landed, its retry joins what it opened, and none says so.
    assert opened == 1 if not first[503] else opened <= 1
    status = await status_when(
        dev_server_env.client, incident_ids.pop(), lambda s: s.alert_count >= 1000, timeout=60
    )
    assert status.alert_count == 1000


async def test_ten_workloads_are_ten_incidents(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    workloads = [unique(f"svc{n}-") for n in range(10)]
    answers = await asyncio.gather(
        *(
            http.post(
                "/webhooks/alertmanager",
                content=crashloop_notification(w, f"7d4b9c8f6-{pod_suffix(n)}"),
                headers=bearer(),
            )
            for w in workloads
            for n in range(5)
        )
    )
    assert {answer.status_code for answer in answers} == {202}
    incidents = {answer.json()["incident_id"] for answer in answers}
    assert len(incidents) == 10
    for incident_id in incidents:
        status = await status_when(dev_server_env.client, incident_id, lambda s: s.alert_count >= 5)
        assert status.alert_count == 5


async def test_a_senders_retry_of_a_notification_counts_once(
    http: httpx.AsyncClient, dev_server_env: WorkflowEnvironment
):
    """Alertmanager retries a notification whose answer it did not get (a timeout, a 503),
    though the first attempt may have landed: the same content twice is one delivery."""
    workload = unique("retry")
    notification = crashloop_notification(workload)
    first = await http.post("/webhooks/alertmanager", content=notification, headers=bearer())
    retry = await http.post("/webhooks/alertmanager", content=notification, headers=bearer())
    assert (first.status_code, retry.status_code) == (202, 202)
    incident_id = first.json()["incident_id"]
    assert retry.json()["incident_id"] == incident_id
    # A different notification about the same workload still counts.
    other = crashloop_notification(workload, "7d4b9c8f6-bcdfg")
    assert (await http.post("/webhooks/alertmanager", content=other, headers=bearer())).is_success
    status = await status_when(dev_server_env.client, incident_id, lambda s: s.alert_count >= 2)
    assert status.alert_count == 2
    memory = await dev_server_env.client.get_workflow_handle(first.json()["workflow_id"]).query(
        WorkloadWorkflow.memory
    )
    assert (memory.alerts, memory.repeats) == (2, 1)
