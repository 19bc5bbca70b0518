"""Kubernetes' "forced rollback" for StatefulSets, done for the person who would otherwise do
it by hand.

With OrderedReady pod management the StatefulSet controller replaces no pod while one is not
Running and Ready, so a pod broken by the old template (OOMKilled, crash-looping, an image
that cannot be pulled) holds the rollout of a fixed template forever; the Kubernetes
documentation tells the operator to delete such pods after fixing the template. selfheal
evicts them (the Eviction API, which PodDisruptionBudgets may refuse), and only pods that run
an older revision than the set's update revision and are not ready: they serve nothing, and
the controller recreates each from the fixed template.
"""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from selfheal.activities.kubernetes.client import (
    REQUEST_TIMEOUT,
    ClusterConnection,
    is_not_found,
    kube_errors,
)
from selfheal.activities.kubernetes.members import read_members
from selfheal.kube_objects import Obj, name_of

POD_REVISION_LABEL = "controller-revision-hash"


def running_and_ready(pod: Obj) -> bool:
    """The controller's own test before it replaces anything: phase Running and Ready."""
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def stuck_on_old_revision(sts: Obj, pods: list[Obj]) -> list[Obj]:
    """The set's pods that hold its rolling update: at an older revision and not ready."""
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    update = status.get("updateRevision")
    ordered = (spec.get("podManagementPolicy") or "OrderedReady") == "OrderedReady"
    rolling = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
    observed = int(status.get("observedGeneration") or 0) >= int(
        (sts.get("metadata") or {}).get("generation") or 0
    )
    if not (update and ordered and rolling and observed):
        return []
    return [
        pod
        for pod in pods
        if (pod.get("metadata") or {}).get("labels", {}).get(POD_REVISION_LABEL) != update
        and not (pod.get("metadata") or {}).get("deletionTimestamp")
        and not running_and_ready(pod)
    ]


def evict_stuck_pods(conn: ClusterConnection, namespace: str, name: str) -> list[str]:
    """Evict the StatefulSet's pods that hold its rollout; return their names."""
    members = read_members(conn, namespace, "StatefulSet", name)
    if members.top is None:
        return []
    evicted = []
    for pod in stuck_on_old_revision(members.top, members.pods):
        eviction = client.V1Eviction(
            metadata=client.V1ObjectMeta(name=name_of(pod), namespace=namespace)
        )
        with kube_errors(f"evicting pod {namespace}/{name_of(pod)}"):
            try:
                conn.core().create_namespaced_pod_eviction(
                    name_of(pod), namespace, eviction, _request_timeout=REQUEST_TIMEOUT
                )
            except ApiException as exc:
                if is_not_found(exc):
                    continue
                if exc.status == 429:  # a PodDisruptionBudget refuses it now: try again later
                    continue
                raise
        evicted.append(name_of(pod))
    return evicted
