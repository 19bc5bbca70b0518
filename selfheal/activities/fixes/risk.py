"""How much a proposal could hurt if it is wrong: by its kind, and by what it really changes."""

from __future__ import annotations

from selfheal.model.diagnosis import ActionKind, FixKind, FixProposal, RiskLevel

RISK = {
    FixKind.INCREASE_MEMORY: RiskLevel.LOW,
    FixKind.INCREASE_CPU: RiskLevel.LOW,
    FixKind.RELAX_PROBE: RiskLevel.LOW,
    FixKind.SCALE_UP: RiskLevel.LOW,
    FixKind.ROLLBACK_IMAGE: RiskLevel.MEDIUM,
    FixKind.RESTART: RiskLevel.MEDIUM,
    FixKind.NONE: RiskLevel.LOW,
}
"""Each fix kind's own risk: the least a proposal of that kind carries."""

_RISK_ORDER = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)
_MEDIUM_ACTIONS = frozenset({ActionKind.ROLLBACK, ActionKind.ROLLOUT_RESTART})
_CODE_FIELDS = frozenset({"image", "env"})


def assessed_risk(proposal: FixProposal) -> RiskLevel:
    """Return the proposal's risk judged by what it changes, never lower than its kind's.

    A proposal cannot lower its own risk by its label: a "memory increase" that also changes
    an image or env, restarts pods or rolls back is at least medium, and deleting pods is high,
    so the approval policy (SELFHEAL_AUTO_APPROVE=low-risk) sees what would really happen.
    """
    risks = [proposal.risk, RISK.get(proposal.kind, RiskLevel.HIGH)]
    action = proposal.action
    if action is not None and action.kind == ActionKind.DELETE_PODS:
        risks.append(RiskLevel.HIGH)
    elif action is not None and action.kind in _MEDIUM_ACTIONS:
        risks.append(RiskLevel.MEDIUM)
    for patch in (proposal.manifest_patch, action.patch if action else {}):
        template = (patch.get("spec") or {}).get("template") or {}
        containers = (template.get("spec") or {}).get("containers") or []
        touched = {key for c in containers if isinstance(c, dict) for key in c}
        if touched & _CODE_FIELDS or (template.get("metadata") or {}).get("annotations"):
            risks.append(RiskLevel.MEDIUM)
    return max(risks, key=_RISK_ORDER.index)
