"""The activities the incident workflow calls: name, result type, timeouts and retries.

The workflow addresses activities by name so it never imports an integration's client
library; the worker registers the real implementations (and tests register doubles)
under the same names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from selfheal.domain import (
        ClusterContext,
        Diagnosis,
        FixProposal,
        HealthReport,
        IncidentPolicy,
        NotificationResult,
        Permit,
        PullRequestInfo,
        PullRequestState,
        RemediationResult,
        RolloutResult,
        TicketRef,
        WorkloadAnalysis,
    )

ResultT = TypeVar("ResultT", bound=BaseModel)

PERSISTENT = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=12,
)
"""For calls whose failure stops the incident: retry for about five minutes, then escalate."""

BEST_EFFORT = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=4,
)
"""For mirrors (ticket comments, chat): a short retry, then the incident moves on without them."""

KEEPALIVE = timedelta(seconds=15)
"""Heartbeat timeout of every call: the worker heartbeats every running activity
(workers/keepalive.py), so an activity whose worker died is retried after this long instead
of after its start-to-close timeout."""


@dataclass(frozen=True)
class ActivityCall(Generic[ResultT]):
    """How the workflow calls one activity."""

    name: str
    result_type: type[ResultT]
    start_to_close: timedelta = timedelta(seconds=60)
    retry: RetryPolicy = field(default_factory=lambda: PERSISTENT)
    heartbeat: timedelta | None = KEEPALIVE


LOAD_POLICY = ActivityCall("load_policy", IncidentPolicy, timedelta(seconds=10))
REQUEST_PERMIT = ActivityCall("request_permit", Permit, timedelta(seconds=30))

GATHER_CONTEXT = ActivityCall("gather_context", ClusterContext, timedelta(seconds=90))
APPLY_REMEDIATION = ActivityCall("apply_remediation", RemediationResult, timedelta(seconds=60))
WAIT_ROLLOUT = ActivityCall("wait_rollout", RolloutResult, timedelta(minutes=30))
VERIFY_HEALTH = ActivityCall("verify_health", HealthReport, timedelta(minutes=30))

DIAGNOSE = ActivityCall("diagnose", Diagnosis, timedelta(minutes=5))
ANALYZE_WORKLOAD = ActivityCall("analyze_workload", WorkloadAnalysis, timedelta(minutes=2))
"""The rules path: gather, diagnose and propose in one activity (activities/remedy.py)."""
PROPOSE_FIX = ActivityCall("propose_fix", FixProposal, timedelta(seconds=30))

OPEN_PULL_REQUEST = ActivityCall("open_pull_request", PullRequestInfo, timedelta(seconds=90))
GET_PULL_REQUEST = ActivityCall(
    "get_pull_request", PullRequestState, timedelta(seconds=30), retry=BEST_EFFORT
)
MERGE_PULL_REQUEST = ActivityCall("merge_pull_request", PullRequestState, timedelta(seconds=60))
CLOSE_PULL_REQUEST = ActivityCall(
    "close_pull_request", PullRequestState, timedelta(seconds=60), retry=BEST_EFFORT
)
OPEN_REVERT_PULL_REQUEST = ActivityCall(
    "open_revert_pull_request", PullRequestInfo, timedelta(seconds=90)
)

OPEN_TICKET = ActivityCall("open_ticket", TicketRef, timedelta(seconds=30), retry=BEST_EFFORT)
UPDATE_TICKET = ActivityCall("update_ticket", TicketRef, timedelta(seconds=30), retry=BEST_EFFORT)

PATIENT = RetryPolicy(
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=20,
)
"""For a ticket opened after its incident ended: JIRA has about two and a half hours to return."""

OPEN_TICKET_LATER = ActivityCall("open_ticket", TicketRef, timedelta(seconds=30), retry=PATIENT)
UPDATE_TICKET_LATER = ActivityCall("update_ticket", TicketRef, timedelta(seconds=30), retry=PATIENT)
NOTIFY = ActivityCall("notify", NotificationResult, timedelta(seconds=15), retry=BEST_EFFORT)


async def call(
    spec: ActivityCall[ResultT], request: BaseModel, *, start_to_close: timedelta | None = None
) -> ResultT:
    """Run one activity from workflow code and return its typed result."""
    return await workflow.execute_activity(
        spec.name,
        request,
        result_type=spec.result_type,
        start_to_close_timeout=start_to_close or spec.start_to_close,
        heartbeat_timeout=spec.heartbeat,
        retry_policy=spec.retry,
    )
