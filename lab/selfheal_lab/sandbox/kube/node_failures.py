"""Node failures the sandbox can be told to simulate: memory pressure and a stopped kubelet.

`PUT /sandbox/v1/nodes/<node>/failure {"failure": "memory-pressure" | "not-ready"}` marks the
Node with FAILURE_ANNOTATION; `DELETE` heals it. Each sync then does what the real parts do:

- **memory-pressure**: the kubelet reports `MemoryPressure=True` (KubeletHasInsufficientMemory),
  the node is tainted `node.kubernetes.io/memory-pressure:NoSchedule`, and the eviction
  manager evicts, one per sync, each pod whose working set exceeds its memory request
  (pkg/kubelet/eviction: such pods rank first), with its message and `Evicted` event;
- **not-ready**: the node lifecycle controller turns the node's conditions Unknown
  ("Kubelet stopped posting node status."), taints it `node.kubernetes.io/unreachable`,
  marks its pods not ready (Warning `NodeNotReady`, "Node is not ready"), and once a pod's
  unreachable toleration (300 s by default) runs out the taint-eviction controller marks it
  for deletion (`TaintManagerEviction`); the pod stays Terminating, as no kubelet confirms.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.images import Registry
from selfheal_lab.sandbox.kube.kubelet import Timing
from selfheal_lab.sandbox.kube.nodes import FAILURE_ANNOTATION, failure_of, tolerates
from selfheal_lab.sandbox.kube.quantity import memory_mib
from selfheal_lab.sandbox.kube.resources import NODES, PODS
from selfheal_lab.sandbox.kube.store import Obj, Store, now_rfc3339

FAILURES = ("memory-pressure", "not-ready")
PRESSURE_TAINT = "node.kubernetes.io/memory-pressure"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION_SECONDS = 300.0
EVICTION_THRESHOLD = "100Mi"
AVAILABLE = "83668Ki"


def set_failure(store: Store, node: str, failure: str | None) -> Obj:
    """Mark `node` with `failure`, or heal it (None); return the Node. 404/422 as ApiError."""
    if failure is not None and failure not in FAILURES:
        raise ApiError(422, "Invalid", f"failure must be one of {', '.join(FAILURES)}")
    store.get(NODES, "", node)

    def mark(obj: Obj) -> None:
        annotations = obj["metadata"].setdefault("annotations", {})
        if failure is None:
            annotations.pop(FAILURE_ANNOTATION, None)
        else:
            annotations[FAILURE_ANNOTATION] = failure

    marked = store.mutate(NODES, "", node, mark)
    assert marked is not None
    return marked


@dataclass
class NodeFailures:
    """Applies the failures marked on Nodes, once per sync."""

    store: Store
    events: EventRecorder
    registry: Registry
    timing: Timing = field(default_factory=Timing)
    _since: dict[str, float] = field(default_factory=dict)  # node -> when it went not ready

    def sync(self) -> None:
        """Bring every Node's conditions, taints and pods in line with its failure."""
        for node in self.store.peek(NODES):
            name, failure = node["metadata"]["name"], failure_of(node)
            self._write_node(node, failure)
            if failure == "memory-pressure":
                self._evict_one(node)
            if failure == "not-ready":
                since = self._since.setdefault(name, time.monotonic())
                self._unreachable_pods(name, time.monotonic() - since)
            else:
                if self._since.pop(name, None) is not None:
                    self._release_terminating(name)

    # ---- the Node --------------------------------------------------------------------

    def _write_node(self, node: Obj, failure: str | None) -> None:
        taints = _taints(failure)
        current = (node.get("spec") or {}).get("taints") or []
        ready = _condition_status(node, "Ready")
        pressure = _condition_status(node, "MemoryPressure")
        wanted_ready = "Unknown" if failure == "not-ready" else "True"
        wanted_pressure = "True" if failure == "memory-pressure" else "False"
        if [t["key"] for t in current] == [t["key"] for t in taints] and (
            ready,
            pressure,
        ) == (wanted_ready, wanted_pressure):
            return
        name = node["metadata"]["name"]
        if failure == "memory-pressure" and pressure != "True":
            self.events.record(
                node, "Warning", "EvictionThresholdMet", "Attempting to reclaim memory", "kubelet"
            )
        if failure == "not-ready" and ready != "Unknown":
            self.events.record(
                node,
                "Normal",
                "NodeNotReady",
                f"Node {name} status is now: NodeNotReady",
                "node-controller",
            )

        def write(obj: Obj) -> None:
            spec = obj.setdefault("spec", {})
            if taints:
                spec["taints"] = taints
            else:
                spec.pop("taints", None)
            status = obj.setdefault("status", {})
            status["conditions"] = _conditions(status.get("conditions") or [], failure)

        self.store.mutate(NODES, "", name, write)

    # ---- memory pressure: the eviction manager -----------------------------------------

    def _evict_one(self, node: Obj) -> None:
        name = node["metadata"]["name"]
        for pod in self.store.peek(PODS):
            if (pod.get("spec") or {}).get("nodeName") != name or not _running(pod):
                continue
            offender = self._over_request(pod)
            if offender is None:
                continue
            container, usage, request = offender
            message = (
                f"The node was low on resource: memory. Threshold quantity: {EVICTION_THRESHOLD}"
                f", available: {AVAILABLE}. Container {container} was using {usage}, request is "
                f"{request}, has larger consumption of memory. "
            )
            self._evict(pod, message)
            return  # the eviction manager evicts one pod per monitoring interval

    def _over_request(self, pod: Obj) -> tuple[str, str, str] | None:
        """(container, working set, request) of the first container using more than it asked."""
        for container in (pod.get("spec") or {}).get("containers") or []:
            image = self.registry.resolve(str(container.get("image", "")))
            if image is None:
                continue
            resources = container.get("resources") or {}
            request = (resources.get("requests") or {}).get("memory")
            if request is None or image.memory_mib > memory_mib(str(request)):
                return container["name"], f"{image.memory_mib}Mi", str(request or 0)
        return None

    def _evict(self, pod: Obj, message: str) -> None:
        meta = pod["metadata"]
        node = pod["spec"]["nodeName"]
        for container in pod["spec"].get("containers") or []:
            self.events.record(
                pod,
                "Normal",
                "Killing",
                f"Stopping container {container['name']}",
                "kubelet",
                host=node,
                field_path=f"spec.containers{{{container['name']}}}",
            )
        self.events.record(pod, "Warning", "Evicted", message, "kubelet", host=node)
        stamp = now_rfc3339()

        def evicted(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            status.update({"phase": "Failed", "reason": "Evicted", "message": message})
            for condition in status.get("conditions") or []:
                if condition.get("type") in ("Ready", "ContainersReady"):
                    condition.update(status="False", reason="PodFailed", lastTransitionTime=stamp)
            status["conditions"] = [
                *(status.get("conditions") or []),
                {
                    "type": "DisruptionTarget",
                    "status": "True",
                    "reason": "TerminationByKubelet",
                    "message": message.strip(),
                    "lastTransitionTime": stamp,
                },
            ]
            for container in status.get("containerStatuses") or []:
                running = (container.get("state") or {}).get("running") or {}
                container["ready"] = False
                container["started"] = False
                container["state"] = {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "Error",
                        "startedAt": running.get("startedAt", stamp),
                        "finishedAt": stamp,
                        "containerID": container.get("containerID", ""),
                    }
                }

        self.store.mutate(PODS, meta["namespace"], meta["name"], evicted)

    # ---- not ready: the node lifecycle and taint-eviction controllers -------------------

    def _unreachable_pods(self, node: str, down_for: float) -> None:
        for pod in self.store.peek(PODS):
            if (pod.get("spec") or {}).get("nodeName") != node or not _running(pod):
                continue
            meta = pod["metadata"]
            if _condition_status(pod, "Ready") == "True":
                self.events.record(
                    pod, "Warning", "NodeNotReady", "Node is not ready", "node-controller"
                )
                self.store.mutate(PODS, meta["namespace"], meta["name"], _mark_not_ready)
            tolerated, seconds = tolerates(pod, UNREACHABLE_TAINT, "NoExecute")
            limit = seconds if tolerated else 0.0
            if tolerated and seconds is None:
                continue  # a DaemonSet's pod tolerates it forever
            limit = DEFAULT_TOLERATION_SECONDS if limit is None else limit
            if meta.get("deletionTimestamp") or down_for < self.timing.wall(limit):
                continue
            self.events.record(
                pod,
                "Normal",
                "TaintManagerEviction",
                f"Marking for deletion Pod {meta['namespace']}/{meta['name']}",
                "taint-eviction-controller",
            )
            self.store.mutate(PODS, meta["namespace"], meta["name"], _mark_for_deletion)

    def _release_terminating(self, node: str) -> None:
        """The kubelet is back: it confirms the deletions it missed."""
        for pod in self.store.peek(PODS):
            meta = pod["metadata"]
            if (pod.get("spec") or {}).get("nodeName") == node and meta.get("deletionTimestamp"):
                with contextlib.suppress(ApiError):
                    self.store.delete(PODS, meta["namespace"], meta["name"])


