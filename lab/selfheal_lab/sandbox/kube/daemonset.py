"""The simulated DaemonSet controller.

One pod per schedulable node whose labels match the template's nodeSelector, pinned there by
a required node affinity on `metadata.name` (the scheduler then binds it, as since 1.12);
pod template history in ControllerRevisions; RollingUpdate replacing old pods while at most
`maxUnavailable` (default 1) nodes lack a ready daemon pod.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from selfheal_lab.sandbox.kube import defaults
from selfheal_lab.sandbox.kube.controllers import controlled_by, is_active, is_ready, owner_ref
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.kubelet import STATIC_ANNOTATION
from selfheal_lab.sandbox.kube.nodes import pinned_nodes
from selfheal_lab.sandbox.kube.pod_security import admit_pod
from selfheal_lab.sandbox.kube.resources import DAEMONSETS, NODES, PODS
from selfheal_lab.sandbox.kube.revisions import (
    HASH_LABEL,
    POD_REVISION_LABEL,
    current_revision,
    owned_revisions,
    prune,
)
from selfheal_lab.sandbox.kube.store import Obj, Store, random_suffix

CONTROLLER = "daemonset-controller"
TEMPLATE_GENERATION_LABEL = "pod-template-generation"

# The tolerations the DaemonSet controller adds to every daemon pod.
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


def eligible_nodes(daemon_set: Obj, nodes: Sequence[Obj]) -> list[str]:
    """Return the nodes a DaemonSet should run a pod on, by name."""
    template_spec = ((daemon_set.get("spec") or {}).get("template") or {}).get("spec") or {}
    selector = template_spec.get("nodeSelector") or {}
    names = []
    for node in nodes:
        labels = node["metadata"].get("labels") or {}
        if all(labels.get(k) == v for k, v in selector.items()):
            names.append(node["metadata"]["name"])
    return names


def _node_of(pod: Obj) -> str:
    bound = (pod.get("spec") or {}).get("nodeName")
    if bound:
        return str(bound)
    pinned = pinned_nodes(pod) or set()
    return next(iter(pinned), "")


def _available(pod: Obj) -> bool:
    return is_active(pod) and is_ready(pod)


def _static(pod: Obj) -> bool:
    return (pod["metadata"].get("annotations") or {}).get(STATIC_ANNOTATION) == "true"


@dataclass
class DaemonSetController:
    """Reconciles every DaemonSet in the store, one step per sync."""

    store: Store
    events: EventRecorder

    def sync(self) -> None:
        """Run one pass over every DaemonSet."""
        sets = self.store.peek(DAEMONSETS)
        if not sets:
            return
        pods = self.store.peek(PODS)
        nodes = self.store.peek(NODES)
        for daemon_set in sets:
            owned = [p for p in pods if controlled_by(p, daemon_set)]
            self._sync_set(daemon_set, owned, eligible_nodes(daemon_set, nodes))

    def _sync_set(self, ds: Obj, owned: list[Obj], nodes: list[str]) -> None:
        meta = ds["metadata"]
        revisions = owned_revisions(self.store, ds)
        update = current_revision(self.store, ds, revisions)
        if all(r["metadata"]["uid"] != update["metadata"]["uid"] for r in revisions):
            revisions.append(update)
        digest = (update["metadata"].get("labels") or {}).get(HASH_LABEL, "")
        per_node: dict[str, list[Obj]] = {}
        for pod in owned:
            per_node.setdefault(_node_of(pod), []).append(pod)
        for node in nodes:
            self._sync_node(ds, node, per_node.get(node, []), digest)
        for node, pods in per_node.items():
            if node not in nodes:
                for pod in pods:
                    if not _static(pod):
                        self._delete(ds, pod)
        self._roll(ds, nodes, per_node, digest)
        pods = [p for p in self.store.peek(PODS, meta["namespace"]) if controlled_by(p, ds)]
        self._write_status(ds, pods, nodes, digest)
        live = {(p["metadata"].get("labels") or {}).get(POD_REVISION_LABEL) for p in pods}
        keep = {
            r["metadata"]["name"]
            for r in revisions
            if (r["metadata"].get("labels") or {}).get(HASH_LABEL) in live
        }
        prune(self.store, ds, revisions, keep | {update["metadata"]["name"]})

    def _sync_node(self, ds: Obj, node: str, pods: list[Obj], digest: str) -> None:
        for pod in pods:
            if (pod.get("status") or {}).get("phase") == "Failed" and not _static(pod):
                self.events.record(
                    ds,
                    "Warning",
                    "FailedDaemonPod",
                    f"Found failed daemon pod {pod['metadata']['namespace']}/"
                    f"{pod['metadata']['name']} on node {node}, will try to kill it",
                    CONTROLLER,
                )
                self._delete(ds, pod)
        if not any(is_active(p) for p in pods):
            self._create_pod(ds, node, digest)

    def _roll(self, ds: Obj, nodes: list[str], per_node: dict[str, list[Obj]], digest: str) -> None:
        strategy = ds["spec"].get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        limit = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1)
        if isinstance(limit, str) and limit.endswith("%"):
            limit = math.ceil(len(nodes) * int(limit[:-1]) / 100)  # ceil, never below one
        budget = max(int(limit), 1)
        unavailable = sum(
            1 for node in nodes if not any(_available(p) for p in per_node.get(node, []))
        )
        old = [
            p
            for node in nodes
            for p in per_node.get(node, [])
            if is_active(p)
            and not _static(p)
            and (p["metadata"].get("labels") or {}).get(POD_REVISION_LABEL) != digest
        ]
        # An old pod that is not available costs nothing to replace; go for those first.
        old.sort(key=_available)
        for pod in old:
            if _available(pod):
                if unavailable >= budget:
                    return
                unavailable += 1
            self._delete(ds, pod)

    def _create_pod(self, ds: Obj, node: str, digest: str) -> None:
        meta, spec = ds["metadata"], ds["spec"]
        template = copy.deepcopy(spec.get("template") or {})
        pod_spec = template.get("spec") or {}
        pod_spec["affinity"] = {
            **(pod_spec.get("affinity") or {}),
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": [node]}
                            ]
                        }
                    ]
                }
            },
        }
        tolerations = list(pod_spec.get("tolerations") or [])
        tolerations += [t for t in DAEMON_TOLERATIONS if t not in tolerations]
        pod_spec["tolerations"] = tolerations
        pod_spec.setdefault("serviceAccountName", "default")
        pod_spec.setdefault("serviceAccount", "default")
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[POD_REVISION_LABEL] = digest
        labels[TEMPLATE_GENERATION_LABEL] = str(meta.get("generation", 1))
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{meta['name']}-{random_suffix()}",
                "namespace": meta["namespace"],
                "labels": labels,
                "ownerReferences": [owner_ref(ds)],
            },
            "spec": pod_spec,
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        annotations = (template.get("metadata") or {}).get("annotations")
        if annotations:
            pod["metadata"]["annotations"] = annotations
        defaults.pod(pod)
        try:
            admit_pod(self.store, pod)
            created = self.store.create(PODS, meta["namespace"], pod)
        except ApiError as exc:
            self.events.record(
                ds, "Warning", "FailedCreate", f"Error creating: {exc.message}", CONTROLLER
            )
            return
        self.events.record(
            ds,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {created['metadata']['name']}",
            CONTROLLER,
        )

    def _delete(self, ds: Obj, pod: Obj) -> None:
        with contextlib.suppress(ApiError):  # already gone
            self.store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
        self.events.record(
            ds, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", CONTROLLER
        )

    def _write_status(self, ds: Obj, pods: list[Obj], nodes: list[str], digest: str) -> None:
        meta = ds["metadata"]
        active = [p for p in pods if is_active(p)]
        on_wanted = [p for p in active if _node_of(p) in nodes]
        scheduled = {_node_of(p) for p in on_wanted if (p.get("spec") or {}).get("nodeName")}
        ready = {_node_of(p) for p in on_wanted if is_ready(p)}
        updated = {
            _node_of(p)
            for p in on_wanted
            if (p["metadata"].get("labels") or {}).get(POD_REVISION_LABEL) == digest
            and (p.get("spec") or {}).get("nodeName")
        }
        misscheduled = {_node_of(p) for p in active if _node_of(p) not in nodes}
        status: dict[str, Any] = {
            "observedGeneration": meta.get("generation", 1),
            "currentNumberScheduled": len(scheduled),
            "numberMisscheduled": len(misscheduled),
            "desiredNumberScheduled": len(nodes),
            "numberReady": len(ready),
            "updatedNumberScheduled": len(updated),
            "numberAvailable": len(ready),
            "numberUnavailable": len(nodes) - len(ready),
        }
        optional = ("updatedNumberScheduled", "numberAvailable", "numberUnavailable")
        status = {k: v for k, v in status.items() if v or k not in optional}

        def write(obj: Obj) -> None:
            obj["status"] = status

        if ds.get("status") != status:
            self.store.mutate(DAEMONSETS, meta["namespace"], meta["name"], write)
