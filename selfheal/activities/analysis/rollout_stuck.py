"""Rollout stuck: the Deployment gave up waiting for its new ReplicaSet, and no pod says why.

The deployment controller (pkg/controller/deployment/progress.go) sets the condition
`Progressing` to False with reason `ProgressDeadlineExceeded` and message
`ReplicaSet "<name>" has timed out progressing.` once progressDeadlineSeconds pass without
progress. The rules that read pods are asked first; what is left is usually admission
refusing the new pods: PodSecurity (`violates PodSecurity "restricted:latest": ...`) or a
validating webhook (`admission webhook "<name>" denied the request: ...`, or
`failed calling webhook "<name>": ...` when it cannot be reached).
"""

from __future__ import annotations

import re

from selfheal.activities.analysis.messages import normalize, same
from selfheal.activities.analysis.pod_refusals import Refusal, refusals
from selfheal.activities.analysis.workload import Revision, WorkloadView
from selfheal.model.diagnosis import Diagnosis, DiagnosisCategory, Evidence, FixKind

_I = re.IGNORECASE
_POD_SECURITY = re.compile(r"violates PodSecurity \"(?P<level>[^\"]+)\": (?P<detail>.+)", _I)
_DENIED = re.compile(
    r"admission webhook \"(?P<webhook>[^\"]+)\" denied the request(?::? (?P<why>.+))?", _I
)
_UNREACHABLE = re.compile(r"failed calling webhook \"(?P<webhook>[^\"]+)\"(?::? (?P<why>.+))?", _I)
_FORBIDDEN = re.compile(r"is forbidden: (?P<why>.+)", _I)


def _explain(refusal: Refusal) -> tuple[str, str]:
    """Return (why the pods are refused, what to do) for an admission refusal."""
    if match := _POD_SECURITY.search(refusal.message):
        return (
            f"PodSecurity {match['level']} refuses the new pod template: {match['detail']}",
            f"Make the pod template meet the namespace's PodSecurity level ({match['level']}), "
            f"which refuses: {match['detail']}.",
        )
    if match := _DENIED.search(refusal.message):
        why = f": {match['why']}" if match["why"] else ""
        return (
            f"admission webhook {match['webhook']} denies the new pods{why}",
            f"Change the pod template to satisfy the policy behind {match['webhook']}, or ask "
            "its owners for an exception.",
        )
    if match := _UNREACHABLE.search(refusal.message):
        return (
            f"admission webhook {match['webhook']} cannot be called: {match['why'] or ''}".strip(),
            f"Restore the webhook's service ({match['webhook']}); while it fails closed no pod "
            "can be created.",
        )
    forbidden = _FORBIDDEN.search(refusal.message)
    reason = forbidden["why"] if forbidden else refusal.message
    return (
        f"the API server refuses the new pods: {reason}",
        "Read the refusal and fix the policy or the pod template it rejects.",
    )


class RolloutStuck:
    """Progressing=False, ProgressDeadlineExceeded, that the pod-level rules did not explain."""

    name = "rollout_stuck"

    def diagnose(self, view: WorkloadView) -> Diagnosis | None:
        condition = view.deployment_condition("Progressing")
        if not (
            same(condition.get("status"), "False")
            and same(condition.get("reason"), "ProgressDeadlineExceeded")
        ):
            return None
        evidence = [
            Evidence(
                source=f"{view.ref} status.conditions[Progressing]",
                detail=f"status=False reason={condition.get('reason')} "
                f"message={condition.get('message', '')}",
            )
        ]
        current, previous = view.current_revision, view.previous_revision
        if current is not None:
            evidence.append(self._replicaset(current))
        found = sorted(refusals(view), key=lambda r: not r.evidence.source.startswith("event"))
        timed_out = normalize(condition.get("message")) or "the rollout timed out"
        serving = self._serving(previous)
        if found:
            why, advice = _explain(found[0])
            evidence += [refusal.evidence for refusal in found[:2]]
            summary, confidence = f"Rollout stuck: {why}", 0.9
        else:
            why = "no pod event or status explains it"
            advice = (
                "Read `kubectl rollout status` and the new ReplicaSet's pods and events "
                "(readiness gates, minReadySeconds, a paused rollout) for what holds it."
            )
            summary, confidence = f"Rollout stuck: {timed_out} ({why})", 0.6
        if serving and previous is not None:
            summary += f"; {serving}"
            evidence.append(view.revision_evidence(previous))
        if previous is not None:
            advice += f" `kubectl rollout undo` returns to revision {previous.number} meanwhile."
        return Diagnosis(
            category=DiagnosisCategory.ROLLOUT_STUCK,
            summary=summary,
            evidence=evidence,
            confidence=confidence,
            containers=[str(c.get("name")) for c in view.template_containers()],
            suggested_fix=FixKind.NONE,
            recommendation=advice,
        )

    @staticmethod
    def _replicaset(revision: Revision) -> Evidence:
        spec = revision.replicaset.get("spec") or {}
        status = revision.replicaset.get("status") or {}
        return Evidence(
            source=f"replicaset/{revision.name} status",
            detail=f"revision {revision.number}: replicas wanted={spec.get('replicas', 0)} "
            f"created={status.get('replicas', 0)} ready={status.get('readyReplicas', 0)}",
        )

    @staticmethod
    def _serving(previous: Revision | None) -> str:
        if previous is None or previous.ready_replicas == 0:
            return ""
        return f"revision {previous.number} still serves {previous.ready_replicas} ready pod(s)"
