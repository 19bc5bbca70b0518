"""selfheal's configuration: one pydantic-settings class; nothing else reads the environment.

`SELFHEAL_*` names are selfheal's own; the rest use their ecosystem's names (KUBECONFIG,
GITHUB_TOKEN, JIRA_URL, ANTHROPIC_API_KEY, ...). Temporal's connection comes from the SDK's
own environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, ...).
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from selfheal.model.diagnosis import FixLimits
from selfheal.model.policy import AnalyzerChoice, AutoApprovePolicy, IncidentPolicy, RemediationMode

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: Any) -> Any:
    """Accept `90`, `90s`, `30m`, `4h`, `2d` (and anything pydantic's timedelta accepts)."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    return value


def parse_list(value: Any) -> Any:
    """Accept a comma-separated string for list settings."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def reminder_fractions(entries: list[str]) -> list[float]:
    """`50%`, `90%` (or `0.5`) as sorted fractions of a wait, each strictly between 0 and 1."""
    fractions = []
    for entry in entries:
        text = entry.strip()
        try:
            value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError as err:
            raise ValueError(f"{entry!r}: expected a percentage such as 50%") from err
        if not 0 < value < 1:
            raise ValueError(f"{entry!r}: a reminder must fall inside the wait (1% to 99%)")
        fractions.append(value)
    return sorted(set(fractions))


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
NameList = Annotated[list[str], NoDecode, BeforeValidator(parse_list)]


class Analyzer(StrEnum):
    AUTO = "auto"
    RULES = "rules"
    LLM = "llm"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    """Every setting selfheal reads, from the environment and an optional `.env`."""

    model_config = SettingsConfigDict(
        env_prefix="SELFHEAL_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # Temporal
    task_queue: str = "selfheal"
    temporal_ui_url: str = Field(
        default="http://127.0.0.1:8233", description="Base URL of the Temporal Web UI"
    )
    home: Path = Field(default=Path(".selfheal"), description="Local state: stack files, logs")

    # Incident policy
    mode: RemediationMode = RemediationMode.GITOPS
    auto_approve: AutoApprovePolicy = AutoApprovePolicy.NEVER
    auto_approve_namespaces: NameList = Field(
        default_factory=list,
        description="Per-namespace overrides, e.g. staging=always,production=never",
    )
    approvers: NameList = Field(default_factory=list)
    review_timeout: Duration = timedelta(hours=4)
    approval_timeout: Duration = timedelta(hours=4)
    escalation_timeout: Duration = timedelta(days=7)
    deploy_timeout: Duration = timedelta(minutes=15)
    verify_window: Duration = timedelta(minutes=2)
    alert_clear_timeout: Duration = Field(
        default=timedelta(minutes=15),
        description="After a fix is verified, how long to wait for the Alertmanager and "
        "PagerDuty alerts that paged to resolve before closing anyway (saying so)",
    )
    pr_poll_interval: Duration = timedelta(minutes=3)
    history_limit: int = Field(default=1000, ge=100)

    # Guardrails
    namespaces: NameList = Field(
        default_factory=list, description="Namespaces selfheal may change; empty: none"
    )
    allow_destructive: bool = False
    max_actions: int = Field(default=3, ge=0)
    remediation_limit: int = Field(default=3, ge=1, description="Per workload per window")
    remediation_window: Duration = timedelta(hours=24)
    guard_workflow_id: str = "selfheal-guard"

    # Fix generation bounds
    fix_memory_multiplier: float = Field(default=2.0, gt=1.0)
    fix_max_memory: str = "4Gi"
    fix_cpu_multiplier: float = Field(default=2.0, gt=1.0)
    fix_max_cpu: str = "4"
    fix_max_replicas: int = Field(default=20, ge=1)
    fix_max_probe_seconds: int = Field(default=600, ge=1)

    # Kubernetes
    kubeconfig: Path | None = Field(default=None, validation_alias=_env("KUBECONFIG"))
    kube_context: str | None = None
    cluster: str = Field(
        default="default",
        min_length=1,
        description="Name of the cluster KUBECONFIG (or the in-cluster account) reaches; "
        "alerts with no cluster label are about it",
    )
    clusters: NameList = Field(
        default_factory=list,
        description="More clusters, as name=kubeconfig-context, e.g. prod-eu-1=ctx-eu",
    )
    in_cluster: bool = False
    context_max_bytes: int = Field(default=256 * 1024, ge=4096)

    # Analysis
    analyzer: Analyzer = Analyzer.AUTO
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=_env("ANTHROPIC_BASE_URL")
    )
    model: str = "claude-sonnet-4-6"
    max_model_turns: int = Field(default=8, ge=1)
    max_model_tokens: int = Field(default=200_000, ge=1000)

    # GitHub
    github_token: SecretStr | None = Field(default=None, validation_alias=_env("GITHUB_TOKEN"))
    github_api_url: str = Field(
        default="https://api.github.com", validation_alias=_env("GITHUB_API_URL")
    )
    github_repo: str | None = Field(default=None, validation_alias=_env("GITHUB_REPO"))
    github_base_branch: str = "main"

    # JIRA
    jira_url: str | None = Field(default=None, validation_alias=_env("JIRA_URL"))
    jira_user: str | None = Field(default=None, validation_alias=_env("JIRA_USER"))
    jira_token: SecretStr | None = Field(default=None, validation_alias=_env("JIRA_TOKEN"))
    jira_project: str = Field(default="OPS", validation_alias=_env("JIRA_PROJECT"))
    jira_status_in_progress: str = "In Progress"
    jira_status_done: str = "Done"
    jira_status_needs_human: str = "Needs Human"

    # Prometheus and Alertmanager (optional: with PROMETHEUS_URL unset, no metrics are read)
    prometheus_url: str | None = Field(
        default=None,
        validation_alias=_env("PROMETHEUS_URL"),
        description="Base URL of the Prometheus HTTP API, e.g. http://prometheus:9090",
    )
    prometheus_token: SecretStr | None = Field(
        default=None,
        validation_alias=_env("PROMETHEUS_TOKEN"),
        description="Bearer token sent to Prometheus and Alertmanager",
    )
    prometheus_user: str | None = Field(
        default=None,
        validation_alias=_env("PROMETHEUS_USER"),
        description="Basic-auth user for Prometheus and Alertmanager (with PROMETHEUS_PASSWORD)",
    )
    prometheus_password: SecretStr | None = Field(
        default=None, validation_alias=_env("PROMETHEUS_PASSWORD")
    )
    alertmanager_url: str | None = Field(
        default=None,
        validation_alias=_env("ALERTMANAGER_URL"),
        description="Base URL of Alertmanager's API, e.g. http://alertmanager:9093",
    )
    prometheus_timeout: Duration = Field(
        default=timedelta(seconds=15), description="Timeout of one Prometheus/Alertmanager request"
    )
    metrics_window: Duration = Field(
        default=timedelta(hours=1),
        description="How far back the workload's metrics are read as evidence (at most 6h)",
    )

    # Notifications and chat approvals
    slack_webhook_url: SecretStr | None = Field(
        default=None, validation_alias=_env("SLACK_WEBHOOK_URL")
    )
    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=_env("SLACK_BOT_TOKEN"),
        description="Bot token (xoxb-…) that posts and updates the decision messages",
    )
    slack_channel: str | None = Field(
        default=None,
        validation_alias=_env("SLACK_CHANNEL"),
        description="Channel (id, or #name) where incidents waiting for a decision are posted",
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias=_env("SLACK_API_URL"),
        description="Slack Web API base URL (the sandbox's stand-in in the local stack)",
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Verifies Slack's interaction requests (X-Slack-Signature)"
    )
    slack_users: NameList = Field(
        default_factory=list,
        description="Slack user id to person, e.g. U024BE7LH=alice; others by profile email",
    )
    reminders: NameList = Field(
        default_factory=lambda: ["50%", "90%"],
        description="Points of a human wait's deadline at which to remind, e.g. 50%,90%",
    )

    # Webhook server
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8000
    webhook_token: SecretStr | None = None
    webhook_insecure: bool = False
    pagerduty_secret: SecretStr | None = None
    github_webhook_secret: SecretStr | None = None
    jira_webhook_secret: SecretStr | None = None
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    service_map: Path | None = None

    # Worker
    metrics_port: int = Field(default=9464, description="Prometheus endpoint; 0 disables it")
    max_concurrent_activities: int = Field(default=200, ge=1)
    activity_threads: int | None = Field(
        default=None,
        ge=1,
        description=(
            "Threads for the blocking activities; unset: one per activity slot, so a long "
            "rollout watch never leaves another activity queued while its timeout runs"
        ),
    )
    workflow_cache: int = Field(
        default=1000,
        ge=100,
        description=(
            "Workflow runs the worker keeps in memory (~0.2 MB each); an evicted run is "
            "replayed from its history when it next has work"
        ),
    )
    log_format: str = Field(default="auto", description="auto, json or console")

    @field_validator("slack_users")
    @classmethod
    def _slack_users_are_valid(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            user, sep, person = entry.partition("=")
            if not sep or not user.strip() or not person.strip():
                raise ValueError(f"{entry!r}: expected slack-user-id=person")
        return entries

    @field_validator("reminders")
    @classmethod
    def _reminders_are_valid(cls, entries: list[str]) -> list[str]:
        reminder_fractions(entries)
        return entries

    @property
    def slack_configured(self) -> bool:
        """True when the decision messages can be posted (SLACK_BOT_TOKEN and SLACK_CHANNEL)."""
        return self.slack_bot_token is not None and bool(self.slack_channel)

    def slack_people(self) -> dict[str, str]:
        """SELFHEAL_SLACK_USERS as a map from Slack user id to person."""
        pairs = (entry.partition("=") for entry in self.slack_users)
        return {user.strip(): person.strip() for user, _, person in pairs}

    @field_validator("metrics_window")
    @classmethod
    def _window_is_bounded(cls, window: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= window <= timedelta(hours=6):
            raise ValueError("expected a window between 1m and 6h")
        return window

    @field_validator("prometheus_user")
    @classmethod
    def _one_kind_of_auth(cls, user: str | None, info: ValidationInfo) -> str | None:
        if user and info.data.get("prometheus_token") is not None:
            raise ValueError("set PROMETHEUS_TOKEN or PROMETHEUS_USER, not both")
        return user

    @field_validator("clusters")
    @classmethod
    def _clusters_are_valid(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            name, sep, context = entry.partition("=")
            if not sep or not name.strip() or not context.strip():
                raise ValueError(f"{entry!r}: expected cluster-name=kubeconfig-context")
        return entries

    def cluster_contexts(self) -> dict[str, str | None]:
        """Every cluster the worker reaches, by name: its kubeconfig context (None for the
        default cluster's, which is SELFHEAL_KUBE_CONTEXT or the current context)."""
        contexts: dict[str, str | None] = {self.cluster: self.kube_context}
        for entry in self.clusters:
            name, _, context = entry.partition("=")
            contexts.setdefault(name.strip(), context.strip())
        return contexts

    def approval_rule(self, namespace: str | None) -> tuple[AutoApprovePolicy, str]:
        """The approval policy for a namespace and the setting it comes from."""
        for entry in self.auto_approve_namespaces:
            name, _, value = entry.partition("=")
            if name.strip() == namespace:
                policy = AutoApprovePolicy(value.strip())
                return policy, f"SELFHEAL_AUTO_APPROVE_NAMESPACES {name.strip()}={policy.value}"
        return self.auto_approve, f"SELFHEAL_AUTO_APPROVE={self.auto_approve.value}"

    @field_validator("auto_approve_namespaces")
    @classmethod
    def _overrides_are_valid(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            name, sep, value = entry.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"{entry!r}: expected namespace=never|low-risk|always")
            AutoApprovePolicy(value.strip())
        return entries

    def incident_policy(
        self, requested_mode: RemediationMode | None, namespace: str | None = None
    ) -> IncidentPolicy:
        """Return the policy an incident runs under; an alert may request its own mode."""
        auto_approve, rule = self.approval_rule(namespace)
        return IncidentPolicy(
            mode=requested_mode or self.mode,
            analyzer=self.analyzer_choice(),
            model=self.model,
            max_model_turns=self.max_model_turns,
            max_model_tokens=self.max_model_tokens,
            auto_approve=auto_approve,
            auto_approve_rule=rule,
            approvers=list(self.approvers),
            review_timeout=self.review_timeout,
            approval_timeout=self.approval_timeout,
            escalation_timeout=self.escalation_timeout,
            deploy_timeout=self.deploy_timeout,
            verify_window=self.verify_window,
            alert_clear_timeout=self.alert_clear_timeout,
            pr_poll_interval=self.pr_poll_interval,
            ticketing=bool(self.jira_url),
            notifications=self.slack_webhook_url is not None,
            chat=self.slack_configured,
            reminders=reminder_fractions(self.reminders),
            metrics=self.prometheus_url is not None,
            symptoms=self.prometheus_url is not None or self.alertmanager_url is not None,
            history_limit=self.history_limit,
            namespaces=list(self.namespaces),
            allow_destructive=self.allow_destructive,
            max_actions=self.max_actions,
            remediation_limit=self.remediation_limit,
            remediation_window=self.remediation_window,
            clusters=list(self.cluster_contexts()),
        )

    def fix_limits(self) -> FixLimits:
        """How far a proposed fix may go (SELFHEAL_FIX_*); deleting pods follows destructive."""
        return FixLimits(
            memory_multiplier=self.fix_memory_multiplier,
            max_memory=self.fix_max_memory,
            cpu_multiplier=self.fix_cpu_multiplier,
            max_cpu=self.fix_max_cpu,
            max_replicas=self.fix_max_replicas,
            max_probe_seconds=self.fix_max_probe_seconds,
            allow_delete_pods=self.allow_destructive,
        )

    def analyzer_choice(self) -> AnalyzerChoice:
        """`auto` uses the model when a key is set; `llm` forces it; `rules` never calls one."""
        if self.analyzer == Analyzer.RULES:
            return AnalyzerChoice.RULES
        if self.analyzer == Analyzer.LLM:
            return AnalyzerChoice.MODEL_ONLY
        return AnalyzerChoice.MODEL if self.anthropic_api_key else AnalyzerChoice.RULES

    def guard_task_queue(self) -> str:
        """The kill switch's and the remediation ledgers' own queue, served by every worker.

        Apart from the incidents' queue so a permit is answered at once even while thousands
        of incident tasks wait there: each waiting permit holds an activity slot.
        """
        return f"{self.task_queue}-guard"

    def workload_task_queue(self) -> str:
        """The workloads' own queue (WorkloadWorkflow), served by every worker.

        A thousand workloads waiting for their next alert must not crowd the incidents out
        of the worker's cache, nor wait behind their backlog to route an alert.
        """
        return f"{self.task_queue}-workloads"

    def activity_thread_count(self) -> int:
        """Threads for blocking activities: as set, else one per concurrent activity slot."""
        return self.activity_threads or self.max_concurrent_activities


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (and `.env`), with explicit overrides on top."""
    return Settings(**overrides)
