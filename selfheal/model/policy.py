"""The settings that shape one incident: remediation mode, analyzer, approvals, limits."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, Field


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
    chat: bool = Field(
        default=False,
        description="Post a decision message in Slack (SLACK_BOT_TOKEN, SLACK_CHANNEL)",
    )
    reminders: list[float] = Field(
        default_factory=list,
        description="Fractions of a human wait at which to remind (SELFHEAL_REMINDERS); empty "
        "in policies recorded before reminders",
    )
    metrics: bool = Field(
        default=False,
        description="PROMETHEUS_URL is set: the model path reads the workload's metrics into "
        "its context (policies recorded before metrics carry False)",
    )
    symptoms: bool = Field(
        default=False,
        description="PROMETHEUS_URL or ALERTMANAGER_URL is set: verification checks the "
        "alerts' own conditions (policies recorded before carry False)",
    )
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
