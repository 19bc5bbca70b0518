"""Read everything the analysis looks at for one workload of any kind: objects, events and
log tails.

Nodes are cluster-scoped and the worker's RBAC grants nothing cluster-wide, so a live
context holds none (`ClusterContext.nodes` stays empty); the pods' `spec.nodeName` and the
node controller's events about them still say where they ran.

Secret values are never requested: Secrets are read as metadata only
(PartialObjectMetadata), and anything else a server sends back is dropped before it leaves
this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from selfheal.activities.kubernetes.client import (
    REQUEST_TIMEOUT,
    ClusterConnection,
    is_not_found,
    kube_errors,
)
from selfheal.activities.kubernetes.members import (
    read_claims,
    read_members,
    read_namespace_limits,
)
from selfheal.activities.kubernetes.workload import as_object, read_existing
from selfheal.kube_objects import Obj, kind_of, name_of, pod_specs, uid_of
from selfheal.snapshots import referenced_config

METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"
"""Accept header asking the apiserver for an object's metadata without its data."""

MAX_LOG_PODS = 12
"""Pods whose logs are read: every pod of a workload this size or smaller (a dependency
outage shows in the healthy pods' logs too); of a larger one, the failing pods first."""
MAX_HEALTHY_LOG_PODS = 2
"""Healthy pods read beside the failing ones of a larger workload, to compare."""


@dataclass
class WorkloadObjects:
    """A workload's related objects (kubectl-shaped dicts) and its containers' log tails."""

    objects: list[Obj] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)
    previous_logs: dict[str, str] = field(default_factory=dict)


def collect_workload_objects(
    conn: ClusterConnection,
    namespace: str,
    name: str,
    tail_lines: int,
    kind: str = "Deployment",
) -> WorkloadObjects:
    """Return the workload `kind`/`name`, what it owns (ReplicaSets, ControllerRevisions or
    Jobs) and its Pods, the claims they mount, the namespace's ResourceQuotas and
    LimitRanges, Events about any of them, referenced config and log tails."""
    members = read_members(conn, namespace, kind, name)
    owned = [
        *([members.top] if members.top is not None else []),
        *members.replicasets,
        *members.controller_revisions,
        *[job for job in members.jobs if job is not members.top],
        *members.pods,
    ]
    specs = [spec for obj in owned for spec in pod_specs(obj)]
    configmap_names, secret_names = referenced_config(specs)
    claims = read_claims(conn, namespace, members)
    objects = [*owned, *claims]
    objects += related_events(conn, namespace, [*owned, *claims])
    objects += read_configmaps(conn, namespace, sorted(configmap_names))
    objects += read_secret_metadata(conn, namespace, sorted(secret_names))
    objects += read_namespace_limits(conn, namespace)
    result = WorkloadObjects(objects=objects)
    if tail_lines > 0:
        for pod in pods_worth_logs(members.pods):
            read_pod_logs(conn, pod, tail_lines, result)
    return result


def related_events(conn: ClusterConnection, namespace: str, involved: list[Obj]) -> list[Obj]:
    """Return the namespace's core/v1 Events about any of the `involved` objects."""
    uids = {uid_of(obj) for obj in involved} - {""}
    names = {(kind_of(obj), name_of(obj)) for obj in involved}
    with kube_errors(f"listing events in namespace {namespace}"):
        items = conn.core().list_namespaced_event(namespace, _request_timeout=REQUEST_TIMEOUT).items
    events = []
    for item in items:
        event = as_object(conn, item, "v1", "Event")
        about = event.get("involvedObject") or {}
        if about.get("uid") in uids or (about.get("kind"), about.get("name")) in names:
            events.append(event)
    events.sort(key=event_time)
    return events


def event_time(event: Obj) -> str:
    """Return the event's latest timestamp as an ISO string, for ordering."""
    return str(
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or event.get("metadata", {}).get("creationTimestamp")
        or ""
    )


