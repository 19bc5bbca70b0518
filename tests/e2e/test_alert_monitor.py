"""The sandbox's alert monitor speaks Alertmanager v4 to a receiver over HTTP (issue 6).

It watches a real KubeSandbox through the official client; a small FastAPI app stands where
selfheal's webhook would. The monitor's clock is driven by hand (`evaluate_once(now)`), so
the `for:` wait and the repeat interval are exact without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from kubernetes import client

from selfheal.chaos.injection import clear, inject
from selfheal.sandbox.kube import KubeSandbox, Timing
from selfheal.sandbox.monitor import AlertMonitor, FiringAlert, alerts_for
from selfheal.sandbox.serving import ServedApp
from selfheal.starters.webhook.alertmanager import AlertmanagerPayload

TOKEN = "monitor-test-token"
PENDING, REPEAT = 4.0, 30.0
BROKEN = {"checkout": "oom", "payments": "missing-config"}


class Receiver:
    """A stand-in for selfheal's webhook: keeps every accepted post and its bearer token.

    `refuse_next` answers that many posts 503, as selfheal does while Temporal is down.
    """

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.refused: list[dict[str, Any]] = []
        self.refuse_next = 0
        self.app = FastAPI()

        @self.app.post("/webhooks/alertmanager", status_code=202)
        async def receive(request: Request) -> JSONResponse:
            body = await request.json()
            if self.refuse_next:
                self.refuse_next -= 1
                self.refused.append(body)
                return JSONResponse({"detail": "Temporal unreachable"}, status_code=503)
            self.posts.append((request.headers.get("authorization", ""), body))
            return JSONResponse({"status": "accepted"}, status_code=202)


@pytest.fixture
def api() -> Iterator[client.ApiClient]:
    with KubeSandbox(timing=Timing(tick=0.05, scale=0.02), progress_scale=0.01) as cluster:
        cluster.wait_for_available(timeout=30)
        with client.ApiClient(client.Configuration(host=cluster.url)) as api_client:
            yield api_client


def current_alerts(api: client.ApiClient) -> dict[str, FiringAlert]:
    """The alert each demo Deployment deserves right now, read as the monitor reads it."""
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    deployments = api.sanitize_for_serialization(apps.list_namespaced_deployment("demo").items)
    pods = api.sanitize_for_serialization(core.list_namespaced_pod("demo").items)
    found = {}
    for deployment in deployments:
        alert = alerts_for(deployment, pods)
        if alert is not None:
            found[alert.deployment] = alert
    return found


def wait_until(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s"
        time.sleep(0.1)


def alerts_by_deployment(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {alert["labels"]["deployment"]: alert for alert in payload["alerts"]}


def test_monitor_posts_grouped_alerts_repeats_them_and_resolves_when_healthy(
    api: client.ApiClient,
):
    receiver = Receiver()
    with ServedApp(receiver.app) as served:
        monitor = AlertMonitor(api, served.url, TOKEN, repeat_interval=REPEAT, pending_for=PENDING)
        assert monitor.evaluate_once(now=0.0) == []  # all healthy: nothing to say
        for deployment, scenario in BROKEN.items():
            inject(api, scenario, deployment=deployment)
        # A pod is merely NotReady before its first OOMKill; wait for the failures themselves,
        # or a slow machine fires the monitor on that first symptom.
        expected = {"checkout": "KubeContainerOOMKilled", "payments": "KubeContainerWaiting"}
        wait_until(
            lambda: {d: a.name for d, a in current_alerts(api).items()} == expected,
            "both workloads failing as their scenarios make them",
        )

        assert monitor.evaluate_once(now=100.0) == []  # pending, like a rule's `for:`
        receiver.refuse_next = 1
        monitor.evaluate_once(now=100.0 + PENDING)
        assert len(receiver.refused) == 1 and not receiver.posts
        monitor.evaluate_once(now=101.0 + PENDING)  # a 503 is retried on the next round
        assert len(receiver.posts) == 1, "two broken workloads of one namespace: one post"
        assert receiver.posts[0][1]["alerts"] == receiver.refused[0]["alerts"]
        authorization, first = receiver.posts[0]
        assert authorization == f"Bearer {TOKEN}"
        AlertmanagerPayload.model_validate(first)
        assert (first["version"], first["status"]) == ("4", "firing")
        assert first["groupLabels"] == {"namespace": "demo"}
        firing = alerts_by_deployment(first)
        assert set(firing) == set(BROKEN)
        assert firing["checkout"]["labels"]["alertname"] == "KubeContainerOOMKilled"
        assert firing["payments"]["labels"]["alertname"] == "KubeContainerWaiting"
        assert all(a["status"] == "firing" and a["fingerprint"] for a in first["alerts"])

        monitor.evaluate_once(now=102.0 + PENDING)
        assert len(receiver.posts) == 1, "repeated before the repeat interval"
        monitor.evaluate_once(now=101.0 + PENDING + REPEAT)
        assert len(receiver.posts) == 2
        repeated = alerts_by_deployment(receiver.posts[1][1])
        assert {d: a["fingerprint"] for d, a in repeated.items()} == {
            d: a["fingerprint"] for d, a in firing.items()
        }

        for deployment in BROKEN:
            clear(api, deployment=deployment)
        wait_until(lambda: not current_alerts(api), "every workload healthy again", timeout=60)
        receiver.refuse_next = 1
        monitor.evaluate_once(now=200.0)
        assert len(receiver.refused) == 2 and len(receiver.posts) == 2
        monitor.evaluate_once(now=201.0)  # the undelivered resolved alerts go again
        assert len(receiver.posts) == 3
        resolved = receiver.posts[2][1]
        AlertmanagerPayload.model_validate(resolved)
        assert resolved["status"] == "resolved"
        ended = alerts_by_deployment(resolved)
        assert set(ended) == set(BROKEN)
        for deployment, alert in ended.items():
            assert alert["status"] == "resolved"
            assert alert["labels"] == firing[deployment]["labels"]
            assert not alert["endsAt"].startswith("0001")
        monitor.evaluate_once(now=300.0)
        assert len(receiver.posts) == 3, "resolved alerts are sent once"
