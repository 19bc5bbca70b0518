"""The Kubernetes activities: gather context, patch, watch the rollout, check health."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from selfheal.contracts.spec import ActivityCall
from selfheal.model.diagnosis import RemediationAction

MANIFEST_ANNOTATION = "selfheal.dev/manifest"
"""Deployment annotation naming its manifest's path in the GitOps repository."""


class ContextRequest(BaseModel):
    """Which workload's cluster context to gather."""

    incident_id: str
    cluster: str = Field(default="", description="Empty: the worker's own cluster")
    namespace: str
    workload: str
    log_tail_lines: int = Field(default=50, ge=0, le=2000)


class ClusterContext(BaseModel):
    """What the analysis reads, as raw objects exactly as `kubectl get -o yaml` prints them.

    Objects are camelCase dicts (the API's JSON). Secret and ConfigMap values are removed and
    env values redacted before this is built; logs are keyed `pod/container`.
    """

    cluster: str = Field(
        default="", description="The cluster it was read from; empty: not read live (a snapshot)"
    )
    namespace: str
    workload: str
    deployment: dict[str, Any] | None = None
    replicasets: list[dict[str, Any]] = Field(default_factory=list)
    pods: list[dict[str, Any]] = Field(default_factory=list)
    events: list[dict[str, Any]] = Field(default_factory=list)
    configmaps: list[dict[str, Any]] = Field(default_factory=list)
    secrets: list[dict[str, Any]] = Field(default_factory=list)
    logs: dict[str, str] = Field(default_factory=dict)
    previous_logs: dict[str, str] = Field(default_factory=dict)
    truncated: bool = Field(default=False, description="True when the size bound cut something")

    def manifest_path(self) -> str | None:
        """Where the Deployment says its manifest lives (`selfheal.dev/manifest`), if it says."""
        annotations = (self.deployment or {}).get("metadata", {}).get("annotations") or {}
        path = annotations.get(MANIFEST_ANNOTATION)
        return str(path) if path else None


class RemediationRequest(BaseModel):
    incident_id: str
    action: RemediationAction
    cluster: str = Field(default="", description="Empty: the worker's own cluster")


class RemediationResult(BaseModel):
    """What the Kubernetes activity changed, so a rollback knows where to return."""

    applied: bool
    description: str
    previous_revision: int | None = None
    revision: int | None = None


class RolloutRequest(BaseModel):
    incident_id: str
    cluster: str = Field(default="", description="Empty: the worker's own cluster")
    namespace: str
    deployment: str
    timeout: timedelta = timedelta(minutes=10)
    expected_template: dict[str, Any] | None = Field(
        default=None, description="Strategic-merge patch the running template must contain"
    )


class RolloutResult(BaseModel):
    complete: bool
    message: str
    revision: int | None = None


class HealthCheckRequest(BaseModel):
    incident_id: str
    cluster: str = Field(default="", description="Empty: the worker's own cluster")
    namespace: str
    deployment: str
    window: timedelta = timedelta(minutes=2)


class HealthReport(BaseModel):
    healthy: bool
    message: str
    ready_replicas: int = 0
    desired_replicas: int = 0
    restarts_during_window: int = 0


GATHER_CONTEXT = ActivityCall("gather_context", ClusterContext, timedelta(seconds=90))


APPLY_REMEDIATION = ActivityCall("apply_remediation", RemediationResult, timedelta(seconds=60))


WAIT_ROLLOUT = ActivityCall("wait_rollout", RolloutResult, timedelta(minutes=30))


VERIFY_HEALTH = ActivityCall("verify_health", HealthReport, timedelta(minutes=30))
