"""What selfheal refuses to change, whatever the proposal says (docs/security.md)."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from selfheal.domain import ActionKind, RemediationAction
from selfheal.settings import Settings

PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


def check_namespace(settings: Settings, namespace: str) -> None:
    """Raise NamespaceNotAllowed unless selfheal may change `namespace`."""
    if namespace in PROTECTED_NAMESPACES:
        raise ApplicationError(
            f"namespace {namespace} belongs to the cluster itself; selfheal never changes it",
            type="NamespaceNotAllowed",
            non_retryable=True,
        )
    if namespace not in settings.namespaces:
        allowed = ", ".join(settings.namespaces) or "none"
        raise ApplicationError(
            f"namespace {namespace} is not in SELFHEAL_NAMESPACES (allowed: {allowed}); "
            "add it there to let selfheal change it",
            type="NamespaceNotAllowed",
            non_retryable=True,
        )


def is_destructive(action: RemediationAction, current_replicas: int | None) -> bool:
    """True when the action removes capacity or reverts code: pod deletion, rollback, scale-down.

    A scale-down is one whether it comes as a scale or as a patch of `spec.replicas`.
    """
    if action.destructive:
        return True
    if action.kind == ActionKind.SCALE:
        wanted = action.replicas
    else:
        wanted = (action.patch.get("spec") or {}).get("replicas")
    return isinstance(wanted, int) and current_replicas is not None and wanted < current_replicas


def check_destructive(
    settings: Settings, action: RemediationAction, current_replicas: int | None
) -> None:
    """Raise DestructiveActionDisabled for destructive actions unless they are allowed."""
    if is_destructive(action, current_replicas) and not settings.allow_destructive:
        raise ApplicationError(
            f"{action.kind.value} on deployment {action.namespace}/{action.deployment} is "
            "destructive and SELFHEAL_ALLOW_DESTRUCTIVE is off; a person must apply it "
            "or enable destructive actions",
            type="DestructiveActionDisabled",
            non_retryable=True,
        )
