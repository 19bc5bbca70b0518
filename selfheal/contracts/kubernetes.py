"""The Kubernetes activities: gather context, patch, watch the rollout, check health."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from selfheal.contracts.prometheus import WorkloadMetrics
from selfheal.contracts.spec import ActivityCall
from selfheal.model.alerts import WORKLOAD_KINDS
from selfheal.model.diagnosis import RemediationAction

MANIFEST_ANNOTATION = "selfheal.dev/manifest"
"""Workload annotation naming its manifest's path in the GitOps repository."""


class ContextRequest(BaseModel):
    """Which workload's cluster context to gather."""

    incident_id: str
    cluster: str = Field(default="", description="Empty: the worker's own cluster")
    namespace: str
    workload: str
    log_tail_lines: int = Field(default=50, ge=0, le=2000)
    # Added with every workload kind; the default keeps recorded payloads loading as they were.
    kind: str = Field(
        default="Deployment", description="The workload's kind: " + ", ".join(WORKLOAD_KINDS)
    )


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
    deployment: dict[str, Any] | None = Field(
        default=None, description="The Deployment, when the workload is one (else None)"
    )
    replicasets: list[dict[str, Any]] = Field(
        default_factory=list, description="The Deployment's ReplicaSets (by owner)"
    )
    pods: list[dict[str, Any]] = Field(default_factory=list)
    events: list[dict[str, Any]] = Field(default_factory=list)
    configmaps: list[dict[str, Any]] = Field(default_factory=list)
    secrets: list[dict[str, Any]] = Field(default_factory=list)
    logs: dict[str, str] = Field(default_factory=dict)
    previous_logs: dict[str, str] = Field(default_factory=dict)
    truncated: bool = Field(default=False, description="True when the size bound cut something")
    # Added for every workload kind; the defaults keep earlier payloads (Deployment only)
    # loading as they were.
    kind: str = Field(
        default="Deployment",
        description="The top-level workload's kind: " + ", ".join(WORKLOAD_KINDS),
    )
    controller: dict[str, Any] | None = Field(
        default=None,
        description="The top-level object when it is not a Deployment (StatefulSet, "
        "DaemonSet, Job, CronJob); None for a Deployment and for a bare Pod (in `pods`)",
    )
    jobs: list[dict[str, Any]] = Field(
        default_factory=list, description="A CronJob's Jobs, or the Job itself (by owner)"
    )
    controller_revisions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="A StatefulSet's or DaemonSet's ControllerRevisions: its template history",
    )
    persistent_volume_claims: list[dict[str, Any]] = Field(
        default_factory=list, description="The claims the pods mount, and a StatefulSet's own"
    )
    nodes: list[dict[str, Any]] = Field(
        default_factory=list, description="The nodes the pods run on (cluster-scoped)"
    )
    resource_quotas: list[dict[str, Any]] = Field(
        default_factory=list, description="The namespace's ResourceQuotas"
    )
    limit_ranges: list[dict[str, Any]] = Field(
        default_factory=list, description="The namespace's LimitRanges"
    )
    # Added with Prometheus; the default keeps earlier payloads and snapshots loading as they
    # were.
    metrics: WorkloadMetrics | None = Field(
        default=None,
        # Left out when unread, so a context without metrics serialises as it did before.
        exclude_if=lambda metrics: metrics is None,
        description="The workload's recent memory, CPU, throttling and restarts from "
        "Prometheus; None: not read (no Prometheus, or a snapshot without metrics/)",
    )

    def workload_object(self) -> dict[str, Any] | None:
        """The top-level object: the Deployment, the `controller`, or a bare Pod itself."""
        if self.kind == "Deployment":
            return self.deployment
        if self.kind == "Pod":
            return next(
                (pod for pod in self.pods if pod.get("metadata", {}).get("name") == self.workload),
                None,
            )
        return self.controller

    def manifest_path(self) -> str | None:
        """Where the workload says its manifest lives (`selfheal.dev/manifest`), if it says."""
        annotations = (self.workload_object() or {}).get("metadata", {}).get("annotations") or {}
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
    deployment: str = Field(
        description="The workload's name (of any kind, despite the field's name)"
    )
    timeout: timedelta = timedelta(minutes=10)
    expected_template: dict[str, Any] | None = Field(
        default=None, description="Strategic-merge patch the running template must contain"
    )
    kind: str = Field(
        default="Deployment", description="Deployment, StatefulSet, DaemonSet or CronJob"
    )


class RolloutResult(BaseModel):
    complete: bool
    message: str
    revision: int | None = None


class HealthCheckRequest(BaseModel):
    incident_id: str
    cluster: str = Field(default="", description="Empty: the worker's own cluster")
    namespace: str
    deployment: str = Field(
        description="The workload's name (of any kind, despite the field's name)"
    )
    window: timedelta = timedelta(minutes=2)
    kind: str = Field(
        default="Deployment", description="Deployment, StatefulSet, DaemonSet or CronJob"
    )


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