def read_configmaps(conn: ClusterConnection, namespace: str, names: list[str]) -> list[Obj]:
    """Return the referenced ConfigMaps that exist (a missing one is itself a finding)."""
    return read_existing(
        conn,
        namespace,
        names,
        "ConfigMap",
        lambda name: conn.core().read_namespaced_config_map(
            name, namespace, _request_timeout=REQUEST_TIMEOUT
        ),
    )


def read_secret_metadata(conn: ClusterConnection, namespace: str, names: list[str]) -> list[Obj]:
    """Return the referenced Secrets that exist, as metadata only: their data is never read."""
    found = []
    for name in names:
        with kube_errors(f"reading metadata of secret {namespace}/{name}"):
            try:
                # Without preloading, the client returns the raw HTTP response.
                response: Any = conn.core().read_namespaced_secret(
                    name,
                    namespace,
                    _headers={"Accept": METADATA_ONLY},
                    _preload_content=False,
                    _request_timeout=REQUEST_TIMEOUT,
                )
            except ApiException as exc:
                # 403: the recommended RBAC grants no Secret access at all (RBAC cannot grant
                # metadata without values); the analysis reads the kubelet's message instead.
                if is_not_found(exc) or exc.status == 403:
                    continue
                raise
        body: dict[str, Any] = json.loads(response.data)
        # Keep metadata alone even if the server ignored the metadata-only Accept header.
        found.append({"apiVersion": "v1", "kind": "Secret", "metadata": body.get("metadata", {})})
    return found


def pods_worth_logs(pods: list[Obj]) -> list[Obj]:
    """Return the pods whose logs to read: failing ones first (most restarts first), then
    healthy ones; every pod up to MAX_LOG_PODS, keeping MAX_HEALTHY_LOG_PODS healthy ones
    to compare when there are more. The context's size bound cuts what does not fit."""
    failing = [pod for pod in pods if not pod_healthy(pod)]
    failing.sort(key=lambda pod: -restart_count(pod))
    healthy = [pod for pod in pods if pod_healthy(pod)]
    if len(pods) <= MAX_LOG_PODS:
        return failing + healthy
    kept_healthy = healthy[: max(MAX_HEALTHY_LOG_PODS, MAX_LOG_PODS - len(failing))]
    return failing[: MAX_LOG_PODS - len(kept_healthy)] + kept_healthy


def pod_healthy(pod: Obj) -> bool:
    """True when the pod is Ready and none of its containers ever restarted."""
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return ready and restart_count(pod) == 0


def restart_count(pod: Obj) -> int:
    """Return the sum of the restart counts of the pod's containers."""
    status = pod.get("status") or {}
    return sum(
        int(c.get("restartCount") or 0)
        for c in (status.get("initContainerStatuses") or [])
        + (status.get("containerStatuses") or [])
    )


def read_pod_logs(
    conn: ClusterConnection, pod: Obj, tail_lines: int, into: WorkloadObjects
) -> None:
    """Add the log tails of the pod's containers that ran; unreadable logs are skipped."""
    status = pod.get("status") or {}
    statuses = (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
    for container in statuses:
        state, last = container.get("state") or {}, container.get("lastState") or {}
        key = f"{name_of(pod)}/{container['name']}"
        if "running" in state or "terminated" in state or "terminated" in last:
            text = _read_log(conn, pod, container["name"], tail_lines, previous=False)
            if text is not None:
                into.logs[key] = text
        if int(container.get("restartCount") or 0) > 0:
            text = _read_log(conn, pod, container["name"], tail_lines, previous=True)
            if text is not None:
                into.previous_logs[key] = text


def _read_log(
    conn: ClusterConnection, pod: Obj, container: str, tail_lines: int, previous: bool
) -> str | None:
    try:
        # Raw bytes: a log line that happens to be JSON must stay text.
        response: Any = conn.core().read_namespaced_pod_log(
            name_of(pod),
            str(pod["metadata"]["namespace"]),
            container=container,
            tail_lines=tail_lines,
            previous=previous,
            _preload_content=False,
            _request_timeout=REQUEST_TIMEOUT,
        )
    except (ApiException, urllib3.exceptions.HTTPError):
        # A log the kubelet cannot serve (container never started, node gone) is no context.
        return None
    return bytes(response.data).decode("utf-8", errors="replace")
