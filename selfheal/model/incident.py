"""An incident: its states, its timeline, and how it starts and ends."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from selfheal.model.alerts import Alert, AlertTrack
from selfheal.model.diagnosis import Diagnosis, FixProposal, TokenUsage
from selfheal.model.policy import IncidentPolicy, RemediationMode


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
    channel: str = Field(default="", description="Where it was made: cli, ui, slack, github")
    proposal: str = Field(default="", description="The proposal's digest it named, if any")


class DecisionMessage(BaseModel):
    """The Slack message that asks for the decision on one attempt's proposal."""

    channel: str
    ts: str = Field(description="Slack's id of the message; its thread holds the follow-ups")
    attempt: int = Field(description="The analysis attempt whose proposal it shows")


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
    reminders: list[datetime] = Field(
        default_factory=list, description="When the current human wait reminds people, still due"
    )
    chat: DecisionMessage | None = Field(
        default=None, description="The Slack decision message of the latest attempt that waited"
    )
    actions_taken: int = 0
    previous_revision: int | None = Field(
        default=None, description="Rollout revision before selfheal changed the Deployment"
    )
    usage: TokenUsage = Field(default_factory=TokenUsage)
    attempt: int = Field(default=1, description="Analysis attempts; a retry starts the next")
    runs: int = Field(default=1, description="Workflow runs, counting continue-as-new")
    after_close: list[Alert] = Field(
        default_factory=list,
        description="Alerts that arrived once it had closed: its workload opens the next "
        "incident for a firing one",
    )


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
