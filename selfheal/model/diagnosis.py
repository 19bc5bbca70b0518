"""What the analysis concluded and the fix it proposes, limited to safe fields."""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, computed_field


class DiagnosisCategory(StrEnum):
    """The closed vocabulary of failure classes."""

    OOM_KILLED = "oom_killed"
    CRASH_LOOP = "crash_loop"
    IMAGE_PULL = "image_pull"
    CONFIG_ERROR = "config_error"
    PROBE_FAILURE = "probe_failure"
    UNSCHEDULABLE = "unschedulable"
    REPLICA_SHORTAGE = "replica_shortage"
    DEPENDENCY_FAILURE = "dependency_failure"
    """The workload's logs say it cannot reach a dependency (DNS, refused, timeout, TLS, 5xx)."""
    EVICTED = "evicted"
    """The kubelet evicted pods to reclaim a node resource (memory, disk) that ran short."""
    QUOTA_EXCEEDED = "quota_exceeded"
    """The namespace's ResourceQuota or LimitRange refuses the pods."""
    ROLLOUT_STUCK = "rollout_stuck"
    """The rollout passed its progress deadline and no pod-level failure explains it."""
    STORAGE = "storage"
    """Pods held back by their volumes: an unbound or missing claim, attach or mount failures."""
    NODE_FAILURE = "node_failure"
    """Pods on a node that stopped responding (NotReady, unreachable, NodeLost)."""
    JOB_FAILED = "job_failed"
    """A Job (or a CronJob's newest Job) failed: its backoff limit or deadline was reached."""
    CPU_THROTTLING = "cpu_throttling"
    """Prometheus shows a container throttled at its CPU limit in a quarter of its periods."""
    UNKNOWN = "unknown"


class FixKind(StrEnum):
    """What a proposal changes; `none` means a person must act."""

    INCREASE_MEMORY = "increase_memory"
    INCREASE_CPU = "increase_cpu"
    ROLLBACK_IMAGE = "rollback_image"
    RESTART = "restart"
    SCALE_UP = "scale_up"
    RELAX_PROBE = "relax_probe"
    NONE = "none"


class RiskLevel(StrEnum):
    """How much a proposal could hurt if it is wrong."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Evidence(BaseModel):
    """One fact a diagnosis relied on, quoted from where it was read."""

    source: str = Field(description="Where it was read, e.g. pod/x status.containerStatuses[app]")
    detail: str = Field(description="The exact field value, event message or log line")


class TokenUsage(BaseModel):
    """Model tokens spent on an incident."""

    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def add(self, other: TokenUsage) -> TokenUsage:
        """Return the sum of both usages."""
        return TokenUsage(
            model_calls=self.model_calls + other.model_calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
        )


class ProbeHint(BaseModel):
    """A failing probe the rules can cure, and how it fails."""

    container: str
    probe: str = Field(description="liveness, readiness or startup")
    mode: str = Field(description="wrong_path, timeout or slow_start")
    good_path: str | None = Field(default=None, description="The path that answered before")


class FixHint(BaseModel):
    """What the analysis saw that a fix needs, so the fix does not read the cluster again."""

    probes: list[ProbeHint] = Field(default_factory=list)
    replicas_before: int | None = Field(
        default=None, description="The most replicas the workload ran before now"
    )
    memory_leak: list[str] = Field(
        default_factory=list,
        description="Containers whose working set grows steadily into their limit (metrics)",
    )


class Diagnosis(BaseModel):
    """What is wrong with a workload, with the evidence for it."""

    category: DiagnosisCategory
    summary: str
    fault_found: bool = Field(
        default=True, description="False when the workload is healthy: no fault to fix"
    )
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    containers: list[str] = Field(default_factory=list)
    suggested_fix: FixKind = FixKind.NONE
    recommendation: str = Field(
        default="", description="What a person should do, in one or two lines"
    )
    analyzer: str = Field(default="rules", description="rules, or the model that diagnosed it")
    usage: TokenUsage | None = None
    proposed_fix: FixProposal | None = Field(
        default=None, description="A model's own proposal, unchecked until fix generation"
    )
    hint: FixHint | None = Field(default=None, description="What the fix needs to know")


class ActionKind(StrEnum):
    """Direct actions on the cluster."""

    DELETE_PODS = "delete_pods"
    ROLLOUT_RESTART = "rollout_restart"
    SCALE = "scale"
    PATCH = "patch"
    ROLLBACK = "rollback"
    NONE = "none"


class RemediationAction(BaseModel):
    """One change to one workload, as the Kubernetes activity applies it."""

    kind: ActionKind
    namespace: str
    deployment: str = Field(
        description="The workload's name (a Deployment's, unless workload_kind says otherwise)"
    )
    patch: dict[str, Any] = Field(
        default_factory=dict, description="Strategic-merge patch of the workload (kind=patch)"
    )
    replicas: int | None = Field(default=None, ge=0, description="Target replicas (kind=scale)")
    revision: int | None = Field(default=None, ge=1, description="Rollout revision (kind=rollback)")
    pods: list[str] = Field(default_factory=list, description="Pods to delete (kind=delete_pods)")
    workload_kind: str = Field(
        default="Deployment", description="The kind of the workload `deployment` names"
    )


class FieldChange(BaseModel):
    """One field a fix changes, for people reading the proposal."""

    path: str = Field(description="e.g. spec.template.spec.containers[app].resources.limits.memory")
    before: str | None = None
    after: str | None = None


class FixLimits(BaseModel):
    """How far a fix may go; anything beyond is refused."""

    memory_multiplier: float = Field(default=2.0, gt=1.0)
    max_memory: str = "4Gi"
    cpu_multiplier: float = Field(default=2.0, gt=1.0)
    max_cpu: str = "4"
    max_replicas: int = Field(default=20, ge=1)
    max_probe_seconds: int = Field(default=600, ge=1)
    max_probe_timeout_seconds: int = Field(default=30, ge=1)
    max_failure_threshold: int = Field(default=60, ge=1)
    allow_delete_pods: bool = False


class FixProposal(BaseModel):
    """A fix limited to safe fields: a manifest patch (gitops) and the equivalent direct action."""

    kind: FixKind
    risk: RiskLevel
    rationale: str
    manifest_patch: dict[str, Any] = Field(
        default_factory=dict, description="Strategic-merge patch of the workload's manifest"
    )
    action: RemediationAction | None = None
    changes: list[FieldChange] = Field(default_factory=list)
    workload_kind: str = Field(
        default="Deployment", description="The kind of the workload the patch applies to"
    )

    @property
    def actionable(self) -> bool:
        """False when a person must act (kind `none` or nothing to change)."""
        return self.kind != FixKind.NONE and self.action is not None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def digest(self) -> str:
        """What identifies this proposal: a digest of what it would change, so a decision
        can name the proposal it was made on (a stale button, a retried incident)."""
        changed = {
            "kind": self.kind.value,
            "manifest_patch": self.manifest_patch,
            # Fields left at their defaults are left out, so a field added later (with a
            # default) does not change the digest of a proposal made before it.
            "action": self.action.model_dump(mode="json", exclude_defaults=True)
            if self.action
            else None,
        }
        canonical = json.dumps(changed, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


# Diagnosis refers to FixProposal, which is defined after it.
Diagnosis.model_rebuild()
