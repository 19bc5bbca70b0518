"""The incident's vocabulary: every model the workflow, activities and starters exchange.

Workflows import this module through `workflow.unsafe.imports_passed_through()`; everything
here is plain data (pydantic models and string enums) with no I/O.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MODE_LABEL = "selfheal_mode"
"""Alert label that overrides the remediation mode for one incident."""

MANIFEST_ANNOTATION = "selfheal.dev/manifest"
"""Deployment annotation naming its manifest's path in the GitOps repository."""


class IncidentState(StrEnum):
    """Where an incident stands; the value is what the Temporal UI shows."""

    RECEIVED = "RECEIVED"
    ANALYZING = "ANALYZING"
    FIXING = "FIXING"
    AWAITING_REVIEW = "AWAITING_REVIEW"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    DEPLOYING = "DEPLOYING"
    VERIFYING = "VERIFYING"
    RESOLVED = "RESOLVED"
    ESCALATED = "ESCALATED"


HUMAN_WAIT_STATES = frozenset(
    {IncidentState.AWAITING_REVIEW, IncidentState.AWAITING_APPROVAL, IncidentState.ESCALATED}
)


class RemediationMode(StrEnum):
    """How a fix reaches the cluster."""

    GITOPS = "gitops"
    DIRECT = "direct"
    OBSERVE = "observe"


class AutoApprovePolicy(StrEnum):
    """Which proposals may skip the human (SELFHEAL_AUTO_APPROVE)."""

    NEVER = "never"
    LOW_RISK = "low-risk"
    ALWAYS = "always"


class DiagnosisCategory(StrEnum):
    """The closed vocabulary of failure classes."""

    OOM_KILLED = "oom_killed"
    CRASH_LOOP = "crash_loop"
    IMAGE_PULL = "image_pull"
    CONFIG_ERROR = "config_error"
    PROBE_FAILURE = "probe_failure"
    UNSCHEDULABLE = "unschedulable"
    REPLICA_SHORTAGE = "replica_shortage"
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


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class AlertSource(StrEnum):
    ALERTMANAGER = "alertmanager"
    PAGERDUTY = "pagerduty"
    JIRA = "jira"
    GENERIC = "generic"


RESOLVING_SOURCES = frozenset({AlertSource.ALERTMANAGER, AlertSource.PAGERDUTY})
"""Senders that always say when an alert has resolved: their alerts are waited for."""


