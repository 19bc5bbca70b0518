"""Overload: too few replicas for the traffic, seen as unready pods that say they are saturated.

Its probes time out or answer 503 because the application is shedding load; relaxing the
probe would hide that, and the cure is capacity. The application's own log must say it is
overloaded: a slow endpoint alone is a probe problem, not a capacity one.
"""

from __future__ import annotations

import re

from selfheal.activities.analysis.replica_shortage import replica_history
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixHint, FixKind

_OVERLOAD = re.compile(
    r"overload|saturat|shedding load|load shed|queue (?:is )?full|backlog"
    r"|(?:thread|worker|connection) pool exhausted"
    r"|too many (?:concurrent|in-?flight)|capacity exceeded|server busy",
    re.I,
)
# Apps that report their load as figures: "offered 200 rps, capacity 120 rps".
_OFFERED = re.compile(r"offered (\d+(?:\.\d+)?) ?rps\W+capacity (\d+(?:\.\d+)?) ?rps", re.I)
MAX_LINES = 3


def reports_overload(line: str) -> bool:
    """True when a log line says the application has more work than it can serve."""
    if _OVERLOAD.search(line):
        return True
    offered = _OFFERED.search(line)
    return offered is not None and float(offered[1]) > float(offered[2])


class Overload:
    """Unready or failing-probe pods whose logs report overload: replica shortage."""

    name = "overload"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        lines: list[Evidence] = []
        containers: set[str] = set()
        for status in view.containers:
            if status.ready or status.init:
                continue
            text = view.log(status.pod, status.name)
            matches = [line.strip() for line in text.splitlines() if reports_overload(line)]
            if matches:
                containers.add(status.name)
                lines += [
                    Evidence(source=f"logs/{status.pod}/{status.name}.txt", detail=line[:500])
                    for line in matches[-1:]
                ]
        if not containers:
            return None
        desired = view.desired_replicas
        available = view.status_count("availableReplicas")
        evidence = [
            Evidence(
                source=f"{view.ref} status",
                detail=f"replicas desired={desired} available={available}",
            ),
            *lines[:MAX_LINES],
        ]
        for pod, event in view.pod_events({"Unhealthy"})[:1]:
            evidence.append(view.event_evidence("Pod", pod, event))
        history = replica_history(view)
        summary = (
            f"{view.name} is overloaded: {desired} replica(s), {available} available, and the "
            "application reports saturation"
        )
        if history and history[0] > desired:
            evidence.append(history[1])
            summary += f"; it ran {history[0]} replicas before"
        return Diagnosis(
            category=DiagnosisCategory.REPLICA_SHORTAGE,
            summary=summary,
            evidence=evidence,
            confidence=0.8 if history and history[0] > desired else 0.65,
            containers=view.container_order(containers),
            suggested_fix=FixKind.SCALE_UP,
            hint=FixHint(replicas_before=history[0] if history else None),
            recommendation=(
                "Add replicas (and check an HorizontalPodAutoscaler's maxReplicas, if one "
                "manages this Deployment); then find what raised the traffic."
            ),
        )
