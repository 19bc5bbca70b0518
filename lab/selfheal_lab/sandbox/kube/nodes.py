"""The sandbox cluster's nodes and the scheduler's fit check against them."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from selfheal_lab.sandbox.kube.quantity import cpu_millis, memory_mib
from selfheal_lab.sandbox.kube.store import Obj, now_rfc3339

NODE_NAMES = ("sandbox-worker", "sandbox-worker2", "sandbox-worker3")
NODE_CPU = "4"
NODE_MEMORY = "16Gi"
NODE_PODS = 110
FAILURE_ANNOTATION = "sandbox.selfheal.dev/failure"
"""Marks a Node the sandbox simulates a failure of (node_failures.py)."""


def _digest(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def _uuid(seed: str) -> str:
    return str(uuid.UUID(_digest(seed)[:32]))


def node_objects() -> list[Obj]:
    """Return the Node objects the sandbox cluster starts with."""
    stamp = now_rfc3339()
    nodes = []
    for index, name in enumerate(NODE_NAMES):
        capacity = {"cpu": NODE_CPU, "memory": NODE_MEMORY, "pods": str(NODE_PODS)}
        nodes.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                    },
                },
                "spec": {"podCIDR": f"10.244.{index + 1}.0/24"},
                "status": {
                    "capacity": capacity,
                    "allocatable": capacity,
                    "addresses": [
                        {"type": "InternalIP", "address": f"172.18.0.{index + 2}"},
                        {"type": "Hostname", "address": name},
                    ],
                    "conditions": [
                        {
                            "type": "Ready",
                            "status": "True",
                            "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": stamp,
                            "lastTransitionTime": stamp,
                        }
                    ],
                    "nodeInfo": {
                        # Every field the API marks required, so typed clients can read it.
                        "machineID": _digest(f"machine-{name}")[:32],
                        "systemUUID": _uuid(f"system-{name}"),
                        "bootID": _uuid(f"boot-{name}"),
                        "kernelVersion": "6.1.0-28-amd64",
                        "kubeProxyVersion": "",
                        "kubeletVersion": "v1.32.4",
                        "containerRuntimeVersion": "containerd://1.7.24",
                        "osImage": "Debian GNU/Linux 12 (bookworm)",
                        "operatingSystem": "linux",
                        "architecture": "amd64",
                    },
                },
            }
        )
    return nodes


def failure_of(node: Obj) -> str | None:
    """The failure a Node is marked with (`memory-pressure`, `not-ready`), if any."""
    return ((node.get("metadata") or {}).get("annotations") or {}).get(FAILURE_ANNOTATION)


def tolerates(pod: Obj, key: str, effect: str) -> tuple[bool, float | None]:
    """(whether the pod tolerates the taint, for how many seconds; None: forever)."""
    for toleration in (pod.get("spec") or {}).get("tolerations") or []:
        matches = toleration.get("key") in (key, None) and toleration.get("effect") in (
            effect,
            None,
        )
        if matches and (toleration.get("operator") == "Exists" or toleration.get("key") == key):
            seconds = toleration.get("tolerationSeconds")
            return True, None if seconds is None else float(seconds)
    return False, None


def untolerated_taint(pod: Obj, node: Obj) -> str | None:
    """The first NoSchedule/NoExecute taint of `node` the pod does not tolerate, if any."""
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not tolerates(pod, taint["key"], taint["effect"])[0]:
            return str(taint["key"])
    return None


@dataclass(frozen=True)
class Requests:
    cpu_millis: float = 0.0
    memory_mib: float = 0.0


def pod_requests(pod: Obj) -> Requests:
    """Return what a pod asks the scheduler for (a limit stands in for a missing request)."""
    cpu = memory = 0.0
    for container in pod.get("spec", {}).get("containers") or []:
        resources = container.get("resources") or {}
        wanted = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
        if "cpu" in wanted:
            cpu += cpu_millis(wanted["cpu"])
        if "memory" in wanted:
            memory += memory_mib(wanted["memory"])
    return Requests(cpu, memory)


def pinned_nodes(pod: Obj) -> set[str] | None:
    """Return the node names a required node affinity on `metadata.name` allows, or None.

    This is how a DaemonSet pins each of its pods to one node.
    """
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or {}
    names: set[str] | None = None
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            if field.get("key") == "metadata.name" and field.get("operator") == "In":
                names = (names or set()) | set(field.get("values") or [])
    return names


def choose_node(pod: Obj, nodes: list[Obj], bound: Iterable[Obj]) -> tuple[str | None, str]:
    """Return (node name, "") for the least loaded node that fits, or (None, scheduler message)."""
    used: dict[str, Requests] = {}
    counts: dict[str, int] = {}
    for other in bound:
        node = other.get("spec", {}).get("nodeName")
        if not node or other.get("status", {}).get("phase") in ("Succeeded", "Failed"):
            continue
        have, add = used.get(node, Requests()), pod_requests(other)
        used[node] = Requests(have.cpu_millis + add.cpu_millis, have.memory_mib + add.memory_mib)
        counts[node] = counts.get(node, 0) + 1
    want = pod_requests(pod)
    selector = pod.get("spec", {}).get("nodeSelector") or {}
    pinned = pinned_nodes(pod)
    reasons: dict[str, int] = {}
    fitting: list[tuple[float, str]] = []
    for node in nodes:
        name = node["metadata"]["name"]
        labels = node["metadata"].get("labels") or {}
        allocatable = node.get("status", {}).get("allocatable") or {}
        have = used.get(name, Requests())
        problems = []
        if any(labels.get(k) != v for k, v in selector.items()) or (
            pinned is not None and name not in pinned
        ):
            problems.append("node(s) didn't match Pod's node affinity/selector")
        taint = untolerated_taint(pod, node)
        if taint is not None:
            problems.append(f"node(s) had untolerated taint {{{taint}: }}")
        if want.cpu_millis + have.cpu_millis > cpu_millis(allocatable.get("cpu", "0")):
            problems.append("Insufficient cpu")
        if want.memory_mib + have.memory_mib > memory_mib(allocatable.get("memory", "0")):
            problems.append("Insufficient memory")
        if counts.get(name, 0) + 1 > int(allocatable.get("pods", NODE_PODS)):
            problems.append("Too many pods")
        for problem in problems:
            reasons[problem] = reasons.get(problem, 0) + 1
        if not problems:
            fitting.append((have.memory_mib + 10 * counts.get(name, 0), name))
    if fitting:
        return min(fitting)[1], ""
    total = len(nodes)
    detail = ", ".join(f"{count} {problem}" for problem, count in sorted(reasons.items()))
    return None, (
        f"0/{total} nodes are available: {detail}. preemption: 0/{total} nodes are available: "
        f"{total} No preemption victims found for incoming pod."
    )
