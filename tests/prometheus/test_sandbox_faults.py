"""Faults only metrics show, through real Prometheus (and Alertmanager) over the sandbox:
`selfheal chaos inject cpu-throttling` throttles catalog until its limit is doubled; an app
fault makes a Deployment's pods answer 5xx and HTTPErrorRateHigh fire for it; and short
rule windows forget a replaced pod in seconds, where upstream's remember it for minutes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from kubernetes import client
from starlette.applications import Starlette
from starlette.routing import Route

from selfheal.activities.prometheus.client import PrometheusClient
from selfheal_lab.alert_rules import alert_rules
from selfheal_lab.monitoring import AlertmanagerServer, PrometheusServer, sandbox_targets
from selfheal_lab.sandbox.kube import KubeSandbox
from selfheal_lab.sandbox.kube.apps import APP_FAULTS_PATH, clear_app_fault, set_app_fault
from selfheal_lab.sandbox.kube.images import DEMO_REPOSITORY
from selfheal_lab.sandbox.kube.resources import NAMESPACES
from selfheal_lab.sandbox.serving import ServedApp
from tests.prometheus.conftest import require, start_prometheus, wait_for
from tests.prometheus.receiver import Receiver
from tests.prometheus.sandbox_cluster import CHECKOUT, NAMESPACE, address, deployment

FAULTS = "faults"
"""A namespace of its own in the package's sandbox, open to chaos, dropped afterwards."""
WINDOW, LONG_WINDOW = "10s", "20s"
ROOT = Path(__file__).resolve().parents[2]
LIMITS = {"cpu": "500m", "memory": "256Mi"}
WORKLOADS = (
    # As the demo's catalog: request 100m, limit 500m (it needs ~15m).
    deployment("catalog", f"{DEMO_REPOSITORY}/catalog:1.4.2", 1, LIMITS, {"cpu": "100m"}, FAULTS),
    deployment("checkout", CHECKOUT, 2, LIMITS, namespace=FAULTS),
    # Release 1.5.0 exits at start: a pod in CrashLoopBackOff.
    deployment("crasher", f"{DEMO_REPOSITORY}/checkout:1.5.0", 1, LIMITS, namespace=FAULTS),
)


@dataclass
class Faulty:
    sandbox: KubeSandbox
    prom: PrometheusClient
    receiver: Receiver
    kubeconfig: Path


@pytest.fixture(scope="module")
def faulty(
    shop: tuple[KubeSandbox, PrometheusServer], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Faulty]:
    """The package's sandbox with WORKLOADS in FAULTS, scraped by a Prometheus running
    selfheal's rules with short windows, alerting through Alertmanager to a receiver."""
    require("prometheus-alertmanager")
    sandbox = shop[0]
    sandbox.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": FAULTS, "labels": {"selfheal.dev/chaos": "enabled"}},
        }
    )
    for manifest in WORKLOADS:
        sandbox.apply(manifest)
    receiver = Receiver()
    served = ServedApp(Starlette(routes=[Route("/alerts", receiver.receive, methods=["POST"])]))
    served.start()
    directory = tmp_path_factory.mktemp("faults")
    alertmanager = AlertmanagerServer(directory / "am", webhook_url=f"{served.url}/alerts")
    alertmanager.start()
    prometheus = start_prometheus(
        directory / "prometheus",
        targets=sandbox_targets(address(sandbox)),
        rules=alert_rules(hold="1s", interval="1s", window=WINDOW, long_window=LONG_WINDOW),
        alertmanager=alertmanager.url,
    )
    try:
        with PrometheusClient(prometheus.url) as prom:
            yield Faulty(
                sandbox, prom, receiver, sandbox.write_kubeconfig(directory / "kubeconfig", FAULTS)
            )
    finally:
        prometheus.stop()
        alertmanager.stop()
        served.stop()
        sandbox.store.delete(NAMESPACES, "", FAULTS)


def expression(alert: str, **windows: str) -> str:
    """The expression of `alert` in selfheal's rules with `windows` (default: upstream's)."""
    group = yaml.safe_load(alert_rules(**windows))["groups"][0]
    return str(next(rule["expr"] for rule in group["rules"] if rule["alert"] == alert))


def pods_in(prom: PrometheusClient, promql: str, prefix: str) -> dict[str, float]:
    """The value of `promql` per pod of FAULTS whose name starts with `prefix`."""
    return {
        s.metric["pod"]: s.value[1]
        for s in prom.query(promql)
        if s.metric.get("namespace") == FAULTS and s.metric.get("pod", "").startswith(prefix)
    }


