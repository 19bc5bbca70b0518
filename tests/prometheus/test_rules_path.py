"""The rules path (analyze_workload) reads the metrics from real Prometheus beside the
cluster, so CPU throttling, invisible to the API, is diagnosed and fixed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from selfheal.activities.kubernetes.activities import KubernetesActivities
from selfheal.activities.prometheus.activities import MetricsActivities
from selfheal.activities.remedy import OfflineAnalysisActivities
from selfheal.contracts.analysis import AnalysisRequest, WorkloadAnalysis
from selfheal.contracts.kubernetes import ContextRequest
from selfheal.model.alerts import Alert
from selfheal.model.diagnosis import DiagnosisCategory, FixKind
from selfheal.settings import Settings
from selfheal_lab.monitoring import PrometheusServer
from selfheal_lab.sandbox.kube import KubeSandbox
from selfheal_lab.sandbox.serving import free_port
from tests.prometheus.conftest import wait_for
from tests.prometheus.sandbox_cluster import NAMESPACE

Shop = tuple[KubeSandbox, PrometheusServer]


@pytest.fixture
def analyze(shop: Shop, tmp_path: Path) -> Callable[..., WorkloadAnalysis]:
    """analyze_workload of `workload` as the worker builds it, with settings overridden."""
    kubeconfig = shop[0].write_kubeconfig(tmp_path / "kubeconfig", namespace=NAMESPACE)

    def run(workload: str, **overrides: Any) -> WorkloadAnalysis:
        fields: dict[str, Any] = {
            "kubeconfig": kubeconfig,
            "cluster": "sandbox",
            "namespaces": [NAMESPACE],
            "prometheus_url": shop[1].url,
            "metrics_window": "1m",
            **overrides,
        }
        settings = Settings(_env_file=None, **fields)  # type: ignore[call-arg]
        kubernetes = KubernetesActivities(settings)
        offline = OfflineAnalysisActivities(
            kubernetes.gather_context, settings.fix_limits(), MetricsActivities(settings).read
        )
        alert = Alert(name="CPUThrottlingHigh", namespace=NAMESPACE, workload=workload)
        request = ContextRequest(incident_id="inc-cpu", namespace=NAMESPACE, workload=workload)
        return offline.analyze_workload(AnalysisRequest(alert=alert, workload=request))

    return run


def test_a_throttled_workload_is_diagnosed_from_the_metrics_and_gets_more_cpu(
    analyze: Callable[..., WorkloadAnalysis],
):
    analysis = wait_for(
        lambda: (
            (a := analyze("throttled")).diagnosis.category == DiagnosisCategory.CPU_THROTTLING and a
        ),
        what="cpu_throttling on the rules path",
    )
    assert analysis.fix is not None and analysis.fix.kind == FixKind.INCREASE_CPU
    limit = analysis.fix.changes[0]
    assert (limit.path.rsplit(".", 2)[-2:], limit.before, limit.after) == (
        ["limits", "cpu"],
        "10m",
        "20m",
    )
    assert "CFS periods throttled" in analysis.diagnosis.evidence[0].detail


def test_without_prometheus_or_with_it_down_the_rules_see_a_healthy_workload(
    analyze: Callable[..., WorkloadAnalysis],
):
    unset = analyze("throttled", prometheus_url=None)
    assert unset.diagnosis.category != DiagnosisCategory.CPU_THROTTLING
    assert not unset.diagnosis.fault_found
    down = analyze("throttled", prometheus_url=f"http://127.0.0.1:{free_port()}")
    assert down.diagnosis.category == unset.diagnosis.category
