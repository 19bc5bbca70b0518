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
from selfheal.webhook.alertmanager import AlertmanagerPayload
from selfheal_lab.sandbox.kube import KubeSandbox, Timing
from selfheal_lab.sandbox.monitor import AlertMonitor, alerts_for
from selfheal_lab.sandbox.serving import ServedApp

TOKEN = "monitor-test-token"
PENDING, REPEAT, RESOLVE_AFTER = 4.0, 30.0, 8.0
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


def current_alerts(api: client.ApiClient) -> dict[str, set[str]]:
    """The alert names each demo Deployment raises right now, read as the monitor reads it."""
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    deployments = api.sanitize_for_serialization(apps.list_namespaced_deployment("demo").items)
    pods = api.sanitize_for_serialization(core.list_namespaced_pod("demo").items)
    found: dict[str, set[str]] = {}
    for deployment in deployments:
        for alert in alerts_for(deployment, pods):
            found.setdefault(alert.deployment, set()).add(alert.name)
    return found


def wait_until(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s"
        time.sleep(0.1)


def alerts_by_name(payload: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """A post's alerts by (deployment, alert name)."""
    return {
        (alert["labels"]["deployment"], alert["labels"]["alertname"]): alert
        for alert in payload["alerts"]
    }


def test_monitor_posts_every_alert_of_a_fault_repeats_them_and_resolves_when_healthy(
    api: client.ApiClient,
):
    receiver = Receiver()
    with ServedApp(receiver.app) as served:
        monitor = AlertMonitor(
            api,
            served.url,
            TOKEN,
            repeat_interval=REPEAT,
            pending_for=PENDING,
            resolve_after=RESOLVE_AFTER,
        )
        assert monitor.evaluate_once(now=0.0) == []  # all healthy: nothing to say
        for deployment, scenario in BROKEN.items():
            inject(api, scenario, workload=deployment)
        # A pod is merely NotReady before its first OOMKill; wait for the failures themselves.
        wait_until(
            lambda: (
                "KubeContainerOOMKilled" in current_alerts(api).get("checkout", set())
                and "KubeContainerWaiting" in current_alerts(api).get("payments", set())
            ),
            "both workloads failing as their scenarios make them",
        )

        assert monitor.evaluate_once(now=100.0) == []  # pending, like a rule's `for:`
        receiver.refuse_next = 1
        monitor.evaluate_once(now=100.0 + PENDING)
        assert len(receiver.refused) == 1 and not receiver.posts
        monitor.evaluate_once(now=101.0 + PENDING)  # a 503 is retried on the next round
        assert len(receiver.posts) == 1, "two broken workloads of one namespace: one post"
        authorization, first = receiver.posts[0]
        assert authorization == f"Bearer {TOKEN}"
        AlertmanagerPayload.model_validate(first)
        assert (first["version"], first["status"]) == ("4", "firing")
        assert first["groupLabels"] == {"namespace": "demo"}
        firing = alerts_by_name(first)
        # One OOM raises several alerts side by side, as kube-prometheus fires them.
        assert ("checkout", "KubeContainerOOMKilled") in firing
        assert ("payments", "KubeContainerWaiting") in firing
        assert {deployment for deployment, _ in firing} == set(BROKEN)
        assert all(a["status"] == "firing" and a["fingerprint"] for a in first["alerts"])
        assert len({a["fingerprint"] for a in first["alerts"]}) == len(first["alerts"])

        monitor.evaluate_once(now=101.0 + PENDING + REPEAT)
        repeated = alerts_by_name(receiver.posts[-1][1])
        assert set(firing) <= set(repeated)
        assert all(repeated[key]["fingerprint"] == firing[key]["fingerprint"] for key in firing)

        for deployment in BROKEN:
            clear(api, workload=deployment)
        wait_until(lambda: not current_alerts(api), "every workload healthy again", timeout=60)
        # An alert the last round saw firing resolves only after RESOLVE_AFTER of health (like
        # a rule over a range); one that had flapped away before may resolve now.
        away = {(deployment, name) for _, deployment, name in monitor.absent()}
        still = set(repeated) - away
        monitor.evaluate_once(now=200.0)
        early = [
            key
            for _, post in receiver.posts[2:]
            for key, alert in alerts_by_name(post).items()
            if alert["status"] == "resolved"
        ]
        assert not still & set(early), "a moment's health resolved an alert that fired"
        posts = len(receiver.posts)
        receiver.refuse_next = 1
        monitor.evaluate_once(now=200.0 + RESOLVE_AFTER)
        assert len(receiver.refused) == 2 and len(receiver.posts) == posts
        monitor.evaluate_once(now=201.0 + RESOLVE_AFTER)  # undelivered resolved alerts go again
        assert len(receiver.posts) == posts + 1
        resolved = receiver.posts[-1][1]
        AlertmanagerPayload.model_validate(resolved)
        assert resolved["status"] == "resolved"
        ended = alerts_by_name(resolved)
        assert still <= set(ended)
        for key, alert in ended.items():
            assert alert["status"] == "resolved"
            assert not alert["endsAt"].startswith("0001")
            assert alert["labels"] == repeated.get(key, alert)["labels"]
        monitor.evaluate_once(now=300.0)
        assert len(receiver.posts) == posts + 1, "resolved alerts are sent once"


def test_a_rollout_past_its_deadline_raises_kube_deployment_rollout_stuck_alone(
    api: client.ApiClient,
):
    inject(api, "rollout-stuck", "demo", "checkout")
    # Pod Security refuses every new pod and the old ones keep serving: the stalled rollout
    # is all there is to alert on, once its progress deadline passes.
    wait_until(
        lambda: current_alerts(api).get("checkout") == {"KubeDeploymentRolloutStuck"},
        "KubeDeploymentRolloutStuck alone on checkout",
    )
    assert clear(api, "demo", "checkout") == "rollout-stuck"
    wait_until(lambda: "checkout" not in current_alerts(api), "checkout healthy again")
