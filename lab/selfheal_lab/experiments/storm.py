"""Experiment `storm`: thousands of alerts about a few workloads become one incident each.

Posts `alerts` Alertmanager alerts, spread evenly over `workloads` Deployments of a namespace
selfheal may not change, through the webhook with its bearer token, in groups of `group`
alerts with `senders` notifications in flight (as several Alertmanager replicas would).
A 503 is retried as Alertmanager does. Then it checks that there is exactly one incident
per workload and that the incidents' alert counts add up to the alerts sent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab import watch
from selfheal_lab.experiments import observe
from selfheal_lab.experiments.figures import Figures
from selfheal_lab.experiments.stack import private_stack

NAMESPACE = "storm"
ALERT_NAME = "KubeDeploymentReplicasMismatch"


def workload(index: int) -> str:
    return f"storm-{index:03d}"


def notification(alerts: list[tuple[int, int]]) -> dict[str, object]:
    """An Alertmanager v4 notification holding (workload index, sequence number) alerts."""
    started = datetime.now(UTC).isoformat()
    return {
        "version": "4",
        "status": "firing",
        "receiver": "selfheal",
        "groupKey": '{}:{alertname="' + ALERT_NAME + '"}',
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": ALERT_NAME,
                    "namespace": NAMESPACE,
                    "deployment": workload(index),
                    "severity": "warning",
                    "sequence": str(number),
                },
                "annotations": {"summary": f"storm alert {number} about {workload(index)}"},
                "startsAt": started,
                "fingerprint": f"{index:04x}{number:08x}",
            }
            for index, number in alerts
        ],
    }


async def send_storm(
    url: str, token: str, alerts: int, workloads: int, group: int, senders: int
) -> tuple[int, int]:
    """Post every alert; return (notifications posted, 503 answers retried)."""
    sequence = [(number % workloads, number) for number in range(alerts)]
    groups = [sequence[i : i + group] for i in range(0, len(sequence), group)]
    queue: asyncio.Queue[list[tuple[int, int]]] = asyncio.Queue()
    for item in groups:
        queue.put_nowait(item)
    retried = 0

    async def sender(http: httpx.AsyncClient) -> None:
        nonlocal retried
        while not queue.empty():
            # A retry is the same body again, as Alertmanager resends it (same startsAt).
            body = notification(queue.get_nowait())
            while True:
                answer = await http.post("/webhooks/alertmanager", json=body)
                if answer.status_code == 202:
                    break
                if answer.status_code != 503:
                    raise RuntimeError(f"webhook answered {answer.status_code}: {answer.text}")
                retried += 1
                await asyncio.sleep(1)

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as http:
        await asyncio.gather(*(sender(http) for _ in range(senders)))
    return len(groups), retried


async def count_runs(client: Client) -> int:
    """Incident runs in the storm namespace, not counting continue-as-new hand-overs."""
    runs = 0
    query = f"WorkflowType = 'IncidentWorkflow' AND IncidentNamespace = '{NAMESPACE}'"
    async for execution in client.list_workflows(query):
        if execution.status != WorkflowExecutionStatus.CONTINUED_AS_NEW:
            runs += 1
    return runs


async def run(
    alerts: int = 10_000,
    workloads: int = 100,
    group: int = 50,
    senders: int = 8,
    settle: float = 300,
    say: Callable[[str], None] = print,
) -> Figures:
    """Send the storm to a private stack; the figures say whether every alert was counted."""
    figures = Figures("storm")
    started = time.monotonic()
    with private_stack() as stack:
        client = await stack.client()
        say(f"sending {alerts} alerts about {workloads} workloads to {stack.webhook_url}")
        sending = time.monotonic()
        posted, retried = await send_storm(
            stack.webhook_url, stack.webhook_token, alerts, workloads, group, senders
        )
        sent_seconds = time.monotonic() - sending
        say(f"  {posted} notifications accepted in {sent_seconds:.1f} s ({retried} retried)")
        query = f"IncidentNamespace = '{NAMESPACE}'"

        async def settled() -> dict[str, IncidentStatus] | None:
            ids = await observe.incident_ids(client, query)
            if len(ids) < workloads:
                return None
            found = await observe.statuses(client, ids)
            counted = sum(status.alert_count for status in found.values())
            final = all(status.state in observe.FINAL_STATES for status in found.values())
            return found if counted >= alerts and final else None

        try:
            incidents = await watch.eventually(settled, "every alert counted", settle, every=2)
        except TimeoutError as err:
            figures.fail(str(err))
            incidents = await observe.statuses(client, await observe.incident_ids(client, query))
        found = incidents
        counted = sum(status.alert_count for status in found.values())
        figures.started = len(found)
        figures.escalated = sum(1 for s in found.values() if s.state == IncidentState.ESCALATED)
        figures.resolved = sum(1 for s in found.values() if s.state == IncidentState.RESOLVED)
        runs = await count_runs(client)
        tickets = observe.tickets_by_incident(stack.jira())
        figures.duplicate_tickets = sum(n - 1 for n in tickets.values())
        figures.lost = max(alerts - counted, 0)
        if len(found) != workloads:
            figures.fail(f"{len(found)} incidents for {workloads} workloads")
        if runs != workloads:
            figures.fail(f"{runs} incident runs for {workloads} workloads")
        if counted != alerts:
            figures.fail(f"alert counts add up to {counted}, not {alerts}")
        figures.extra = {
            "alerts sent": alerts,
            "alerts counted": counted,
            "workloads": workloads,
            "incident runs": runs,
            "send seconds": round(sent_seconds, 1),
            "alerts per second": round(alerts / sent_seconds, 1),
            "503 retried": retried,
        }
    figures.elapsed_seconds = time.monotonic() - started
    return figures
