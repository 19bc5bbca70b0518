"""scale_up: more replicas, back to what the workload ran before when its history says."""

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

SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet"})
"""Kinds with `spec.replicas`; a DaemonSet runs one pod per node, a Job its parallelism."""


def scale_up(diagnosis: Diagnosis, view: WorkloadView, limits: FixLimits) -> FixProposal:
    """Scale back to the replicas the workload ran before (the analysis' hint), else double."""
    if view.kind not in SCALABLE_KINDS:
        return no_fix(diagnosis, f"A {view.kind} has no replica count to scale.")
    desired = view.desired_replicas
    before = diagnosis.hint.replicas_before if diagnosis.hint else None
    wanted = before if before and before > desired else max(1, desired * 2)
    target = min(wanted, limits.max_replicas)
    if target <= desired:
        return no_fix(diagnosis, f"Replicas are already at {desired} (cap {limits.max_replicas}).")
    patch = {"spec": {"replicas": target}}
    source = f"it ran {before} before" if before and before > desired else "doubling"
    return FixProposal(
        kind=FixKind.SCALE_UP,
        risk=RISK[FixKind.SCALE_UP],
        rationale=f"{diagnosis.summary}. Scale from {desired} to {target} replicas ({source}; "
        f"cap {limits.max_replicas}).",
        manifest_patch=patch,
        action=RemediationAction(
            kind=ActionKind.SCALE,
            namespace=view.context.namespace,
            deployment=view.context.workload,
            replicas=target,
            workload_kind=view.kind,
        ),
        workload_kind=view.kind,
        changes=[FieldChange(path="spec.replicas", before=str(desired), after=str(target))],
    )
