"""Evicted pods: the kubelet killed them to reclaim a node resource that ran short.

An evicted pod keeps `status.phase: Failed, reason: Evicted` and the kubelet's message
(pkg/kubelet/eviction/helpers.go), e.g. "The node was low on resource: memory. Threshold
quantity: 100Mi, available: 80Mi. Container app was using 900Mi, request is 256Mi, has
larger consumption of memory. ", and the pod gets an `Evicted` event with the same text.
Evicted pods linger until they are garbage collected, so only an eviction within
ACTIVE_WINDOW of the snapshot is a live problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.kube_objects import Obj, name_of, parse_time
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

MAX_PODS_CITED = 2

_I = re.IGNORECASE
_LOW = re.compile(r"the node was low on resource: (?P<resource>[\w-]+)", _I)
_THRESHOLD = re.compile(
    r"threshold quantity: (?P<threshold>[^,\s]+), available: (?P<available>[^.\s]+)", _I
)
# "request is" since Kubernetes 1.25 or so; "which exceeds its request of" before.
_USING = re.compile(
    r"(?P<kind>container|pod) (?P<name>\S+) was using (?P<usage>[^,\s]+), "
    r"(?:request is (?P<request>[^,\s]+)|which exceeds its request of (?P<old_request>[^.\s]+))",
    _I,
)
_STORAGE_LIMIT = re.compile(
    r"container (?P<name>\S+) exceeded its local ephemeral storage limit \"(?P<limit>[^\"]+)\""
    r"|pod ephemeral local storage usage exceeds the total limit of containers (?P<total>\S+?)\.?$"
    r"|usage of emptydir volume \"(?P<volume>[^\"]+)\" exceeds the limit \"(?P<vlimit>[^\"]+)\"",
    _I,
)
_CONDITION = re.compile(r"the node had condition: \[?(?P<conditions>[^\].]+)\]?", _I)


@dataclass(frozen=True)
class Eviction:
    """One evicted pod and what the kubelet said about it."""

    pod: str
    node: str
    message: str
    raw: str

    @property
    def resource(self) -> str | None:
        match = _LOW.search(self.message)
        return match["resource"] if match else None

    @property
    def offenders(self) -> list[tuple[str, str, str]]:
        """(container, usage, request) for each container the kubelet named."""
        return [
            (m["name"], m["usage"], m["request"] or m["old_request"])
            for m in _USING.finditer(self.message)
            if m["kind"].lower() == "container"
        ]


def _against(request: str) -> str:
    return "with no request" if request in {"0", ""} else f"against a request of {request}"


def evicted_at(view: WorkloadView, pod: Obj) -> Any:
    """Return when a pod was evicted: its latest condition change, termination or event."""
    times: list[Any] = [
        condition.get("lastTransitionTime")
        for condition in (pod.get("status") or {}).get("conditions") or []
    ]
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        times.append(((status.get("state") or {}).get("terminated") or {}).get("finishedAt"))
    times += [view.event_time(e) for e in view.events_for("Pod", name_of(pod))]
    latest: tuple[datetime, Any] | None = None
    for value in times:
        moment = parse_time(value)
        if moment is not None and (latest is None or moment > latest[0]):
            latest = (moment, value)
    return latest[1] if latest else None


def is_evicted(pod: Obj) -> bool:
    """True when the kubelet evicted (or, under pressure, rejected) the pod."""
    status = pod.get("status") or {}
    return same(status.get("phase"), "Failed") and same(status.get("reason"), "Evicted")


def live_evictions(view: WorkloadView) -> list[Eviction]:
    """Return the workload's pods evicted within ACTIVE_WINDOW of the snapshot."""
    found = []
    for pod in view.pods:
        if not is_evicted(pod) or not view.is_recent(evicted_at(view, pod)):
            continue
        raw = str((pod.get("status") or {}).get("message") or "")
        events = view.events_for("Pod", name_of(pod))
        if not raw:
            evicted = [e for e in events if same(e.get("reason"), "Evicted")]
            raw = str(evicted[0].get("message") or "") if evicted else ""
        node = str((pod.get("spec") or {}).get("nodeName") or "?")
        found.append(Eviction(name_of(pod), node, normalize(raw), raw))
    return found


