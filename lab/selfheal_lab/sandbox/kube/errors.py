"""API errors as the apiserver reports them: a `Status` object with code, reason and message."""

from __future__ import annotations

from typing import Any

from selfheal_lab.sandbox.kube.resources import ResourceType


def qualified(rtype: ResourceType) -> str:
    """Return how the apiserver names a resource in messages: `pods`, `deployments.apps`."""
    return f"{rtype.plural}.{rtype.group}" if rtype.group else rtype.plural


class ApiError(Exception):
    """A failed API call; `status()` is the body the apiserver would send."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body

    @classmethod
    def not_found(cls, rtype: ResourceType, name: str) -> ApiError:
        return cls(
            404,
            "NotFound",
            f'{qualified(rtype)} "{name}" not found',
            {"name": name, "group": rtype.group, "kind": rtype.plural},
        )

    @classmethod
    def namespace_not_found(cls, namespace: str) -> ApiError:
        return cls(
            404,
            "NotFound",
            f'namespaces "{namespace}" not found',
            {"name": namespace, "kind": "namespaces"},
        )

    @classmethod
    def already_exists(cls, rtype: ResourceType, name: str) -> ApiError:
        return cls(
            409,
            "AlreadyExists",
            f'{qualified(rtype)} "{name}" already exists',
            {"name": name, "group": rtype.group, "kind": rtype.plural},
        )

    @classmethod
    def conflict(cls, rtype: ResourceType, name: str) -> ApiError:
        return cls(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on {qualified(rtype)} "{name}": the object has been '
            "modified; please apply your changes to the latest version and try again",
            {"name": name, "group": rtype.group, "kind": rtype.plural},
        )

    @classmethod
    def invalid(cls, rtype: ResourceType, name: str, field: str, problem: str) -> ApiError:
        kind = f"{rtype.kind}.{rtype.group}" if rtype.group else rtype.kind
        return cls(
            422,
            "Invalid",
            f'{kind} "{name}" is invalid: {field}: {problem}',
            {
                "name": name,
                "group": rtype.group,
                "kind": rtype.kind,
                "causes": [{"reason": "FieldValueInvalid", "message": problem, "field": field}],
            },
        )

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)