def test_chaos_cpu_throttling_throttles_catalog_until_its_limit_is_doubled(faulty: Faulty):
    throttling = expression("CPUThrottlingHigh", window=WINDOW)
    faulty.sandbox.wait_for_available(FAULTS, ("catalog",), timeout=20)
    injected = subprocess.run(
        [
            *(sys.executable, "-m", "selfheal", "chaos", "inject", "cpu-throttling"),
            *("--namespace", FAULTS, "--deployment", "catalog", "--via", "cluster"),
            *("--kubeconfig", str(faulty.kubeconfig)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "SELFHEAL_MODE": "direct"},
    )
    assert injected.returncode == 0, injected.stderr
    assert "injected cpu-throttling into faults/catalog" in injected.stdout
    throttled = wait_for(
        lambda: pods_in(faulty.prom, throttling, "catalog-"), timeout=30, what="CPUThrottlingHigh"
    )
    # catalog needs ~15m: at a 10m limit CFS throttles half of its periods.
    assert all(0.4 <= share <= 0.6 for share in throttled.values()), throttled

    # What increase_cpu proposes: the limit doubled, the request (equal to it) following.
    doubled = {"name": "app", "resources": {"limits": {"cpu": "20m"}, "requests": {"cpu": "20m"}}}
    patch = {"spec": {"template": {"spec": {"containers": [doubled]}}}}
    with client.ApiClient(client.Configuration(host=faulty.sandbox.url)) as api:
        client.AppsV1Api(api).patch_namespaced_deployment("catalog", FAULTS, patch)
    faulty.sandbox.wait_for_available(FAULTS, ("catalog",), timeout=20)
    wait_for(
        lambda: not pods_in(faulty.prom, throttling, "catalog-"),
        timeout=30,
        what="CPUThrottlingHigh's expression to clear at 20m",
    )
    usage = f'irate(container_cpu_usage_seconds_total{{namespace="{FAULTS}"}}[5s])'
    assert max(pods_in(faulty.prom, usage, "catalog-").values()) == pytest.approx(0.015, rel=0.2)


def test_healthy_pods_count_their_requests_with_no_errors(faulty: Faulty):
    fine = f'namespace="{NAMESPACE}",pod=~"fine-.*"'

    def counted() -> dict[tuple[str, str], float]:
        samples = faulty.prom.query(f"http_requests_total{{{fine}}}")
        return {(s.metric["pod"], s.metric["code"]): s.value[1] for s in samples}

    def answering() -> dict[tuple[str, str], float]:
        counts = counted()
        return counts if all(v > 0 for (_, code), v in counts.items() if code == "200") else {}

    seen = wait_for(answering, what="fine's pods answering")
    assert {code for _, code in seen} == {"200", "500"}
    assert len({pod for pod, _ in seen}) == 2
    assert all(value == 0 for (_, code), value in seen.items() if code == "500")
    # checkout gets 150 rps, shared by fine's two serving pods.
    rate = f'irate(http_requests_total{{{fine},code="200"}}[5s])'
    rates = [s.value[1] for s in faulty.prom.query(rate)]
    assert rates and all(r == pytest.approx(75, rel=0.1) for r in rates)


def test_the_app_fault_route_validates_its_body(faulty: Faulty):
    url = f"{faulty.sandbox.url}{APP_FAULTS_PATH}"
    too_much = httpx.put(url, json={"namespace": FAULTS, "workload": "checkout", "error_ratio": 2})
    assert too_much.status_code == 422
    assert "error_ratio" in too_much.json()["message"]
    nameless = httpx.put(url, json={"namespace": FAULTS, "error_ratio": 0.1})
    assert nameless.status_code == 422
    assert [e["field"] for e in nameless.json()["errors"]] == ["workload"]
    assert httpx.get(url).json() == {"faults": []}


def test_an_app_fault_fires_http_error_rate_high_for_its_deployment_until_cleared(
    faulty: Faulty,
):
    errors = expression("HTTPErrorRateHigh", window=WINDOW)
    faulty.sandbox.wait_for_available(FAULTS, ("checkout",), timeout=20)
    set_app_fault(faulty.sandbox.url, FAULTS, "checkout", 0.12)
    try:
        alert = ("HTTPErrorRateHigh", FAULTS, "Deployment", "checkout")
        wait_for(lambda: alert in faulty.receiver.seen(), timeout=40, what="HTTPErrorRateHigh")
        paged = {w for name, _, _, w in faulty.receiver.seen() if name == "HTTPErrorRateHigh"}
        assert paged == {"checkout"}
        ratios = wait_for(
            lambda: (
                (r := pods_in(faulty.prom, errors, "checkout-"))
                and all(v == pytest.approx(0.12, abs=0.02) for v in r.values())
                and r
            ),
            what="12% of checkout's requests failing",
        )
        assert len(ratios) == 2

        # The fault is the workload's: a replacement pod fails as its predecessor did.
        replaced = sorted(ratios)[0]
        httpx.delete(f"{faulty.sandbox.url}/api/v1/namespaces/{FAULTS}/pods/{replaced}")
        failing = f'http_requests_total{{namespace="{FAULTS}",pod=~"checkout-.*",code="500"}} > 0'
        wait_for(
            lambda: set(pods_in(faulty.prom, failing, "checkout-")) - set(ratios),
            what="the replacement pod answering 500",
        )
    finally:
        clear_app_fault(faulty.sandbox.url, FAULTS, "checkout")
    wait_for(
        lambda: not pods_in(faulty.prom, errors, "checkout-"),
        timeout=30,
        what="HTTPErrorRateHigh's expression to clear",
    )


def test_short_windows_forget_a_crash_looping_pod_soon_after_it_is_gone(faulty: Faulty):
    short = expression("KubePodCrashLooping", window=WINDOW)
    upstream = expression("KubePodCrashLooping")
    looping = wait_for(
        lambda: pods_in(faulty.prom, short, "crasher-"), timeout=30, what="crasher looping"
    )
    pod = sorted(looping)[0]
    httpx.delete(f"{faulty.sandbox.url}/api/v1/namespaces/{FAULTS}/pods/{pod}")
    gone = time.monotonic()
    wait_for(
        lambda: pod not in pods_in(faulty.prom, short, "crasher-"),
        timeout=25,
        what=f"KubePodCrashLooping[{WINDOW}] to forget {pod}",
    )
    forgotten = time.monotonic() - gone
    print(f"KubePodCrashLooping[{WINDOW}] forgot {pod} {forgotten:.1f}s after it was deleted")
    assert forgotten < 20
    assert pod in pods_in(faulty.prom, upstream, "crasher-")  # upstream's 5m still holds it