class Evicted:
    """Pods the kubelet evicted under node pressure (phase Failed, reason Evicted)."""

    name = "evicted"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        evictions = live_evictions(view)
        if not evictions:
            return None
        evidence: list[Evidence] = []
        for eviction in evictions[:MAX_PODS_CITED]:
            evidence.append(
                Evidence(
                    source=f"pod/{eviction.pod} status",
                    detail=f"phase=Failed reason=Evicted node={eviction.node} "
                    f"message={eviction.raw.strip()}",
                )
            )
        for pod, event in view.pod_events({"Evicted"})[:1]:
            evidence.append(view.event_evidence("Pod", pod, event))
        main = evictions[0]
        offenders = {
            name: (usage, request) for e in evictions for name, usage, request in e.offenders
        }
        for name in offenders:
            evidence.append(view.resources_evidence(name))

        nodes = sorted({e.node for e in evictions})
        available, desired = view.status_count("availableReplicas"), view.desired_replicas
        summary = (
            f"{len(evictions)} pod(s) evicted by the kubelet from node {', '.join(nodes)}: "
            + self._cause(main)
        )
        if available < desired:
            summary += f"; {available} of {desired} replicas available"
        containers = view.container_order(set(offenders)) or [
            str(c.get("name")) for c in view.template_containers()
        ]
        return Diagnosis(
            category=DiagnosisCategory.EVICTED,
            summary=summary,
            evidence=evidence,
            confidence=0.9 if main.resource or offenders else 0.8,
            containers=containers,
            suggested_fix=FixKind.NONE,
            recommendation=self._advice(main, nodes),
        )

    @staticmethod
    def _cause(eviction: Eviction) -> str:
        storage = _STORAGE_LIMIT.search(eviction.message)
        if storage and storage["name"]:
            return (
                f"container {storage['name']} exceeded its ephemeral-storage limit "
                f"{storage['limit']}"
            )
        if storage and storage["volume"]:
            return f"emptyDir {storage['volume']} exceeded its limit {storage['vlimit']}"
        if storage:
            return f"the pod's ephemeral storage exceeded its total limit {storage['total']}"
        condition = _CONDITION.search(eviction.message)
        if condition and not eviction.resource:
            return f"rejected while the node had {condition['conditions'].strip()}"
        cause = f"the node ran low on {eviction.resource or 'a resource'}"
        threshold = _THRESHOLD.search(eviction.message)
        if threshold:
            cause += f" (available {threshold['available']}, threshold {threshold['threshold']})"
        for name, usage, request in eviction.offenders[:1]:
            cause += f"; container {name} used {usage} {_against(request)}"
        return cause

    @staticmethod
    def _advice(eviction: Eviction, nodes: list[str]) -> str:
        node = ", ".join(nodes)
        check = (
            f"Check node {node} itself (kubectl describe node: other pods' usage, system "
            "daemons) for why it came under pressure."
        )
        if _STORAGE_LIMIT.search(eviction.message):
            return (
                "The pod writes more to the node's disk than its ephemeral-storage limit allows: "
                "find what fills it (logs, temp files, an emptyDir), write it to a volume, or "
                "raise the limit if the usage is expected."
            )
        condition = _CONDITION.search(eviction.message)
        if condition and not eviction.resource:
            return (
                f"The kubelet refuses new pods while the node has {condition['conditions']}; "
                f"the pod is recreated elsewhere, but the node needs a person. {check}"
            )
        for name, usage, request in eviction.offenders[:1]:
            return (
                f"{name} used {usage} {_against(request)}, so the kubelet evicted it first when "
                f"node {node} ran short of {eviction.resource or 'a resource'}: set its "
                "request near its real usage so the scheduler reserves room for it (with a "
                f"bounded limit). {check}"
            )
        return f"Node {node} ran short of {eviction.resource or 'a resource'}. {check}"
