"""The sandbox cluster's /metrics, scraped by real Prometheus, says what the simulation does:
replicas, restarts, OOM kills, limits, working set, CPU and throttling."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from selfheal.activities.prometheus.client import PrometheusClient
from selfheal_lab.monitoring import PrometheusServer
from selfheal_lab.sandbox.kube import KubeSandbox
from selfheal_lab.sandbox.kube.resources import PODS
from tests.prometheus.conftest import wait_for
from tests.prometheus.sandbox_cluster import NAMESPACE

MIB = 2**20


@pytest.fixture(scope="module")
def prom(shop: tuple[KubeSandbox, PrometheusServer]) -> Iterator[PrometheusClient]:
    with PrometheusClient(shop[1].url) as client:
        yield client


def value(prom: PrometheusClient, promql: str) -> float | None:
    samples = prom.query(promql)
    return samples[0].value[1] if samples else None


def test_replicas_follow_the_deployments(prom: PrometheusClient):
    selector = f'namespace="{NAMESPACE}",deployment="fine",job="kube-state-metrics"'
    wait_for(
        lambda: value(prom, f"kube_deployment_status_replicas_available{{{selector}}}") == 2,
        what="fine's two available replicas",
    )
    assert value(prom, f"kube_deployment_spec_replicas{{{selector}}}") == 2
    mismatch = (
        f'kube_deployment_spec_replicas{{namespace="{NAMESPACE}"}} > '
        f'kube_deployment_status_replicas_available{{namespace="{NAMESPACE}"}}'
    )
    wait_for(
        lambda: {s.metric["deployment"] for s in prom.query(mismatch)} == {"oom"},
        what="only oom short of replicas",
    )


def test_oom_kills_and_restarts_are_the_pods_own(
    shop: tuple[KubeSandbox, PrometheusServer], prom: PrometheusClient
):
    sandbox = shop[0]
    oom = f'namespace="{NAMESPACE}",pod=~"oom-.*",container="app"'
    wait_for(
        lambda: (value(prom, f"kube_pod_container_status_restarts_total{{{oom}}}") or 0) >= 2,
        what="oom restarted twice",
    )
    reasons = prom.query(f"kube_pod_container_status_last_terminated_reason{{{oom}}}")
    assert [s.metric["reason"] for s in reasons] == ["OOMKilled"]
    backing_off = (
        f"max_over_time(kube_pod_container_status_waiting_reason"
        f'{{{oom},reason="CrashLoopBackOff"}}[1m]) >= 1'
    )
    wait_for(lambda: prom.query(backing_off), what="oom seen in CrashLoopBackOff")
    seen = value(prom, f"kube_pod_container_status_restarts_total{{{oom}}}")
    pods, _ = sandbox.store.list(PODS, NAMESPACE)
    pod = next(p for p in pods if p["metadata"]["name"].startswith("oom-"))
    restarts = pod["status"]["containerStatuses"][0]["restartCount"]
    assert seen is not None and 1 <= seen <= restarts  # scraped a moment ago, never ahead
    fine = f'namespace="{NAMESPACE}",pod=~"fine-.*"'
    assert value(prom, f"sum(kube_pod_container_status_restarts_total{{{fine}}})") == 0


def test_limits_and_working_set_answer_per_container(prom: PrometheusClient):
    def ratio(workload: str) -> float | None:
        selector = f'namespace="{NAMESPACE}",pod=~"{workload}-.*",container="app"'
        used = f"max by (pod) (container_memory_working_set_bytes{{{selector}}})"
        limit = f'max by (pod) (kube_pod_container_resource_limits{{{selector},resource="memory"}})'
        return value(prom, f"max({used} / {limit})")

    wait_for(lambda: ratio("fine") == pytest.approx(180 / 256, abs=0.01), what="fine warmed up")
    # oom grows to its limit and is killed there: when seen running, it is below or at it.
    peak = prom.query(
        f'max_over_time(container_memory_working_set_bytes{{namespace="{NAMESPACE}",'
        'pod=~"oom-.*"}[1m])'
    )
    assert all(sample.value[1] <= 64 * MIB for sample in peak)
    cpu_limit = value(
        prom,
        f'max(kube_pod_container_resource_limits{{namespace="{NAMESPACE}",pod=~"throttled-.*",'
        'resource="cpu",unit="core"})',
    )
    assert cpu_limit == pytest.approx(0.01)


def test_cpu_usage_and_throttling_follow_the_limits(prom: PrometheusClient):
    def throttled_ratio(workload: str) -> float | None:
        selector = f'namespace="{NAMESPACE}",pod=~"{workload}-.*",container="app"'
        return value(
            prom,
            f"sum(increase(container_cpu_cfs_throttled_periods_total{{{selector}}}[10s])) / "
            f"sum(increase(container_cpu_cfs_periods_total{{{selector}}}[10s]))",
        )

    wait_for(lambda: (throttled_ratio("throttled") or 0) > 0.95, what="throttled at ~100%")
    assert throttled_ratio("fine") == 0
    # irate: rate() under-reads a series only seconds old (it extrapolates little).
    usage = 'irate(container_cpu_usage_seconds_total{namespace="shop",pod=~"%s-.*"}[5s])'
    assert value(prom, f"max({usage % 'fine'})") == pytest.approx(0.1, rel=0.1)
    assert value(prom, f"max({usage % 'throttled'})") == pytest.approx(0.01, rel=0.1)


def test_each_source_has_its_own_path(shop: tuple[KubeSandbox, PrometheusServer]):
    url = shop[0].url
    kube_state = httpx.get(f"{url}/metrics/kube-state").text
    cadvisor = httpx.get(f"{url}/metrics/cadvisor")
    both = httpx.get(f"{url}/metrics").text
    assert "kube_pod_owner" in kube_state and "container_cpu_usage" not in kube_state
    assert cadvisor.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "container_cpu_usage_seconds_total" in cadvisor.text and "kube_" not in cadvisor.text
    assert "# TYPE kube_pod_container_status_restarts_total counter" in both
    assert httpx.get(f"{url}/metrics/unknown").status_code == 404
