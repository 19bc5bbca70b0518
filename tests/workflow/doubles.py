"""Test doubles registered under the real activity names, recording every call."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

from selfheal.contracts.analysis import (
    AnalysisRequest,
    DiagnosisRequest,
    FixRequest,
    WorkloadAnalysis,
)
from selfheal.contracts.claude import InvestigationRequest, InvestigationResult
from selfheal.contracts.github import (
    ClosePullRequest,
    MergeRequest,
    PullRequestInfo,
    PullRequestRef,
    PullRequestRequest,
    PullRequestState,
    RevertRequest,
)
from selfheal.contracts.jira import TicketRef, TicketRequest, TicketUpdate
from selfheal.contracts.kubernetes import (
    ClusterContext,
    ContextRequest,
    HealthCheckRequest,
    HealthReport,
    RemediationRequest,
    RemediationResult,
    RolloutRequest,
    RolloutResult,
)
from selfheal.contracts.notify import Notification, NotificationResult
from selfheal.contracts.policy import PolicyRequest
from selfheal.contracts.prometheus import (
    ContainerMetrics,
    MetricsRequest,
    SymptomReport,
    SymptomRequest,
    WorkloadMetrics,
)
from selfheal.contracts.slack import DecisionPost, DecisionPosted
from selfheal.model.diagnosis import (
    ActionKind,
    Diagnosis,
    DiagnosisCategory,
    Evidence,
    FixKind,
    FixProposal,
    RemediationAction,
    RiskLevel,
    TokenUsage,
)
from selfheal.model.incident import DecisionMessage, IncidentState
from selfheal.model.policy import IncidentPolicy


def oom_diagnosis() -> Diagnosis:
    return Diagnosis(
        category=DiagnosisCategory.OOM_KILLED,
        summary="container app was OOMKilled (exit 137) at its 64Mi limit",
        evidence=[Evidence(source="pod/checkout-1 lastState", detail="OOMKilled exit 137")],
        confidence=0.95,
        containers=["app"],
        suggested_fix=FixKind.INCREASE_MEMORY,
    )


def memory_fix(namespace: str = "demo", deployment: str = "checkout") -> FixProposal:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "app", "resources": {"limits": {"memory": "128Mi"}}}]
                }
            }
        }
    }
    return FixProposal(
        kind=FixKind.INCREASE_MEMORY,
        risk=RiskLevel.LOW,
        rationale="raise the memory limit from 64Mi to 128Mi",
        manifest_patch=patch,
        action=RemediationAction(
            kind=ActionKind.PATCH, namespace=namespace, deployment=deployment, patch=patch
        ),
    )


class FakeWorld:
    """Everything outside the workflow, answering as configured and counting calls."""

    def __init__(
        self,
        policy: IncidentPolicy | None = None,
        diagnosis: Diagnosis | None = None,
        fix: FixProposal | None = None,
        healthy: bool = True,
        failures: dict[str, ApplicationError] | None = None,
        pr_state: PullRequestState | None = None,
        journal: Path | None = None,
        no_fix: str | None = None,
    ) -> None:
        self.policy = policy or IncidentPolicy(namespaces=["demo"])
        self.diagnosis = diagnosis or oom_diagnosis()
        self.fix = fix or memory_fix()
        self.healthy = healthy
        self.failures = failures or {}
        self.pr_state = pr_state
        self.journal = journal
        self.no_fix = no_fix
        self.metrics = WorkloadMetrics(
            source="http://prometheus.test:9090",
            containers=[ContainerMetrics(container="app", cpu_throttled_ratio=[(1.0, 1.0)])],
        )
        self.symptom = SymptomReport(
            checked=True, message="the symptom cleared for demo/checkout and stayed clear for 1s"
        )
        self.closing: asyncio.Event | None = None
        """When set, a ticket's RESOLVED update waits for it: the incident is closing."""
        self.calls: Counter[str] = Counter()
        self.requests: dict[str, list[Any]] = {}

    def _called(self, name: str, request: Any) -> None:
        self.calls[name] += 1
        self.requests.setdefault(name, []).append(request)
        if self.journal is not None:
            with self.journal.open("a") as journal:
                journal.write(f"{name} {getattr(request, 'incident_id', '')}\n")
        if name in self.failures:
            raise self.failures[name]

    def activities(self) -> list[Callable[..., Any]]:
        """The doubles, each under its real activity name."""
        world = self

        @activity.defn(name="load_policy")
        async def load_policy(request: PolicyRequest) -> IncidentPolicy:
            world._called("load_policy", request)
            mode = request.alert.requested_mode
            return world.policy.model_copy(update={"mode": mode}) if mode else world.policy

        @activity.defn(name="gather_context")
        async def gather_context(request: ContextRequest) -> ClusterContext:
            world._called("gather_context", request)
            return ClusterContext(namespace=request.namespace, workload=request.workload)

        @activity.defn(name="gather_metrics")
        async def gather_metrics(request: MetricsRequest) -> WorkloadMetrics:
            world._called("gather_metrics", request)
            return world.metrics

        @activity.defn(name="check_symptom")
        async def check_symptom(request: SymptomRequest) -> SymptomReport:
            world._called("check_symptom", request)
            return world.symptom

        @activity.defn(name="analyze_workload")
        async def analyze_workload(request: AnalysisRequest) -> WorkloadAnalysis:
            world._called("analyze_workload", request)
            diagnosis = world.diagnosis
            if not diagnosis.fault_found:
                return WorkloadAnalysis(diagnosis=diagnosis)
            if world.no_fix:
                return WorkloadAnalysis(diagnosis=diagnosis, no_fix=world.no_fix)
            return WorkloadAnalysis(
                diagnosis=diagnosis, fix=world.fix, manifest_path="apps/checkout/deployment.yaml"
            )

        @activity.defn(name="diagnose")
        async def diagnose(request: DiagnosisRequest) -> Diagnosis:
            world._called("diagnose", request)
            return world.diagnosis

        @activity.defn(name="propose_fix")
        async def propose_fix(request: FixRequest) -> FixProposal:
            world._called("propose_fix", request)
            return world.fix

        @activity.defn(name="apply_remediation")
        async def apply_remediation(request: RemediationRequest) -> RemediationResult:
            world._called("apply_remediation", request)
            return RemediationResult(
                applied=True,
                description=f"{request.action.kind.value} on {request.action.deployment}",
                previous_revision=3,
                revision=4,
            )

        @activity.defn(name="wait_rollout")
        async def wait_rollout(request: RolloutRequest) -> RolloutResult:
            world._called("wait_rollout", request)
            return RolloutResult(complete=True, message="2/2 replicas updated", revision=4)

        @activity.defn(name="verify_health")
        async def verify_health(request: HealthCheckRequest) -> HealthReport:
            world._called("verify_health", request)
            if world.healthy:
                return HealthReport(healthy=True, message="2/2 ready, no restarts")
            return HealthReport(healthy=False, message="0/2 ready, 3 restarts in the window")

        @activity.defn(name="open_pull_request")
        async def open_pull_request(request: PullRequestRequest) -> PullRequestInfo:
            world._called("open_pull_request", request)
            return PullRequestInfo(
                number=7,
                url="http://github.test/acme/infra/pull/7",
                branch=f"selfheal/{request.incident_id}",
                manifest_path="apps/checkout/deployment.yaml",
            )

        @activity.defn(name="get_pull_request")
        async def get_pull_request(request: PullRequestRef) -> PullRequestState:
            world._called("get_pull_request", request)
            return world.pr_state or PullRequestState(
                number=request.number, open=True, merged=False
            )

        @activity.defn(name="merge_pull_request")
        async def merge_pull_request(request: MergeRequest) -> PullRequestState:
            world._called("merge_pull_request", request)
            return PullRequestState(number=request.number, open=False, merged=True)

        @activity.defn(name="close_pull_request")
        async def close_pull_request(request: ClosePullRequest) -> PullRequestState:
            world._called("close_pull_request", request)
            return PullRequestState(number=request.number, open=False, merged=False)

        @activity.defn(name="open_revert_pull_request")
        async def open_revert_pull_request(request: RevertRequest) -> PullRequestInfo:
            world._called("open_revert_pull_request", request)
            return PullRequestInfo(
                number=8, url="http://github.test/acme/infra/pull/8", branch="r", manifest_path="m"
            )

        @activity.defn(name="open_ticket")
        async def open_ticket(request: TicketRequest) -> TicketRef:
            world._called("open_ticket", request)
            return TicketRef(key="OPS-1", url="http://jira.test/browse/OPS-1")

        @activity.defn(name="update_ticket")
        async def update_ticket(request: TicketUpdate) -> TicketRef:
            world._called("update_ticket", request)
            if world.closing is not None and request.state == IncidentState.RESOLVED:
                await world.closing.wait()
            return TicketRef(key=request.key)

        @activity.defn(name="notify")
        async def notify(request: Notification) -> NotificationResult:
            world._called("notify", request)
            return NotificationResult(sent=True)

        @activity.defn(name="publish_decision")
        async def publish_decision(request: DecisionPost) -> DecisionPosted:
            world._called("publish_decision", request)
            attempt = request.card.attempt
            known = request.message or DecisionMessage(
                channel="C1", ts=f"1700000000.{attempt:06d}", attempt=attempt
            )
            return DecisionPosted(message=known)

        return [
            load_policy,
            analyze_workload,
            gather_context,
            gather_metrics,
            check_symptom,
            diagnose,
            propose_fix,
            apply_remediation,
            wait_rollout,
            verify_health,
            open_pull_request,
            get_pull_request,
            merge_pull_request,
            close_pull_request,
            open_revert_pull_request,
            open_ticket,
            update_ticket,
            notify,
            publish_decision,
        ]


@workflow.defn(name="InvestigationWorkflow")
class FailingInvestigation:
    """Stands in for the model investigation: spends tokens, then gives up."""

    @workflow.run
    async def run(self, request: InvestigationRequest) -> InvestigationResult:
        return InvestigationResult(
            usage=TokenUsage(model_calls=2, input_tokens=1200, output_tokens=300),
            failure="model answered outside the schema twice",
        )
