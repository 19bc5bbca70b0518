"""restart: a rolling restart of the workload's pods."""

from __future__ import annotations

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.fixes.building import no_fix
from selfheal.activities.fixes.risk import RISK
from selfheal.model.diagnosis import (
    ActionKind,
    Diagnosis,
    FieldChange,
    FixKind,
    FixLimits,
    FixProposal,
    RemediationAction,
)

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
"""The pod-template annotation a rolling restart sets (as `kubectl rollout restart` does)."""


RESTARTABLE_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
"""Kinds `kubectl rollout restart` restarts by annotating their pod template."""


def restart(diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits) -> FixProposal:
    """A rolling restart of the workload's pods."""
    if view.kind not in RESTARTABLE_KINDS:
        return no_fix(diagnosis, f"A {view.kind} has no rolling restart.")
    # The snapshot's own latest time keeps the proposal deterministic for one context.
    moment = view.reference_time.isoformat() if view.reference_time else "selfheal"
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: moment}}}}}
    return FixProposal(
        kind=FixKind.RESTART,
        risk=RISK[FixKind.RESTART],
        rationale=f"{diagnosis.summary}. Restart the {view.kind}'s pods with a rolling restart.",
        manifest_patch=patch,
        action=RemediationAction(
            kind=ActionKind.ROLLOUT_RESTART,
            namespace=view.context.namespace,
            deployment=view.context.workload,
            workload_kind=view.kind,
        ),
        workload_kind=view.kind,
        changes=[
            FieldChange(path=f"spec.template.metadata.annotations[{RESTARTED_AT}]", after=moment)
        ],
    )
