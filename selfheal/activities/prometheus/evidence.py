"""A workload's recent memory, CPU, throttling and restarts, read from Prometheus.

The queries use the series every Kubernetes Prometheus has, kube-state-metrics' and
cAdvisor's (through the kubelet), by their own names and labels, and no `job` label (its
value is the installation's choice). Each is one range query aggregated per container
over the workload's pods, so the answer's size depends on the containers and the window,
never on the number of pods.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from selfheal.activities.prometheus.api import RangeSeries
from selfheal.activities.prometheus.client import PrometheusClient
from selfheal.contracts.prometheus import (
    MAX_CONTAINERS,
    MAX_POINTS,
    ContainerMetrics,
    MetricsRequest,
    Point,
    WorkloadMetrics,
)

MAX_RATE_WINDOW = timedelta(minutes=5)
SAMPLES_PER_WINDOW = 60
"""A window is read in this many steps (an hour: a sample a minute)."""

_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
"""The alphabet of generated name parts (no vowels), as webhook/alertmanager.py reads them."""
_POD_PATTERNS = {
    # <name>-<pod-template-hash>-<5 random>: what a Deployment's ReplicaSets name their pods.
    "Deployment": "{name}-" + _SAFE + "{{1,10}}-" + _SAFE + "{{5}}",
    "StatefulSet": "{name}-[0-9]+",
    "DaemonSet": "{name}-" + _SAFE + "{{5}}",
    "Job": "{name}-" + _SAFE + "{{5}}",
    # <cronjob>-<scheduled minute>-<5 random>
    "CronJob": "{name}-[0-9]+-" + _SAFE + "{{5}}",
}


def _literal(name: str) -> str:
    """A Kubernetes name as a regex inside a PromQL string (its dots matched literally)."""
    return name.replace(".", r"\\.")


def pod_pattern(request: MetricsRequest) -> str:
    """The RE2 pattern of the workload's pod names: those listed and those its kind's
    naming gives, so pods replaced within the window count too."""
    alternatives = [_literal(pod) for pod in dict.fromkeys(request.pods)]
    template = _POD_PATTERNS.get(request.kind)
    if template:
        alternatives.append(template.format(name=_literal(request.workload)))
    elif request.workload not in request.pods:
        alternatives.append(_literal(request.workload))  # a bare Pod
    return "|".join(alternatives)


def _selector(request: MetricsRequest, cluster_label: str) -> str:
    matchers = [
        f'namespace="{request.namespace}"',
        f'pod=~"{pod_pattern(request)}"',
        'container!=""',
        'container!="POD"',
    ]
    if request.containers:
        matchers.append(f'container=~"{"|".join(request.containers)}"')
    if cluster_label:
        matchers.append(f"cluster={json.dumps(cluster_label)}")
    return ",".join(matchers)


def rate_window(request: MetricsRequest, window: timedelta) -> timedelta:
    """The range of rate() and increase(): as asked, else a sixth of the window up to 5m.

    rate() divides by its whole range, so a range much longer than a series has existed
    under-reads it; a sixth of the window keeps a short window's young series honest."""
    return request.rate_window or min(MAX_RATE_WINDOW, window / 6)


def queries(request: MetricsRequest, window: timedelta, cluster_label: str = "") -> dict[str, str]:
    """The PromQL of each series of `ContainerMetrics`, by field name."""
    s = _selector(request, cluster_label)
    r = f"{max(int(rate_window(request, window).total_seconds()), 1)}s"
    per_pod = "sum by (namespace, pod, container)"
    return {
        "memory_working_set_bytes": (
            f"max by (container) (container_memory_working_set_bytes{{{s}}})"
        ),
        "memory_limit_bytes": (
            f'max by (container) (kube_pod_container_resource_limits{{{s},resource="memory"}})'
        ),
        "cpu_usage_cores": (
            f"max by (container) (rate(container_cpu_usage_seconds_total{{{s}}}[{r}]))"
        ),
        "cpu_limit_cores": (
            f'max by (container) (kube_pod_container_resource_limits{{{s},resource="cpu"}})'
        ),
        "cpu_throttled_ratio": (
            f"max by (container) ("
            f"{per_pod} (increase(container_cpu_cfs_throttled_periods_total{{{s}}}[{r}]))"
            f" / {per_pod} (increase(container_cpu_cfs_periods_total{{{s}}}[{r}])))"
        ),
        "restarts": f"sum by (container) (kube_pod_container_status_restarts_total{{{s}}})",
    }


def _points(series: RangeSeries) -> list[Point]:
    """Samples as compact numbers; NaN and infinities (0/0 ratios) are left out."""
    return [
        (round(moment, 3), round(value, 6))
        for moment, value in series.values
        if math.isfinite(value)
    ]


def read_workload_metrics(
    prometheus: PrometheusClient,
    request: MetricsRequest,
    window: timedelta,
    end: datetime,
    cluster_label: str = "",
) -> WorkloadMetrics:
    """Read the workload's series over `window` up to `end`, per container.

    `cluster_label` adds `cluster="…"` to every selector, for a Prometheus that holds many
    clusters' series. Raises MetricsApiError when Prometheus fails.
    """
    window = request.window or window
    step = max(window / SAMPLES_PER_WINDOW, window / MAX_POINTS, timedelta(seconds=1))
    end = end.replace(microsecond=0)
    start = end - window
    by_container: dict[str, dict[str, list[Point]]] = {}
    for field, promql in queries(request, window, cluster_label).items():
        for series in prometheus.query_range(promql, start, end, step):
            name = series.metric.get("container", "")
            if name:
                by_container.setdefault(name, {})[field] = _points(series)
    names = sorted(by_container)
    note = ""
    if not names:
        note = (
            f"Prometheus has no container series for {request.kind} {request.namespace}/"
            f"{request.workload} in the last {_human(window)}"
        )
    elif len(names) > MAX_CONTAINERS:
        note = f"{len(names)} containers: kept the first {MAX_CONTAINERS} by name"
        names = names[:MAX_CONTAINERS]
    return WorkloadMetrics(
        source=prometheus.base_url,
        note=note,
        start=start,
        end=end,
        step_seconds=step.total_seconds(),
        containers=[
            ContainerMetrics.model_validate({"container": name, **by_container[name]})
            for name in names
        ],
    )


def _human(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"
