"""The Kubernetes activity's own fence: the guardrails (selfheal/guardrails.py) once more,
right before a change is sent, as errors the workflow escalates with."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from selfheal.guardrails import is_destructive, namespace_refusal
from selfheal.model.diagnosis import RemediationAction
from selfheal.settings import Settings


def check_namespace(settings: Settings, namespace: str) -> None:
    """Raise NamespaceNotAllowed unless selfheal may change `namespace`."""
    refusal = namespace_refusal(namespace, settings.namespaces)
    if refusal is not None:
        raise ApplicationError(refusal, type="NamespaceNotAllowed", non_retryable=True)


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
