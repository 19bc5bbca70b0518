"""kube-state-metrics' series for what the sandbox's store holds: pods, containers,
Deployments, ReplicaSets, StatefulSets, DaemonSets.

Names, types and labels are kube-state-metrics' own (docs/metrics/workload/*.md), so the
kubernetes-mixin alert rules and selfheal's queries read the sandbox as a real cluster. Only
what the store says is exported: the values follow the simulated pods' statuses.
"""

from __future__ import annotations

from typing import Any

from selfheal_lab.sandbox.kube.exposition import Family
from selfheal_lab.sandbox.kube.quantity import parse_quantity
from selfheal_lab.sandbox.kube.resources import (
    DAEMONSETS,
    DEPLOYMENTS,
    PODS,
    REPLICASETS,
    STATEFULSETS,
)
from selfheal_lab.sandbox.kube.store import Obj, Store

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Unknown")
_UNITS = {"cpu": "core", "memory": "byte", "ephemeral-storage": "byte"}


def _families(*specs: tuple[str, str, str]) -> dict[str, Family]:
    return {name: Family(name, kind, text) for name, kind, text in specs}


def _meta(obj: Obj) -> dict[str, str]:
    meta = obj.get("metadata") or {}
    return {"namespace": meta.get("namespace", ""), "uid": meta.get("uid", "")}


def _owner(obj: Obj) -> tuple[str, str, str]:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("kind", ""), ref.get("name", ""), "true"
    return "<none>", "<none>", "false"


