"""Node failures: pods on a node that stopped responding, as the pods themselves show it.

The context holds no Node objects, but the controllers mark the pods:

- the node lifecycle controller's `MarkPodsNotReady` (pkg/controller/util/node) turns the
  pod's Ready condition False and records a Warning event `NodeNotReady`, "Node is not
  ready" (the containers' own statuses stay as the kubelet last reported them);
- older releases set `status.reason: NodeLost`, "Node <node> which was running pod <pod>
  is unresponsive";
- the taint-eviction controller (pkg/controller/tainteviction) deletes pods whose
  not-ready/unreachable toleration ran out: event `TaintManagerEviction`, "Marking for
  deletion Pod <namespace>/<pod>", condition DisruptionTarget with reason
  DeletionByTaintManager; on an unreachable node such a pod stays Terminating until the
  kubelet returns or the Node is deleted. Older controllers wrote `NodeControllerEviction`,
  "Marking for deletion Pod <pod> from Node <node>".

A pod counts while it is still affected: its Ready condition is False, its status says
NodeLost, or it still exists after being marked for deletion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.kube_objects import Obj, name_of
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

_NOT_READY = re.compile(r"^node is not ready$", re.IGNORECASE)
_MARKED = re.compile(r"^marking for deletion pod ", re.IGNORECASE)

_PARTS = {
    "lost": "reported NodeLost (the node is unresponsive)",
    "not_ready": "marked not ready by the node controller",
    "terminating": "stuck Terminating after eviction from the node",
}


@dataclass
class NodeTrouble:
    """The workload's pods on one unresponsive node, by how the controllers marked them."""

    node: str
    pods: dict[str, str] = field(default_factory=dict)
    """pod -> lost, not_ready or terminating."""
    evidence: list[Evidence] = field(default_factory=list)


def _how(view: WorkloadView, pod: Obj) -> tuple[str, list[Evidence]] | None:
    """Return how a pod shows its node failed, and the evidence, or None."""
    name = name_of(pod)
    status = pod.get("status") or {}
    if same(status.get("reason"), "NodeLost"):
        detail = (
            f"phase={status.get('phase', '')} reason=NodeLost message={status.get('message', '')}"
        )
        return "lost", [Evidence(source=f"pod/{name} status", detail=detail)]
    deleted = (pod.get("metadata") or {}).get("deletionTimestamp")
    marked = [
        e
        for e in view.events_for("Pod", name)
        if same(e.get("reason"), "TaintManagerEviction", "NodeControllerEviction")
        and _MARKED.search(view.event_message(e))
    ]
    disruption = view.pod_condition(pod, "DisruptionTarget")
    by_taint = same(disruption.get("reason"), "DeletionByTaintManager")
    if deleted and (marked or by_taint):
        evidence = [view.event_evidence("Pod", name, e) for e in marked[:1]]
        evidence.append(
            Evidence(source=f"pod/{name} metadata.deletionTimestamp", detail=str(deleted))
        )
        if by_taint:
            evidence.append(_condition_evidence(name, "DisruptionTarget", disruption))
        return "terminating", evidence
    ready = view.pod_condition(pod, "Ready")
    not_ready = [
        e
        for e in view.events_for("Pod", name)
        if same(e.get("reason"), "NodeNotReady") and _NOT_READY.match(view.event_message(e))
    ]
    if not_ready and same(ready.get("status"), "False", "Unknown"):
        return "not_ready", [
            view.event_evidence("Pod", name, not_ready[0]),
            _condition_evidence(name, "Ready", ready),
        ]
    return None


def _condition_evidence(pod: str, kind: str, condition: Obj) -> Evidence:
    parts = [f"status={condition.get('status')}"]
    parts += [
        f"{key}={condition[key]}"
        for key in ("reason", "message", "lastTransitionTime")
        if condition.get(key)
    ]
    return Evidence(source=f"pod/{pod} status.conditions[{kind}]", detail=" ".join(parts))


def node_troubles(view: WorkloadView) -> list[NodeTrouble]:
    """Return the unresponsive nodes the workload's pods are on, most pods first."""
    found: dict[str, NodeTrouble] = {}
    for pod in view.pods:
        how = _how(view, pod)
        if how is None:
            continue
        node = str((pod.get("spec") or {}).get("nodeName") or "?")
        trouble = found.setdefault(node, NodeTrouble(node))
        trouble.pods[name_of(pod)] = how[0]
        trouble.evidence += how[1]
    return sorted(found.values(), key=lambda trouble: -len(trouble.pods))


class NodeFailure:
    """Pods on a NotReady or unreachable node, as the node and taint controllers mark them."""

    name = "node_failure"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        troubles = node_troubles(view)
        if not troubles:
            return None
        main = troubles[0]
        nodes = [trouble.node for trouble in troubles]
        counts: dict[str, int] = {}
        for how in (how for trouble in troubles for how in trouble.pods.values()):
            counts[how] = counts.get(how, 0) + 1
        parts = [f"{counts[how]} pod(s) {_PARTS[how]}" for how in _PARTS if how in counts]
        available, desired = view.status_count("availableReplicas"), view.desired_replicas
        summary = f"Node {', '.join(nodes)} stopped responding: {'; '.join(parts)}"
        summary += f"; {available} of {desired} replicas available"
        evidence = [e for trouble in troubles for e in trouble.evidence][:5]
        evidence.append(
            Evidence(
                source=f"pod/{next(iter(main.pods))} spec.nodeName",
                detail=normalize(main.node),
            )
        )
        confidence = 0.85 if "not_ready" in counts else 0.8
        return Diagnosis(
            category=DiagnosisCategory.NODE_FAILURE,
            summary=summary,
            evidence=evidence,
            confidence=confidence,
            containers=[str(c.get("name")) for c in view.template_containers()],
            suggested_fix=FixKind.NONE,
            recommendation=(
                f"Check node {', '.join(nodes)} (kubectl describe node: its Ready condition "
                "and taints; then the kubelet and the machine behind it). Pods there are "
                "evicted once their not-ready/unreachable tolerations run out (300s by "
                "default) and recreated on other nodes; a pod stuck Terminating is released "
                "when the kubelet returns or the Node object is deleted. Spread replicas "
                "across nodes (topologySpreadConstraints, a PodDisruptionBudget) so one node "
                "cannot take the workload down."
            ),
        )
