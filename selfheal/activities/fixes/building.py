"""What every fix kind builds a proposal from: patches of the pod template's containers,
quantities as Kubernetes writes them, and the `none` proposal when a person must act."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from selfheal.activities.analysis.workload import WorkloadView
from selfheal.activities.fixes.risk import RISK
from selfheal.contracts.kubernetes import ClusterContext
from selfheal.model.diagnosis import (
    ActionKind,
    Diagnosis,
    FieldChange,
    FixKind,
    FixProposal,
    RemediationAction,
    RiskLevel,
)

__all__ = ["format_cpu", "format_memory", "parse_quantity"]

_BINARY = {"Ti": 2**40, "Gi": 2**30, "Mi": 2**20, "Ki": 2**10}
_DECIMAL = {"T": 10**12, "G": 10**9, "M": 10**6, "k": 10**3}


def format_memory(amount: Decimal) -> str:
    """Return bytes as the largest exact binary quantity (`1536Mi`, `2Gi`), else decimal."""
    whole = int(amount.to_integral_value(rounding="ROUND_CEILING"))
    for suffixes in (_BINARY, _DECIMAL):
        for suffix, size in suffixes.items():
            if whole % size == 0:
                return f"{whole // size}{suffix}"
    return str(whole)


def format_cpu(amount: Decimal) -> str:
    """Return cores as whole cores (`2`) or millicores (`1500m`)."""
    millis = int((amount * 1000).to_integral_value(rounding="ROUND_CEILING"))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def template_patch(template: dict[str, Any], kind: str) -> dict[str, Any]:
    """Wrap a pod-template patch where the kind keeps its template (a CronJob's under
    `spec.jobTemplate.spec`)."""
    if kind == "CronJob":
        return {"spec": {"jobTemplate": {"spec": {"template": template}}}}
    return {"spec": {"template": template}}


def containers_patch(containers: dict[str, dict[str, Any]], view: WorkloadView) -> dict[str, Any]:
    """A strategic-merge patch of the pod template's containers (merged by name), in the
    template's order, at the path the workload's kind keeps its template."""
    order = [str(c.get("name")) for c in view.template_containers()]
    items = [{"name": name, **containers[name]} for name in order if name in containers]
    return template_patch({"spec": {"containers": items}}, view.kind)


def container_path(view: WorkloadView, container: str) -> str:
    """The field path of one template container, for a FieldChange."""
    return f"{view.containers_path}[{container}]"


def no_fix(diagnosis: Diagnosis, why: str) -> FixProposal:
    """The `none` proposal: a person must act, and why."""
    recommendation = diagnosis.recommendation or "A person must decide what to change."
    return FixProposal(
        kind=FixKind.NONE, risk=RiskLevel.LOW, rationale=f"{why} {recommendation}".strip()
    )


def patch_proposal(
    kind: FixKind,
    context: ClusterContext,
    patch: dict[str, Any],
    changes: list[FieldChange],
    rationale: str,
) -> FixProposal:
    """A proposal that patches the workload: the same patch in git and on the cluster."""
    return FixProposal(
        kind=kind,
        risk=RISK[kind],
        rationale=rationale,
        manifest_patch=patch,
        action=RemediationAction(
            kind=ActionKind.PATCH,
            namespace=context.namespace,
            deployment=context.workload,
            patch=patch,
            workload_kind=context.kind,
        ),
        changes=changes,
        workload_kind=context.kind,
    )


def targets(diagnosis: Diagnosis, view: WorkloadView) -> list[str]:
    """The containers a fix changes: those the diagnosis names, else all of them."""
    names = [str(c.get("name")) for c in view.template_containers()]
    chosen = [name for name in diagnosis.containers if name in names]
    return chosen or names