def _slug(text: str, limit: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-") or "unknown"


class WorkloadRef(BaseModel):
    """One workload on one cluster: what an incident is about, whatever alerts name it."""

    model_config = ConfigDict(frozen=True)

    cluster: str
    namespace: str = ""
    kind: str = "Deployment"
    name: str

    @property
    def key(self) -> str:
        """`cluster/namespace/kind/name`: the workload's identity."""
        return "/".join([self.cluster, self.namespace, self.kind, self.name])

    @property
    def digest(self) -> str:
        """Hex digest of the identity, for ids that must stay short and lower case."""
        return hashlib.sha256(self.key.encode()).hexdigest()

    @property
    def workflow_id(self) -> str:
        """`workload-<name>-<8 hex>`: the id of the workload's WorkloadWorkflow."""
        return f"workload-{_slug(self.name, 60)}-{self.digest[:8]}"

    def incident_id(self, run_id: str, sequence: int) -> str:
        """`inc-<name>-<8 hex>`: the id of the `sequence`-th incident that the run `run_id` of
        the workload's workflow opens.

        Derived from the run, so an id is never reused, even after that workflow has ended
        and a later alert starts it afresh.
        """
        seed = f"{self.key}\x1f{run_id}\x1f{sequence}"
        return f"inc-{_slug(self.name, 60)}-{hashlib.sha256(seed.encode()).hexdigest()[:8]}"

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{where} on {self.cluster}"


UNMAPPED_KIND = "Unmapped"
"""The kind of an alert that names no workload: it is an incident of its own alert name."""


class Alert(BaseModel):
    """One alert about one Kubernetes workload, from any source: selfheal's Alert JSON."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=200, description="Alert name, e.g. KubePodCrashLooping"
    )
    source: AlertSource = AlertSource.GENERIC
    status: AlertStatus = AlertStatus.FIRING
    cluster: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The cluster it is about; unset: the worker's own (SELFHEAL_CLUSTER)",
    )
    namespace: str | None = Field(default=None, max_length=253)
    workload: str | None = Field(
        default=None, max_length=253, description="Deployment name; None when the alert names none"
    )
    reason: str | None = Field(
        default=None, max_length=100, description="Short machine reason; defaults to the alert name"
    )
    severity: str = Field(default="warning", max_length=50)
    summary: str = Field(default="", max_length=4000)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime | None = None
    external_id: str | None = Field(
        default=None, max_length=200, description="The sender's own id (PagerDuty incident, ...)"
    )
    ticket_key: str | None = Field(
        default=None, max_length=50, description="JIRA issue this alert came from, if any"
    )

    def on_cluster(self, default_cluster: str) -> Alert:
        """This alert with its cluster filled in: an alert naming none is about the default."""
        return self if self.cluster else self.model_copy(update={"cluster": default_cluster})

    @property
    def target(self) -> WorkloadRef:
        """The workload the alert is about; an unmapped alert is a target of its own name."""
        cluster = self.cluster or "default"
        if self.workload and self.namespace:
            return WorkloadRef(cluster=cluster, namespace=self.namespace, name=self.workload)
        return WorkloadRef(
            cluster=cluster,
            namespace=self.namespace or "",
            kind=UNMAPPED_KIND,
            name=f"unmapped-{self.name}",
        )

    @property
    def key(self) -> str:
        """Which alert this is, so its resolved notice finds its firing one: the sender's id
        (Alertmanager fingerprint, PagerDuty incident) or else its name."""
        return f"{self.source.value}:{self.external_id or self.name}"

    @property
    def requested_mode(self) -> RemediationMode | None:
        """The mode named by the `selfheal_mode` label, if it names a valid one."""
        value = self.labels.get(MODE_LABEL, "").strip().lower()
        try:
            return RemediationMode(value) if value else None
        except ValueError:
            return None


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
    """One change to one Deployment, as the Kubernetes activity applies it."""

    kind: ActionKind
    namespace: str
    deployment: str
    patch: dict[str, Any] = Field(
        default_factory=dict, description="Strategic-merge patch of the Deployment (kind=patch)"
    )
    replicas: int | None = Field(default=None, ge=0, description="Target replicas (kind=scale)")
    revision: int | None = Field(default=None, ge=1, description="Rollout revision (kind=rollback)")
    pods: list[str] = Field(default_factory=list, description="Pods to delete (kind=delete_pods)")


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
        default_factory=dict, description="Strategic-merge patch of the Deployment manifest"
    )
    action: RemediationAction | None = None
    changes: list[FieldChange] = Field(default_factory=list)

    @property
    def actionable(self) -> bool:
        """False when a person must act (kind `none` or nothing to change)."""
        return self.kind != FixKind.NONE and self.action is not None


class Approval(BaseModel):
    """A person approves the proposed fix (signal and update `approve`)."""

    by: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=4000)


class Rejection(BaseModel):
    """A person rejects the proposed fix (signal and update `reject`)."""

    by: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=4000)


class RetryRequest(BaseModel):
    """A person sends an ESCALATED incident back to analysis (signal `retry`)."""

    by: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=4000)


class ManualResolution(BaseModel):
    """A person closes an ESCALATED incident by hand (signal `resolve`)."""

    by: str = Field(min_length=1, max_length=200)
    note: str = Field(default="", max_length=4000)


class PullRequestAction(StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    MERGED = "merged"
    CLOSED = "closed"


class PullRequestEvent(BaseModel):
    """Something happened to the incident's pull request (signal `pr_event`)."""

    action: PullRequestAction
    number: int
    by: str = ""
    url: str = ""
    comment: str = ""


class TimelineEntry(BaseModel):
    """One transition or decision, with when and why."""

    at: datetime
    state: IncidentState
    note: str
    by: str | None = None


class ApprovalRecord(BaseModel):
    """An approval or rejection as received, and whether it counted."""

    at: datetime
    by: str
    decision: str = Field(description="approve or reject")
    comment: str = ""
    accepted: bool
    note: str = ""


class AlertTrack(BaseModel):
    """One distinct alert of an incident: what it is called, who sent it, does it still fire."""

    name: str
    source: AlertSource
    firing: bool
    count: int = Field(default=1, description="Notifications of it received")


class IncidentStatus(BaseModel):
    """Everything a person needs to know about an incident (query `status`)."""

    id: str
    state: IncidentState = IncidentState.RECEIVED
    mode: RemediationMode = RemediationMode.GITOPS
    service: str = ""
    namespace: str = ""
    cluster: str = ""
    severity: str = ""
    reason: str = ""
    alert_name: str = ""
    summary: str = ""
    alert_count: int = 0
    alert_firing: bool = Field(default=True, description="True while any of its alerts fires")
    alert_names: list[str] = Field(
        default_factory=list, description="The distinct names of the alerts that joined"
    )
    alerts: dict[str, AlertTrack] = Field(
        default_factory=dict, description="Each distinct alert (by Alert.key): does it fire?"
    )
    first_alert: Alert | None = None
    workload_id: str | None = Field(
        default=None, description="The WorkloadWorkflow that opened it (None: an older scheme)"
    )
    previous_incident: str | None = Field(
        default=None, description="The workload's incident before this one, if it recurred"
    )
    diagnosis: Diagnosis | None = None
    fix: FixProposal | None = None
    pr_url: str | None = None
    pr_number: int | None = None
    ticket_key: str | None = None
    ticket_url: str | None = None
    approvals: list[ApprovalRecord] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    resolution: str | None = None
    escalation_reason: str | None = None
    deadline: datetime | None = Field(default=None, description="When the current human wait ends")
    actions_taken: int = 0
    previous_revision: int | None = Field(
        default=None, description="Rollout revision before selfheal changed the Deployment"
    )
    usage: TokenUsage = Field(default_factory=TokenUsage)
    attempt: int = Field(default=1, description="Analysis attempts; a retry starts the next")
    runs: int = Field(default=1, description="Workflow runs, counting continue-as-new")


class AnalyzerChoice(StrEnum):
    """Who diagnoses: the offline rules, or a model (with the rules as fallback unless forced)."""

    RULES = "rules"
    MODEL = "model"
    MODEL_ONLY = "model-only"


class IncidentPolicy(BaseModel):
    """The worker's settings that shape one incident, loaded once and kept in history."""

    mode: RemediationMode = RemediationMode.GITOPS
    analyzer: AnalyzerChoice = AnalyzerChoice.RULES
    model: str = ""
    max_model_turns: int = 8
    max_model_tokens: int = 200_000
    auto_approve: AutoApprovePolicy = AutoApprovePolicy.NEVER
    auto_approve_rule: str = Field(default="", description="The setting the policy comes from")
    approvers: list[str] = Field(default_factory=list, description="Empty: anyone may approve")
    review_timeout: timedelta = timedelta(hours=4)
    approval_timeout: timedelta = timedelta(hours=4)
    escalation_timeout: timedelta = timedelta(days=7)
    deploy_timeout: timedelta = timedelta(minutes=15)
    verify_window: timedelta = timedelta(minutes=2)
    alert_clear_timeout: timedelta = Field(
        default=timedelta(minutes=15),
        description="After verification, how long to wait for the alerts that paged to resolve",
    )
    pr_poll_interval: timedelta = timedelta(minutes=3)
    ticketing: bool = False
    notifications: bool = False
    namespaces: list[str] = Field(default_factory=list, description="May be changed; empty: none")
    allow_destructive: bool = False
    max_actions: int = 3
    remediation_limit: int = Field(default=3, ge=1, description="Per workload per window")
    remediation_window: timedelta = timedelta(hours=24)
    history_limit: int = Field(
        default=1000, ge=100, description="Continue-as-new once history has this many events"
    )
    clusters: list[str] = Field(
        default_factory=list,
        description="Clusters the worker can reach (SELFHEAL_CLUSTER, SELFHEAL_CLUSTERS); "
        "empty in policies recorded before clusters were checked",
    )

    def may_approve(self, person: str) -> bool:
        """True when `person` is an allowed approver (anyone, if no list is set)."""
        return not self.approvers or person in self.approvers


class PolicyRequest(BaseModel):
    incident_id: str
    alert: Alert


class IncidentEnding(BaseModel):
    """How an incident ended, as its workload remembers it (signal `incident_ended`)."""

    incident_id: str
    state: IncidentState
    ended_at: datetime
    note: str = ""
    changed: bool = Field(default=False, description="True when selfheal changed the workload")
    ticket_key: str | None = None


class IncidentInput(BaseModel):
    """Workflow argument: the first alert and the workload on the first run, the carried
    state after continue-as-new. Incidents of the older scheme started with the id alone
    and got their first alert as a signal."""

    incident_id: str
    status: IncidentStatus | None = None
    policy: IncidentPolicy | None = None
    alert: Alert | None = Field(default=None, description="The alert that opened it")
    workload_id: str | None = Field(default=None, description="The WorkloadWorkflow opening it")
    previous: IncidentEnding | None = Field(
        default=None, description="The workload's previous incident, when this one recurs"
    )


class AlertBatch(BaseModel):
    """Alerts a workload passes on to its open incident in one signal (`alerts`).

    Repeats of one alert in a batch travel once; `count` says how many arrived in all.
    """

    alerts: list[Alert] = Field(min_length=1)
    count: int = Field(ge=1)


class WorkloadState(BaseModel):
    """What a workload's workflow remembers, carried across continue-as-new."""

    opened: int = Field(default=0, description="Incidents opened so far")
    open_incident: str | None = None
    last: IncidentEnding | None = None
    alerts: int = Field(default=0, description="Alerts received")
    ignored: int = Field(default=0, description="Alerts that opened nothing")
    ledger: LedgerState | None = Field(
        default=None, description="Its remediations within the anti-loop window"
    )


class WorkloadInput(BaseModel):
    """WorkloadWorkflow's argument: the workload, where its incidents run, and its memory."""

    workload: WorkloadRef
    incident_task_queue: str
    state: WorkloadState | None = None
    pending: list[Alert] = Field(
        default_factory=list, description="Alerts not yet passed on when it continued as new"
    )


# --- activity inputs and outputs ---------------------------------------------------------


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


class DiagnosisRequest(BaseModel):
    incident_id: str
    alert: Alert
    context: ClusterContext


class InvestigationRequest(BaseModel):
    """Input of the model-driven investigation (a child workflow)."""

    incident_id: str
    alert: Alert
    context: ClusterContext
    model: str
    max_turns: int = 8
    max_tokens: int = 200_000


class InvestigationResult(BaseModel):
    """The model's diagnosis, or why there is none (the rules then take over)."""

    diagnosis: Diagnosis | None = None
    usage: TokenUsage = Field(default_factory=TokenUsage)
    failure: str = ""


class FixRequest(BaseModel):
    incident_id: str
    diagnosis: Diagnosis
    context: ClusterContext


class AnalysisRequest(BaseModel):
    """Analyse a workload offline in one step: gather its context, diagnose, propose a fix."""

    alert: Alert
    workload: ContextRequest = Field(description="Whose context to gather")

    @property
    def incident_id(self) -> str:
        return self.workload.incident_id


class WorkloadAnalysis(BaseModel):
    """The offline analysis's answer: all the workflow needs, without the cluster context.

    `fix` is the safe proposal for a fault; `no_fix` says why there is none when the fix
    generator refused (a fault with nothing safe to change still gets a `none` proposal).
    """

    diagnosis: Diagnosis
    fix: FixProposal | None = None
    no_fix: str | None = None
    manifest_path: str | None = Field(
        default=None, description="The Deployment's selfheal.dev/manifest annotation, if set"
    )


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


class PullRequestRequest(BaseModel):
    """Everything needed to write the fix pull request."""

    incident_id: str
    namespace: str
    deployment: str
    diagnosis: Diagnosis
    fix: FixProposal
    ui_url: str = ""
    ticket_key: str | None = None
    attempt: int = 1
    manifest_path: str | None = Field(
        default=None, description="From the Deployment's selfheal.dev/manifest annotation"
    )


class PullRequestInfo(BaseModel):
    number: int
    url: str
    branch: str
    manifest_path: str
    diff: str = ""


class PullRequestRef(BaseModel):
    incident_id: str
    number: int


class PullRequestState(BaseModel):
    number: int
    open: bool
    merged: bool
    approved_by: list[str] = Field(default_factory=list)
    changes_requested_by: list[str] = Field(default_factory=list)
    author: str = ""


class MergeRequest(BaseModel):
    incident_id: str
    number: int
    approved_by: str


class ClosePullRequest(BaseModel):
    incident_id: str
    number: int
    reason: str


class RevertRequest(BaseModel):
    incident_id: str
    number: int
    reason: str


class TicketRequest(BaseModel):
    incident_id: str
    summary: str
    description: str
    existing_key: str | None = None
    labels: list[str] = Field(default_factory=list)


class TicketRef(BaseModel):
    """The incident's ticket, or why there is none."""

    key: str | None = None
    url: str | None = None
    note: str = ""


class TicketUpdate(BaseModel):
    incident_id: str
    key: str
    state: IncidentState
    comment: str
    alerts: str = Field(default="", description="The alerts so far, e.g. `4 alerts: A, B`")


class TicketCatchUp(BaseModel):
    """A ticket a JIRA outage kept an ended incident from opening, and what to write there."""

    ticket: TicketRequest
    state: IncidentState = Field(description="How the incident ended")
    story: str = Field(description="The incident's timeline, one line per entry")


class Notification(BaseModel):
    incident_id: str
    state: IncidentState
    text: str


class NotificationResult(BaseModel):
    sent: bool
    note: str = ""


class SignalAck(BaseModel):
    """Answer of a validated update: the incident's state after the decision."""

    incident_id: str
    state: IncidentState
    note: str = ""


# Diagnosis refers to FixProposal, which is defined after it.
Diagnosis.model_rebuild()


# --- the guard: kill switch and anti-loop ----------------------------------------------------


class FreezeRequest(BaseModel):
    """Halt every remediation until unfrozen (`selfheal freeze`)."""

    by: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=4000)


