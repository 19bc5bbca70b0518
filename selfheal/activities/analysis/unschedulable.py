"""Unschedulable pods: a full cluster (Insufficient cpu/memory) versus placement rules.

Pods the scheduler holds back for their volumes are storage's, asked first.
"""

from __future__ import annotations

import re

from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.kube_objects import Obj, name_of
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

_CAUSES: list[tuple[str, re.Pattern[str]]] = [
    ("capacity", re.compile(r"Insufficient [\w./-]+|Too many pods", re.I)),
    (
        "placement",
        re.compile(
            r"untolerated taint|had taint|didn't match Pod's node affinity|node\(s\) didn't match"
            r"|didn't match pod (?:anti-)?affinity|didn't satisfy existing pods anti-affinity"
            r"|node\(s\) were unschedulable|topology spread constraints",
            re.I,
        ),
    ),
]


def _requests(view: WorkloadView) -> str:
    parts = []
    for container in view.template_containers():
        requests = (container.get("resources") or {}).get("requests") or {}
        if requests:
            values = ", ".join(f"{key}={value}" for key, value in sorted(requests.items()))
            parts.append(f"{container.get('name')}: {values}")
    return "; ".join(parts) or "none set"


def _pending_unschedulable(pod: Obj) -> Obj | None:
    status = pod.get("status") or {}
    if not same(status.get("phase"), "Pending"):
        return None
    for condition in status.get("conditions") or []:
        if same(condition.get("type"), "PodScheduled") and same(condition.get("status"), "False"):
            return dict(condition)
    return None


class Unschedulable:
    """Pending pods the scheduler cannot place (FailedScheduling, PodScheduled=False)."""

    name = "unschedulable"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        pending = {name_of(pod): cond for pod in view.pods if (cond := _pending_unschedulable(pod))}
        if not pending:
            return None
        evidence: list[Evidence] = []
        messages: list[str] = []
        for pod, event in view.pod_events({"FailedScheduling"}):
            if pod in pending:
                messages.append(view.event_message(event))
                if len(evidence) < 2:
                    evidence.append(view.event_evidence("Pod", pod, event))
        for pod, condition in list(pending.items())[:1]:
            messages.append(normalize(condition.get("message")))
            evidence.append(
                Evidence(
                    source=f"pod/{pod} status.conditions[PodScheduled]",
                    detail=f"status=False reason={condition.get('reason', '')} "
                    f"message={condition.get('message', '')}",
                )
            )
        causes = [cause for cause, pattern in _CAUSES if any(pattern.search(m) for m in messages)]
        evidence.append(
            Evidence(
                source=f"{view.ref} {view.containers_path}[*].resources.requests",
                detail=_requests(view),
            )
        )
        reasons = sorted({m for m in messages if m})
        detail = reasons[0] if reasons else "no scheduler message"
        summary = f"{len(pending)} pod(s) cannot be scheduled: {detail}"
        if "capacity" in causes:
            recommendation = (
                "The cluster lacks free capacity for the pods' requests "
                f"({_requests(view)}): add nodes or let the cluster autoscaler grow, free "
                "capacity, or lower the requests if they are oversized."
            )
        elif "placement" in causes:
            recommendation = (
                "No node satisfies the pod's placement rules: fix the nodeSelector, affinity or "
                "tolerations, or label/untaint the nodes meant for this workload."
            )
        else:
            recommendation = "Read the scheduler's FailedScheduling message for the constraint."
        return Diagnosis(
            category=DiagnosisCategory.UNSCHEDULABLE,
            summary=summary,
            evidence=evidence,
            confidence=0.95 if causes else 0.8,
            containers=[str(c.get("name")) for c in view.template_containers()],
            suggested_fix=FixKind.NONE,
            recommendation=recommendation,
        )
