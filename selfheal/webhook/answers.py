"""What the webhook answers (docs/webhook.md, Answers), as documented response models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from selfheal.client.incidents import Delivery


class Accepted(Delivery):
    """202: the alert started or joined its incident.

    The top-level keys describe the payload's first alert; `incidents` has one entry per alert
    in the payload, in order (an Alertmanager group may carry several).
    """

    incidents: list[Delivery] = Field(default_factory=list)

    @classmethod
    def of(cls, deliveries: list[Delivery]) -> Accepted:
        """The answer for a payload whose alerts were delivered as `deliveries` (at least one)."""
        return cls(**deliveries[0].model_dump(), incidents=deliveries)


class Ignored(BaseModel):
    """202: the event was received and means nothing to selfheal (nothing was started)."""

    ignored: bool = True
    reason: str


class Pong(BaseModel):
    """200: answer to GitHub's `ping` event."""

    pong: bool = True
    hook_id: int | None = None


class Health(BaseModel):
    """Liveness and readiness: the process answers; `temporal` says whether Temporal does."""

    status: str = Field(description="ok, or unavailable when Temporal cannot be reached")
    temporal: str = Field(description="reachable or unreachable")


class ErrorAnswer(BaseModel):
    """4xx/5xx: what was wrong; for payload errors, the path of the bad field."""

    error: str
    field: str | None = None
    message: str | None = None
    errors: list[dict[str, Any]] | None = None
    retry_after: int | None = None


ERROR_ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorAnswer, "description": "Missing or wrong token or signature"},
    413: {"model": ErrorAnswer, "description": "Body over SELFHEAL_MAX_BODY_BYTES"},
    422: {"model": ErrorAnswer, "description": "Malformed JSON or a bad field, named in `field`"},
    503: {"model": ErrorAnswer, "description": "Temporal unreachable; retry after Retry-After s"},
}
