"""gather_metrics reads a workload's memory, CPU, throttling and restarts from real
Prometheus scraping the sandbox, per container, against its limits; snapshots keep them."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from kubernetes import config
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from selfheal.activities.prometheus.activities import NOT_CONFIGURED, MetricsActivities
from selfheal.activities.prometheus.client import PrometheusClient
from selfheal.activities.prometheus.evidence import pod_pattern
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.contracts.prometheus import (
    SERIES,
    ContainerMetrics,
    MetricsRequest,
    WorkloadMetrics,
    highest,
    latest,
)
from selfheal.settings import Settings
from selfheal.snapshot_capture import capture_snapshot
from selfheal.snapshots import METRICS_FILE, load_snapshot, read_objects, write_snapshot
from selfheal_lab.monitoring import PrometheusServer
from selfheal_lab.sandbox.kube import KubeSandbox
from selfheal_lab.sandbox.kube.resources import PODS
from selfheal_lab.sandbox.serving import free_port
from tests.prometheus.conftest import wait_for
from tests.prometheus.sandbox_cluster import NAMESPACE

MIB = 2**20
SCENARIOS = Path(__file__).parents[1] / "scenarios"
Shop = tuple[KubeSandbox, PrometheusServer]


def settings(**fields: object) -> Settings:
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


def request(sandbox: KubeSandbox, workload: str, **fields: object) -> MetricsRequest:
    pods, _ = sandbox.store.list(PODS, NAMESPACE)
    names = [p["metadata"]["name"] for p in pods if p["metadata"]["name"].startswith(workload)]
    values: dict[str, object] = {
        "incident_id": "inc-1",
        "namespace": NAMESPACE,
        "workload": workload,
        "pods": names,
        "window": timedelta(seconds=30),
        **fields,
    }
    return MetricsRequest.model_validate(values)


def gather(shop: Shop, workload: str, **fields: object) -> WorkloadMetrics:
    activities = MetricsActivities(settings(prometheus_url=shop[1].url))
    metrics = ActivityEnvironment().run(
        activities.gather_metrics, request(shop[0], workload, **fields)
    )
    assert isinstance(metrics, WorkloadMetrics)
    return metrics


def test_a_throttled_container_shows_its_limit_pinned(shop: Shop):
    def seen() -> WorkloadMetrics | None:
        metrics = gather(shop, "throttled")
        app = metrics.container("app")
        ratio = latest(app.cpu_throttled_ratio) if app else None
        return metrics if ratio and ratio > 0.9 else None

    metrics = wait_for(seen, what="throttling in the metrics")
    assert [c.container for c in metrics.containers] == ["app"]
    app = metrics.containers[0]
    assert latest(app.cpu_limit_cores) == pytest.approx(0.01)
    assert latest(app.memory_limit_bytes) == 256 * MIB
    usage = app.cpu_usage_of_limit()
    assert usage is not None and 0.3 < usage <= 1.05  # at its limit (rate() lags a young series)
    assert metrics.source == shop[1].url and metrics.step_seconds == 1.0
    assert len(app.cpu_throttled_ratio) <= 31
    assert metrics.end is not None and metrics.start == metrics.end - timedelta(seconds=30)


def test_an_oom_killed_container_grows_to_its_limit_and_restarts(shop: Shop):
    def restarted() -> WorkloadMetrics | None:
        metrics = gather(shop, "oom", window=timedelta(seconds=60))
        app = metrics.container("app")
        return metrics if app and app.restarts_in_window() >= 1 else None

    app = wait_for(restarted, what="restarts in the window").containers[0]
    assert latest(app.memory_limit_bytes) == 64 * MIB
    # At the test's time scale a container lives milliseconds between kills: a scrape
    # catches it seldom, and never above its limit.
    peak = app.memory_peak_of_limit()
    assert peak is None or peak <= 1.0
    assert (highest(app.cpu_throttled_ratio) or 0.0) == 0.0


def test_a_healthy_container_sits_below_its_limits(shop: Shop):
    def warm() -> WorkloadMetrics | None:
        metrics = gather(shop, "fine")
        app = metrics.container("app")
        peak = app.memory_peak_of_limit() if app else None
        return metrics if peak and peak > 0.69 else None

    app = wait_for(warm, what="fine warmed up").containers[0]
    assert app.memory_peak_of_limit() == pytest.approx(180 / 256, abs=0.01)
    assert (highest(app.cpu_throttled_ratio) or 0.0) == 0.0  # none yet on a young series
    assert app.restarts_in_window() == 0
    # The kind's pod naming finds the pods without their names (replaced pods count too).
    unnamed = gather(shop, "fine", pods=[])
    assert [c.container for c in unnamed.containers] == ["app"]


def test_a_workload_prometheus_has_nothing_of_says_so(shop: Shop):
    metrics = gather(shop, "nothing-here")
    assert metrics.containers == []
    assert "no container series for Deployment shop/nothing-here in the last 30s" in metrics.note


def test_without_prometheus_the_answer_says_so_and_a_down_one_is_retried(shop: Shop):
    unset = MetricsActivities(settings())
    answer = ActivityEnvironment().run(unset.gather_metrics, request(shop[0], "fine"))
    assert answer == WorkloadMetrics(note=NOT_CONFIGURED)
    down = MetricsActivities(settings(prometheus_url=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ApplicationError) as failed:
        ActivityEnvironment().run(down.gather_metrics, request(shop[0], "fine"))
    assert failed.value.type == "PrometheusUnavailable" and not failed.value.non_retryable


def test_names_that_are_not_kubernetes_names_never_reach_promql():
    with pytest.raises(ValidationError):
        MetricsRequest(incident_id="i", namespace='shop"}', workload="w")
    with pytest.raises(ValidationError):
        MetricsRequest(incident_id="i", namespace="shop", workload="w", pods=["a|b.*"])


def test_snapshots_keep_the_metrics_and_older_ones_load_without(shop: Shop, tmp_path: Path):
    metrics = wait_for(lambda: (m := gather(shop, "fine")).containers and m, what="fine's metrics")
    source = SCENARIOS / "oom_killed" / "at_memory_cap"
    older = load_snapshot(source)
    assert older.metrics is None
    copy = shutil.copytree(source, tmp_path / "snapshot")
    write_snapshot(copy, read_objects(copy), older.logs, older.previous_logs, metrics=metrics)
    assert (copy / METRICS_FILE).is_file()
    assert load_snapshot(copy).metrics == metrics
    payload = older.model_dump(mode="json")
    assert "metrics" not in payload  # unread metrics serialise as before the field
    assert ClusterContext.model_validate(payload).metrics is None


def test_the_size_bound_thins_metrics_first_keeping_the_newest_samples(tmp_path: Path):
    hour = [(1_800_000_000.0 + 60 * i, 180.0 * MIB + i) for i in range(61)]
    series = {name: hour for name in SERIES}
    metrics = WorkloadMetrics(
        source="http://prometheus:9090",
        step_seconds=60,
        containers=[ContainerMetrics.model_validate({"container": "app", **series})],
    )
    source = SCENARIOS / "oom_killed" / "at_memory_cap"
    copy = shutil.copytree(source, tmp_path / "snapshot")
    write_snapshot(copy, read_objects(copy), {}, {}, metrics=metrics)
    unbounded = load_snapshot(copy)
    budget = len(unbounded.model_dump_json()) - len(metrics.model_dump_json()) // 3
    bounded = load_snapshot(copy, max_bytes=budget)
    assert bounded.truncated and len(bounded.model_dump_json()) <= budget
    assert bounded.metrics is not None and bounded.metrics.step_seconds == 120
    kept = bounded.metrics.containers[0].memory_working_set_bytes
    assert kept[-1] == hour[-1] and len(kept) == 31
    assert bounded.events == unbounded.events  # samples go before any event


def test_a_captured_snapshot_carries_the_metrics_offline_diagnosis_reads(
    shop: Shop, tmp_path: Path
):
    sandbox, server = shop
    kubeconfig = sandbox.write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)
    with (
        config.new_client_from_config(config_file=str(kubeconfig)) as api,
        PrometheusClient(server.url) as prometheus,
    ):

        def captured() -> ClusterContext | None:
            path = capture_snapshot(
                api,
                NAMESPACE,
                "throttled",
                tmp_path / "snapshot",
                prometheus=prometheus,
                metrics_window=timedelta(seconds=30),
            )
            context = load_snapshot(path)
            app = context.metrics.container("app") if context.metrics else None
            return context if app and (latest(app.cpu_throttled_ratio) or 0) > 0.9 else None

        context = wait_for(captured, what="throttling in the snapshot")
        assert context.pods and context.metrics is not None
        assert context.metrics.source == server.url
        down = PrometheusClient(f"http://127.0.0.1:{free_port()}")
        path = capture_snapshot(api, NAMESPACE, "throttled", tmp_path / "s2", prometheus=down)
    noted = load_snapshot(path).metrics
    assert noted is not None and noted.containers == []
    assert noted.note.startswith("cannot reach Prometheus at")


def test_the_pod_pattern_follows_each_kinds_naming():
    def matches(kind: str, workload: str, pod: str, listed: tuple[str, ...] = ()) -> bool:
        request = MetricsRequest(
            incident_id="i", namespace="shop", workload=workload, kind=kind, pods=list(listed)
        )
        regex = pod_pattern(request).replace("\\\\", "\\")  # PromQL string escapes undone
        return re.fullmatch(regex, pod) is not None

    assert matches("Deployment", "checkout", "checkout-67n5hhzk4q-gcqq9")
    assert not matches("Deployment", "checkout", "checkout-db-abcde")  # vowels: not generated
    assert not matches("Deployment", "checkout", "checkout-67n5hhzk4q")  # a ReplicaSet's name
    assert matches("StatefulSet", "ledger", "ledger-12")
    assert not matches("StatefulSet", "ledger", "ledger-db-0")
    assert matches("CronJob", "report", "report-29123456-x7k2p")
    assert matches("Pod", "debug", "debug") and not matches("Pod", "debug", "debugger")
    assert matches("Deployment", "a.b", "a.b-7c9f8d-x7k2p")
    assert not matches("Deployment", "a.b", "axb-7c9f8d-x7k2p")  # a dot is a dot
    assert matches("Deployment", "checkout", "named-by-hand", ("named-by-hand",))
