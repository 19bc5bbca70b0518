"""Capture a workload's cluster state into a snapshot directory (docs/cli.md, `snapshot`).

Reads exactly what `gather_context` reads, through the same code, so a snapshot diagnoses
the same as the live cluster did; `selfheal.snapshots.write_snapshot` removes Secret and
ConfigMap values, redacts env values and writes `objects.yaml` plus the log files. Given a
Prometheus, it also reads what `gather_metrics` reads into `metrics/workload.json`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import kubernetes

from selfheal.activities.kubernetes.client import ClusterConnection
from selfheal.activities.kubernetes.context import collect_workload_objects
from selfheal.activities.prometheus.client import PrometheusClient, now
from selfheal.activities.prometheus.errors import MetricsApiError
from selfheal.activities.prometheus.evidence import read_workload_metrics
from selfheal.contracts.prometheus import MetricsRequest, WorkloadMetrics
from selfheal.kube_objects import kind_of, name_of
from selfheal.snapshots import write_snapshot

SNAPSHOT_LOG_LINES = 200


def capture_snapshot(
    api_client: kubernetes.client.ApiClient,
    namespace: str,
    name: str,
    out_dir: Path | str,
    tail_lines: int = SNAPSHOT_LOG_LINES,
    kind: str = "Deployment",
    prometheus: PrometheusClient | None = None,
    metrics_window: timedelta = timedelta(hours=1),
) -> Path:
    """Write the snapshot of workload `kind`/`name` (objects.yaml, logs/, and metrics/ when
    given a Prometheus) to `out_dir`; return its path.

    Raises ApplicationError (type DeploymentNotFound, StatefulSetNotFound,
    KubernetesForbidden, ...) as the activities do, with a message a person can act on. A
    Prometheus that fails leaves its reason in the metrics' `note` rather than failing the
    capture.
    """
    connection = ClusterConnection(api_client=api_client)
    found = collect_workload_objects(connection, namespace, name, tail_lines, kind=kind)
    metrics = None
    if prometheus is not None:
        pods = [name_of(obj) for obj in found.objects if kind_of(obj) == "Pod"]
        request = MetricsRequest(
            incident_id="snapshot", namespace=namespace, workload=name, kind=kind, pods=pods
        )
        try:
            metrics = read_workload_metrics(prometheus, request, metrics_window, now())
        except MetricsApiError as failed:
            metrics = WorkloadMetrics(source=prometheus.base_url, note=failed.message)
    return write_snapshot(out_dir, found.objects, found.logs, found.previous_logs, metrics)
