"""Read-only views of a live cluster, for the model's investigation tools.

Only namespaced kinds a diagnosis needs, never Secrets, never cluster-wide objects (the
worker's Role grants exactly these reads in the namespaces it serves). Every method
returns the API's JSON dicts; callers redact them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from selfheal.activities.kubernetes.client import REQUEST_TIMEOUT, ClusterConnection
from selfheal.kube_objects import Obj

Reader = Callable[[ClusterConnection, str, str], Any]
Lister = Callable[[ClusterConnection, str, str], Any]


@dataclass(frozen=True)
class Kind:
    """How to read one kind: one object by name, or those matching a label selector."""

    api_version: str
    read: Reader
    find: Lister


# Literal calls, one per kind, so tests/packaging can derive the RBAC they need.
KINDS: dict[str, Kind] = {
    "Pod": Kind(
        "v1",
        lambda c, ns, name: c.core().read_namespaced_pod(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.core().list_namespaced_pod(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
    "Service": Kind(
        "v1",
        lambda c, ns, name: c.core().read_namespaced_service(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.core().list_namespaced_service(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
    "ConfigMap": Kind(
        "v1",
        lambda c, ns, name: c.core().read_namespaced_config_map(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.core().list_namespaced_config_map(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
    "Deployment": Kind(
        "apps/v1",
        lambda c, ns, name: c.apps().read_namespaced_deployment(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.apps().list_namespaced_deployment(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
    "ReplicaSet": Kind(
        "apps/v1",
        lambda c, ns, name: c.apps().read_namespaced_replica_set(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.apps().list_namespaced_replica_set(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
    "StatefulSet": Kind(
        "apps/v1",
        lambda c, ns, name: c.apps().read_namespaced_stateful_set(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.apps().list_namespaced_stateful_set(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
    "DaemonSet": Kind(
        "apps/v1",
        lambda c, ns, name: c.apps().read_namespaced_daemon_set(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.apps().list_namespaced_daemon_set(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
    "Job": Kind(
        "batch/v1",
        lambda c, ns, name: c.batch().read_namespaced_job(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.batch().list_namespaced_job(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
    "CronJob": Kind(
        "batch/v1",
        lambda c, ns, name: c.batch().read_namespaced_cron_job(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.batch().list_namespaced_cron_job(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
    "PersistentVolumeClaim": Kind(
        "v1",
        lambda c, ns, name: c.core().read_namespaced_persistent_volume_claim(
            name, ns, _request_timeout=REQUEST_TIMEOUT
        ),
        lambda c, ns, sel: c.core().list_namespaced_persistent_volume_claim(
            ns, label_selector=sel, _request_timeout=REQUEST_TIMEOUT
        ),
    ),
}
"""The kinds the investigation may read, by the name the API gives them."""

MAX_LISTED = 50
"""Objects a list answers with at most; the model narrows with a label selector."""


class ClusterReads:
    """Live reads of one cluster's namespaced objects, events and logs."""

    def __init__(self, connection: ClusterConnection) -> None:
        self._connection = connection

    def read(self, kind: str, namespace: str, name: str) -> Obj:
        """One object as the API's JSON; ApiException (404, 403) as the client raises it."""
        reading = KINDS[kind]
        return self._as_object(reading.read(self._connection, namespace, name), reading, kind)

    def find(self, kind: str, namespace: str, label_selector: str = "") -> list[Obj]:
        """Up to MAX_LISTED objects of `kind` in `namespace` matching `label_selector`."""
        reading = KINDS[kind]
        found = reading.find(self._connection, namespace, label_selector)
        return [self._as_object(item, reading, kind) for item in found.items[:MAX_LISTED]]

    def events(self, namespace: str, object_name: str = "") -> list[Obj]:
        """The namespace's events, or those about one object, oldest first."""
        selector = f"involvedObject.name={object_name}" if object_name else ""
        found = self._connection.core().list_namespaced_event(
            namespace, field_selector=selector, _request_timeout=REQUEST_TIMEOUT
        )
        events = [self._connection.api_client.sanitize_for_serialization(e) for e in found.items]
        return sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime")))

    def logs(
        self, namespace: str, pod: str, container: str, previous: bool, tail_lines: int
    ) -> str:
        """A container's log tail (its previous instance's with `previous`)."""
        text: str = self._connection.core().read_namespaced_pod_log(
            pod,
            namespace,
            container=container,
            previous=previous,
            tail_lines=tail_lines,
            _request_timeout=REQUEST_TIMEOUT,
        )
        return text

    def _as_object(self, model: Any, reading: Kind, kind: str) -> Obj:
        data: Obj = self._connection.api_client.sanitize_for_serialization(model)
        return {"apiVersion": reading.api_version, "kind": kind, **data}