def pod_families(pods: list[Obj]) -> list[Family]:
    """The pod and container series of kube-state-metrics for `pods`."""
    f = _families(
        (
            "kube_pod_container_status_restarts_total",
            "counter",
            "[STABLE] The number of container restarts per container.",
        ),
        (
            "kube_pod_container_status_waiting_reason",
            "gauge",
            "[STABLE] Describes the reason the container is currently in waiting state.",
        ),
        (
            "kube_pod_container_status_terminated_reason",
            "gauge",
            "[STABLE] Describes the reason the container is currently in terminated state.",
        ),
        (
            "kube_pod_container_status_last_terminated_reason",
            "gauge",
            "Describes the last reason the container was in terminated state.",
        ),
        (
            "kube_pod_container_status_ready",
            "gauge",
            "[STABLE] Describes whether the containers readiness check succeeded.",
        ),
        (
            "kube_pod_container_resource_limits",
            "gauge",
            "The number of requested limit resource by a container.",
        ),
        (
            "kube_pod_container_resource_requests",
            "gauge",
            "The number of requested request resource by a container.",
        ),
        ("kube_pod_status_phase", "gauge", "[STABLE] The pods current phase."),
        (
            "kube_pod_status_ready",
            "gauge",
            "[STABLE] Describes whether the pod is ready to serve requests.",
        ),
        ("kube_pod_owner", "gauge", "[STABLE] Information about the Pod's owner."),
    )
    for pod in pods:
        meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
        ids = {**_meta(pod), "pod": meta["name"]}
        for container in status.get("containerStatuses") or []:
            labels = {**ids, "container": container.get("name", "")}
            f["kube_pod_container_status_restarts_total"].add(
                container.get("restartCount", 0), **labels
            )
            f["kube_pod_container_status_ready"].add(int(bool(container.get("ready"))), **labels)
            state = container.get("state") or {}
            for key, family in (
                ("waiting", "kube_pod_container_status_waiting_reason"),
                ("terminated", "kube_pod_container_status_terminated_reason"),
            ):
                reason = (state.get(key) or {}).get("reason")
                if reason:
                    f[family].add(1, **labels, reason=reason)
            last = ((container.get("lastState") or {}).get("terminated") or {}).get("reason")
            if last:
                f["kube_pod_container_status_last_terminated_reason"].add(1, **labels, reason=last)
        for container in spec.get("containers") or []:
            resources = container.get("resources") or {}
            labels = {**ids, "container": container["name"], "node": spec.get("nodeName", "")}
            for key, family in (
                ("limits", "kube_pod_container_resource_limits"),
                ("requests", "kube_pod_container_resource_requests"),
            ):
                for resource, quantity in sorted((resources.get(key) or {}).items()):
                    f[family].add(
                        parse_quantity(quantity),
                        **labels,
                        resource=resource.replace("-", "_"),
                        unit=_UNITS.get(resource, "integer"),
                    )
        phase = status.get("phase", "Pending")
        for candidate in PHASES:
            f["kube_pod_status_phase"].add(int(candidate == phase), **ids, phase=candidate)
        ready = next(
            (c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"),
            None,
        )
        for condition, value in (("true", "True"), ("false", "False"), ("unknown", "Unknown")):
            f["kube_pod_status_ready"].add(int(ready == value), **ids, condition=condition)
        kind, name, controller = _owner(pod)
        f["kube_pod_owner"].add(
            1, **ids, owner_kind=kind, owner_name=name, owner_is_controller=controller
        )
    return list(f.values())


def _status(obj: Obj, key: str) -> Any:
    return (obj.get("status") or {}).get(key, 0)


def workload_families(
    deployments: list[Obj], replicasets: list[Obj], statefulsets: list[Obj], daemonsets: list[Obj]
) -> list[Family]:
    """The Deployment, ReplicaSet, StatefulSet and DaemonSet series of kube-state-metrics."""
    f = _families(
        (
            "kube_deployment_spec_replicas",
            "gauge",
            "[STABLE] Number of desired pods for a deployment.",
        ),
        (
            "kube_deployment_status_replicas",
            "gauge",
            "[STABLE] The number of replicas per deployment.",
        ),
        (
            "kube_deployment_status_replicas_available",
            "gauge",
            "[STABLE] The number of available replicas per deployment.",
        ),
        (
            "kube_deployment_status_replicas_unavailable",
            "gauge",
            "[STABLE] The number of unavailable replicas per deployment.",
        ),
        (
            "kube_deployment_status_replicas_updated",
            "gauge",
            "[STABLE] The number of updated replicas per deployment.",
        ),
        (
            "kube_deployment_status_observed_generation",
            "gauge",
            "[STABLE] The generation observed by the deployment controller.",
        ),
        (
            "kube_deployment_metadata_generation",
            "gauge",
            "[STABLE] Sequence number representing a specific generation of the desired state.",
        ),
        (
            "kube_deployment_status_condition",
            "gauge",
            "[STABLE] The current status conditions of a deployment.",
        ),
        ("kube_replicaset_owner", "gauge", "[STABLE] Information about the ReplicaSet's owner."),
        (
            "kube_statefulset_replicas",
            "gauge",
            "[STABLE] Number of desired pods for a StatefulSet.",
        ),
        (
            "kube_statefulset_status_replicas_ready",
            "gauge",
            "[STABLE] The number of ready replicas per StatefulSet.",
        ),
        (
            "kube_daemonset_status_desired_number_scheduled",
            "gauge",
            "[STABLE] The number of nodes that should be running the daemon pod.",
        ),
        (
            "kube_daemonset_status_number_available",
            "gauge",
            "[STABLE] The number of nodes that should be running the daemon pod and have one "
            "or more of the daemon pod running and available",
        ),
    )
    for deployment in deployments:
        labels = {
            "namespace": _meta(deployment)["namespace"],
            "deployment": deployment["metadata"]["name"],
        }
        f["kube_deployment_spec_replicas"].add(
            (deployment.get("spec") or {}).get("replicas", 1), **labels
        )
        for key, family in (
            ("replicas", "kube_deployment_status_replicas"),
            ("availableReplicas", "kube_deployment_status_replicas_available"),
            ("unavailableReplicas", "kube_deployment_status_replicas_unavailable"),
            ("updatedReplicas", "kube_deployment_status_replicas_updated"),
            ("observedGeneration", "kube_deployment_status_observed_generation"),
        ):
            f[family].add(_status(deployment, key), **labels)
        f["kube_deployment_metadata_generation"].add(
            deployment["metadata"].get("generation", 1), **labels
        )
        for condition in (deployment.get("status") or {}).get("conditions") or []:
            for status in ("true", "false", "unknown"):
                f["kube_deployment_status_condition"].add(
                    int(str(condition.get("status", "")).lower() == status),
                    **labels,
                    condition=condition.get("type", ""),
                    status=status,
                    reason=condition.get("reason", ""),
                )
    for replicaset in replicasets:
        kind, name, controller = _owner(replicaset)
        f["kube_replicaset_owner"].add(
            1,
            namespace=_meta(replicaset)["namespace"],
            replicaset=replicaset["metadata"]["name"],
            owner_kind=kind,
            owner_name=name,
            owner_is_controller=controller,
        )
    for statefulset in statefulsets:
        labels = {
            "namespace": _meta(statefulset)["namespace"],
            "statefulset": statefulset["metadata"]["name"],
        }
        f["kube_statefulset_replicas"].add(
            (statefulset.get("spec") or {}).get("replicas", 1), **labels
        )
        f["kube_statefulset_status_replicas_ready"].add(
            _status(statefulset, "readyReplicas"), **labels
        )
    for daemonset in daemonsets:
        labels = {
            "namespace": _meta(daemonset)["namespace"],
            "daemonset": daemonset["metadata"]["name"],
        }
        f["kube_daemonset_status_desired_number_scheduled"].add(
            _status(daemonset, "desiredNumberScheduled"), **labels
        )
        f["kube_daemonset_status_number_available"].add(
            _status(daemonset, "numberAvailable"), **labels
        )
    return list(f.values())


def kube_state_families(store: Store) -> list[Family]:
    """Every kube-state-metrics series the store's objects give, at this moment."""
    return [
        *pod_families(list(store.peek(PODS))),
        *workload_families(
            list(store.peek(DEPLOYMENTS)),
            list(store.peek(REPLICASETS)),
            list(store.peek(STATEFULSETS)),
            list(store.peek(DAEMONSETS)),
        ),
    ]
