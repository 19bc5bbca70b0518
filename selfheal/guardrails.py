"""What selfheal never changes, and which changes need a person: defined once.

Plain functions over plain data, importable by workflows: the incident applies them before it
proposes a change, the fix generator before it hands one out, and the Kubernetes activity
again before it sends one (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Collection

from selfheal.model.diagnosis import ActionKind, RemediationAction

PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
"""The cluster's own namespaces: never changed, whatever SELFHEAL_NAMESPACES says."""


def namespace_refusal(namespace: str, allowed: Collection[str]) -> str | None:
    """Why selfheal may not change anything in `namespace`, or None when it may."""
    if namespace in PROTECTED_NAMESPACES:
        return f"namespace {namespace} is never changed by selfheal (it belongs to the cluster)"
    if namespace not in allowed:
        listed = ", ".join(allowed) or "none"
        return (
            f"namespace {namespace} is not in SELFHEAL_NAMESPACES (allowed: {listed}); add it "
            "there to let selfheal change it"
        )
    return None


def is_destructive(action: RemediationAction, current_replicas: int | None = None) -> bool:
    """True when the action removes capacity or reverts code: pod deletion, a rollback, a
    scale-down (as a scale or as a patch of `spec.replicas`, when the current count is known).
    """
    if action.kind in {ActionKind.DELETE_PODS, ActionKind.ROLLBACK}:
        return True
    if action.kind == ActionKind.SCALE:
        wanted = action.replicas
    else:
        wanted = (action.patch.get("spec") or {}).get("replicas")
    if action.kind == ActionKind.SCALE and wanted == 0:
        return True
    return isinstance(wanted, int) and current_replicas is not None and wanted < current_replicas


def destructive_refusal(action: RemediationAction, allow_destructive: bool) -> str | None:
    """Why a destructive action may not reach the cluster with nobody deciding, or None."""
    if allow_destructive or not is_destructive(action):
        return None
    return f"{action.kind.value} is destructive and SELFHEAL_ALLOW_DESTRUCTIVE is off"