def _running(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Running", "Pending")


def _condition_status(obj: Obj, kind: str) -> str | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return str(condition.get("status"))
    return None


def _taints(failure: str | None) -> list[dict[str, Any]]:
    stamp = now_rfc3339()
    if failure == "memory-pressure":
        return [{"key": PRESSURE_TAINT, "effect": "NoSchedule", "timeAdded": stamp}]
    if failure == "not-ready":
        return [
            {"key": UNREACHABLE_TAINT, "effect": "NoSchedule", "timeAdded": stamp},
            {"key": UNREACHABLE_TAINT, "effect": "NoExecute", "timeAdded": stamp},
        ]
    return []


def _conditions(current: list[dict[str, Any]], failure: str | None) -> list[dict[str, Any]]:
    stamp = now_rfc3339()
    if failure == "not-ready":
        return [
            {
                **condition,
                "status": "Unknown",
                "reason": "NodeStatusUnknown",
                "message": "Kubelet stopped posting node status.",
                "lastTransitionTime": stamp,
            }
            for condition in current
        ]
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
    }
    pressure = {
        "type": "MemoryPressure",
        "status": "True" if failure == "memory-pressure" else "False",
        "reason": "KubeletHasInsufficientMemory"
        if failure == "memory-pressure"
        else "KubeletHasSufficientMemory",
        "message": "kubelet has insufficient memory available"
        if failure == "memory-pressure"
        else "kubelet has sufficient memory available",
    }
    return [
        {**condition, "lastHeartbeatTime": stamp, "lastTransitionTime": stamp}
        for condition in (pressure, ready)
    ]


def _mark_not_ready(obj: Obj) -> None:
    stamp = now_rfc3339()
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            condition.update(status="False", lastTransitionTime=stamp)


def _mark_for_deletion(obj: Obj) -> None:
    stamp = now_rfc3339()
    obj["metadata"]["deletionTimestamp"] = stamp
    obj["metadata"]["deletionGracePeriodSeconds"] = 30
    conditions = obj.setdefault("status", {}).setdefault("conditions", [])
    conditions.append(
        {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint",
            "lastTransitionTime": stamp,
        }
    )