class UnfreezeRequest(BaseModel):
    """Let remediation resume (`selfheal unfreeze`)."""

    by: str = Field(min_length=1, max_length=200)


class FreezeState(BaseModel):
    """Whether the kill switch is on, and who turned it on or off and why."""

    frozen: bool = False
    by: str = ""
    reason: str = ""
    at: datetime | None = None


class RemediationRecord(BaseModel):
    """One remediation granted on a workload, for the anti-loop limit."""

    incident_id: str
    at: datetime
    action: str


class PermitRequest(BaseModel):
    """An incident asks the guard before it changes anything."""

    incident_id: str
    workload: str = Field(description="cluster/namespace/deployment")
    target: WorkloadRef | None = Field(
        default=None, description="The workload whose WorkloadWorkflow keeps the count"
    )
    action: str = Field(description="What it is about to do, for the record")
    key: str = Field(description="Idempotency key: the same key gets the same answer")
    counts: bool = Field(default=True, description="False for undo actions (rollback, revert)")
    limit: int = Field(default=3, ge=1)
    window: timedelta = timedelta(hours=24)


class Permit(BaseModel):
    """The guard's answer: go ahead, wait (frozen), or stop (anti-loop)."""

    granted: bool
    freeze: FreezeState = Field(default_factory=FreezeState)
    refusal: str = ""
    earlier: list[RemediationRecord] = Field(default_factory=list)
    decided_at: datetime | None = None


class GuardNotice(BaseModel):
    """Tells a running incident the kill switch changed (signal `guard_changed`)."""

    freeze: FreezeState


class GuardState(BaseModel):
    """The kill switch's durable state, carried across continue-as-new."""

    freeze: FreezeState = Field(default_factory=FreezeState)
    waiting: list[str] = Field(default_factory=list)


class LedgerState(BaseModel):
    """One workload's recent remediations and the answers given, for the anti-loop limit."""

    workload: str = Field(description="cluster/namespace/deployment")
    window: timedelta = timedelta(hours=24)
    records: list[RemediationRecord] = Field(default_factory=list)
    answers: dict[str, Permit] = Field(default_factory=dict)


# WorkloadState refers to LedgerState, which is defined after it.
WorkloadState.model_rebuild()
