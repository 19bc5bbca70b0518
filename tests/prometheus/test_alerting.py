"""selfheal's alert rules on real Prometheus over the sandbox, through real Alertmanager to a
webhook: the alerts fire for what the simulation does, and the product's Alertmanager
parser reads each as an alert about the right workload."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from selfheal_lab.alert_rules import alert_rules
from selfheal_lab.monitoring import AlertmanagerServer, PrometheusServer, sandbox_targets
from selfheal_lab.sandbox.kube import KubeSandbox
from selfheal_lab.sandbox.serving import ServedApp
from tests.prometheus.conftest import require, wait_for
from tests.prometheus.receiver import Receiver
from tests.prometheus.sandbox_cluster import NAMESPACE, address

TOKEN = "s3cret"


@pytest.fixture(scope="module")
def alerting(
    shop: tuple[KubeSandbox, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Receiver, float]]:
    require("prometheus-alertmanager")
    receiver = Receiver()
    served = ServedApp(Starlette(routes=[Route("/alerts", receiver.receive, methods=["POST"])]))
    served.start()
    alertmanager = AlertmanagerServer(
        tmp_path_factory.mktemp("am"), webhook_url=f"{served.url}/alerts", webhook_token=TOKEN
    )
    alertmanager.start()
    started = time.monotonic()
    prometheus = PrometheusServer(
        tmp_path_factory.mktemp("prom-rules"),
        targets=sandbox_targets(address(shop[0])),
        rules=alert_rules(hold="2s", interval="1s"),
        alertmanager=alertmanager.url,
    )
    prometheus.start()
    try:
        yield receiver, started
    finally:
        prometheus.stop()
        alertmanager.stop()
        served.stop()


def test_the_rules_fire_for_the_simulated_faults_and_name_their_workloads(
    alerting: tuple[Receiver, float],
):
    receiver, started = alerting
    expected = {
        ("CPUThrottlingHigh", NAMESPACE, "Deployment", "throttled"),
        ("KubePodCrashLooping", NAMESPACE, "Deployment", "oom"),
        ("KubeContainerOOMKilled", NAMESPACE, "Deployment", "oom"),
        ("KubeDeploymentReplicasMismatch", NAMESPACE, "Deployment", "oom"),
        # Its pods never become available: the rollout passes its (shortened) deadline.
        ("KubeDeploymentRolloutStuck", NAMESPACE, "Deployment", "oom"),
    }
    wait_for(lambda: expected <= receiver.seen(), timeout=60, what="every expected alert")
    assert not any(workload == "fine" for *_, workload in receiver.seen())
    assert receiver.authorizations == {f"Bearer {TOKEN}"}
    delay = receiver.first_seen["CPUThrottlingHigh"] - started
    print(f"CPUThrottlingHigh reached the webhook {delay:.1f}s after Prometheus started")
    assert delay < 60
