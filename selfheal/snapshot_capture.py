"""Capture a workload's cluster state into a snapshot directory (docs/cli.md, `snapshot`).

Reads exactly what `gather_context` reads, through the same code, so a snapshot diagnoses
the same as the live cluster did; `selfheal.snapshots.write_snapshot` removes Secret and
ConfigMap values, redacts env values and writes `objects.yaml` plus the log files.
"""

from __future__ import annotations

from pathlib import Path

import kubernetes

from selfheal.activities.kubernetes.client import ClusterConnection
from selfheal.activities.kubernetes.context import collect_workload_objects
from selfheal.snapshots import write_snapshot

SNAPSHOT_LOG_LINES = 200


def capture_snapshot(
    api_client: kubernetes.client.ApiClient,
    namespace: str,
    name: str,
    out_dir: Path | str,
    tail_lines: int = SNAPSHOT_LOG_LINES,
    kind: str = "Deployment",
) -> Path:
    """Write the snapshot of workload `kind`/`name` (objects.yaml and logs/) to `out_dir`;
    return its path.

    Raises ApplicationError (type DeploymentNotFound, StatefulSetNotFound,
    KubernetesForbidden, ...) as the activities do, with a message a person can act on.
    """
    connection = ClusterConnection(api_client=api_client)
    found = collect_workload_objects(connection, namespace, name, tail_lines, kind=kind)
    return write_snapshot(out_dir, found.objects, found.logs, found.previous_logs)
