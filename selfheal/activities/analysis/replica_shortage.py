"""Replica shortage: fewer replicas than wanted with no failing pod to blame.

Either admission refuses the ReplicaSet's pods (quota refusals are quota_exceeded, asked
first), or the Deployment itself was scaled below what it ran before. An alert alone never
justifies scaling: the shortage must be visible in the Deployment's own history.
"""

from __future__ import annotations

import re

from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.workload import WorkloadView
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixHint, FixKind

_REFUSED = re.compile(r"forbidden|denied the request|admission webhook", re.I)


# Both wordings the deployment controller has used: "... to 1 from 3" and "... from 3 to 1".
_SCALED_DOWN = re.compile(
    r"scaled down replica set \S+ "
    r"(?:to (?P<to>\d+) from (?P<from>\d+)|from (?P<from2>\d+) to (?P<to2>\d+))",
    re.I,
)


def replica_history(view: WorkloadView) -> tuple[int, Evidence] | None:
    """Return the most replicas the Deployment ran with before now, and where that was read.

    Sources: the desired-replicas annotation the controller leaves on earlier revisions,
    and the Deployment's "Scaled down replica set" events.
    """
    found: list[tuple[int, Evidence]] = []
    for revision in view.revisions[:-1]:
        if revision.desired_replicas:
            found.append(
                (
                    revision.desired_replicas,
                    Evidence(
                        source=f"replicaset/{revision.name} metadata.annotations"
                        "[deployment.kubernetes.io/desired-replicas]",
                        detail=f"{revision.desired_replicas} (revision {revision.number})",
                    ),
                )
            )
    for event in view.deployment_events({"ScalingReplicaSet"}):
        match = _SCALED_DOWN.search(view.event_message(event))
        if match:
            before = int(match.group("from") or match.group("from2"))
            found.append((before, view.event_evidence("Deployment", view.name, event)))
    return max(found, key=lambda item: item[0]) if found else None


def previous_desired_replicas(view: WorkloadView) -> int | None:
    """Return the most replicas the Deployment ran with before now, if its history says."""
    history = replica_history(view)
    return history[0] if history else None


REPLICATED_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
"""Kinds that keep a number of pods running; a Job's finished pods are no shortage."""


class ReplicaShortage:
    """Available < desired without pod failures, or desired scaled below its own history."""

    name = "replica_shortage"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        if not view.top or view.kind not in REPLICATED_KINDS:
            return None
        desired = view.desired_replicas
        available = view.status_count("availableReplicas")
        containers = [str(c.get("name")) for c in view.template_containers()]
        status = Evidence(
            source=f"{view.ref} status",
            detail=f"replicas desired={desired} available={available} "
            f"ready={view.status_count('readyReplicas')} "
            f"updated={view.status_count('updatedReplicas')}",
        )
        if available < desired:
            return self._cannot_create(view, desired, available, status, containers)
        history = replica_history(view)
        if history is None:
            return None
        before, cited = history
        if desired >= before or (desired > 0 and view.alert is None):
            return None
        evidence = [status, cited]
        if view.alert is not None:
            evidence.append(Evidence(source=f"alert {view.alert.name}", detail=view.alert.summary))
        return Diagnosis(
            category=DiagnosisCategory.REPLICA_SHORTAGE,
            summary=f"{view.kind} {view.name} runs {desired} replica(s), down from {before}",
            evidence=evidence,
            confidence=0.6 if desired else 0.75,
            containers=containers,
            suggested_fix=FixKind.SCALE_UP,
            hint=FixHint(replicas_before=before),
            recommendation=(
                f"Scale back to {before} replicas if the reduction was not intended; if an "
                "HorizontalPodAutoscaler manages this Deployment, raise its minReplicas instead."
            ),
        )

    def _cannot_create(
        self,
        view: WorkloadView,
        desired: int,
        available: int,
        status: Evidence,
        containers: list[str],
    ) -> Diagnosis | None:
        """Diagnose missing pods; None when the pods exist and something else ails them."""
        evidence = [status]
        refusals = [
            (kind, creator, event)
            for kind, creator, event in view.creator_events({"FailedCreate"})
            if view.event_is_recent(event)
        ]
        condition = view.deployment_condition("ReplicaFailure")
        messages = [view.event_message(event) for _, _, event in refusals]
        if same(condition.get("status"), "True"):
            messages.append(normalize(condition.get("message")))
            evidence.append(
                Evidence(
                    source=f"{view.ref} status.conditions[ReplicaFailure]",
                    detail=f"reason={condition.get('reason', '')} "
                    f"message={condition.get('message', '')}",
                )
            )
        for kind, creator, event in refusals[:2]:
            evidence.append(view.event_evidence(kind, creator, event))
        if any(_REFUSED.search(message) for message in messages):
            return Diagnosis(
                category=DiagnosisCategory.REPLICA_SHORTAGE,
                summary=f"Only {available} of {desired} replicas available: the ReplicaSet "
                "is refused by admission",
                evidence=evidence,
                confidence=0.9,
                containers=containers,
                suggested_fix=FixKind.NONE,
                recommendation="Read the admission refusal and fix the policy or the pod "
                "template it rejects.",
            )
        if len(view.pods) >= desired:
            return None
        progressing = view.deployment_condition("Progressing")
        if progressing:
            evidence.append(
                Evidence(
                    source=f"{view.ref} status.conditions[Progressing]",
                    detail=f"status={progressing.get('status')} "
                    f"reason={progressing.get('reason', '')} "
                    f"message={progressing.get('message', '')}",
                )
            )
        return Diagnosis(
            category=DiagnosisCategory.REPLICA_SHORTAGE,
            summary=f"Only {available} of {desired} replicas available and only {len(view.pods)} "
            "pod(s) exist, with no failing container to explain it",
            evidence=evidence,
            confidence=0.5,
            containers=containers,
            suggested_fix=FixKind.NONE,
            recommendation=(
                "Check the ReplicaSet's events and the nodes the missing pods ran on "
                "(evictions, node failures, a stuck rollout)."
            ),
        )
