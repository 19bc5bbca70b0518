"""The incident policy: the worker's settings an incident runs under, kept in its history."""

from __future__ import annotations

from selfheal.contracts.policy import LOAD_POLICY, PolicyRequest
from selfheal.contracts.spec import implements
from selfheal.model.policy import IncidentPolicy
from selfheal.settings import Settings


class PolicyActivities:
    """Hands each new incident the policy configured on the worker."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @implements(LOAD_POLICY)
    async def load_policy(self, request: PolicyRequest) -> IncidentPolicy:
        """Return the incident's policy: its namespace may override the approval policy, and
        the alert's `selfheal_mode` label may pick the mode."""
        return self._settings.incident_policy(request.alert.requested_mode, request.alert.namespace)
