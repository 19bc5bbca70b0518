"""selfheal's own metrics, on the worker's Prometheus endpoint beside the Temporal SDK's.

    selfheal_incident_transitions{from_state, state}    every state change of every incident
    selfheal_incident_escalations{from_state}           entries into ESCALATED
    selfheal_incident_time_to_resolve_seconds{via}      first alert to RESOLVED (histogram)
    selfheal_incident_decisions{decision, accepted, by} approvals and rejections received
    selfheal_model_tokens{kind}, selfheal_model_calls   what the model investigations spent

Temporal adds `namespace`, `task_queue` and `workflow_type` to each. They are emitted through
the workflow's own meter (`workflow.metric_meter()`), which records nothing during replay,
by a worker interceptor that watches the incident's public `status` — so IncidentWorkflow
needs no code for them and a replayed or continued incident is never counted twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from temporalio import workflow
from temporalio.common import MetricMeter
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

with workflow.unsafe.imports_passed_through():
    from selfheal.model.diagnosis import TokenUsage
    from selfheal.model.incident import IncidentState, IncidentStatus

INCIDENT_WORKFLOW = "IncidentWorkflow"

TRANSITIONS = "selfheal_incident_transitions"
ESCALATIONS = "selfheal_incident_escalations"
TIME_TO_RESOLVE = "selfheal_incident_time_to_resolve_seconds"
DECISIONS = "selfheal_incident_decisions"
MODEL_TOKENS = "selfheal_model_tokens"
MODEL_CALLS = "selfheal_model_calls"

HISTOGRAM_BUCKETS: dict[str, list[float]] = {
    # From a minute (an automatic fix) to a week (the longest escalation wait).
    TIME_TO_RESOLVE: [60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400],
}
"""Bucket bounds for the Prometheus exporter (PrometheusConfig.histogram_bucket_overrides)."""

_TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


class _Reports(Protocol):
    def status(self) -> IncidentStatus: ...


@dataclass
class IncidentProgress:
    """How much of an incident's status has been counted already."""

    timeline: int = 0
    approvals: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)

    @classmethod
    def of(cls, status: IncidentStatus) -> IncidentProgress:
        """Progress with everything in `status` already counted (a continued run's start)."""
        return cls(len(status.timeline), len(status.approvals), status.usage.model_copy())

    def unseen(self, status: IncidentStatus) -> bool:
        """True when `status` holds something not counted yet."""
        return (
            len(status.timeline) != self.timeline
            or len(status.approvals) != self.approvals
            or status.usage != self.usage
        )


class IncidentMetrics:
    """selfheal's instruments on one meter; `record` counts what changed in a status."""

    def __init__(self, meter: MetricMeter) -> None:
        self.transitions = meter.create_counter(
            TRANSITIONS, "Incident state changes, by the state left and the state entered"
        )
        self.escalations = meter.create_counter(
            ESCALATIONS, "Incidents handed to a person, by the state they escalated from"
        )
        self.time_to_resolve = meter.create_histogram_float(
            TIME_TO_RESOLVE,
            "Seconds from an incident's start to RESOLVED, by the state it resolved from",
            "s",
        )
        self.decisions = meter.create_counter(
            DECISIONS, "Approvals and rejections received, and whether they counted"
        )
        self.model_tokens = meter.create_counter(MODEL_TOKENS, "Model tokens spent, by kind")
        self.model_calls = meter.create_counter(MODEL_CALLS, "Model calls made")

    def record(self, seen: IncidentProgress, status: IncidentStatus) -> IncidentProgress:
        """Count what `status` holds beyond `seen`; return the new progress."""
        timeline = status.timeline
        previous = timeline[seen.timeline - 1].state if 0 < seen.timeline <= len(timeline) else None
        for entry in timeline[seen.timeline :]:
            if entry.state != previous:
                self._transition(previous, entry.state)
                if entry.state == IncidentState.RESOLVED:
                    seconds = (entry.at - timeline[0].at).total_seconds()
                    self.time_to_resolve.record(seconds, {"via": _name(previous)})
            previous = entry.state
        for decision in status.approvals[seen.approvals :]:
            self.decisions.add(
                1,
                {
                    "decision": decision.decision,
                    "accepted": str(decision.accepted).lower(),
                    "by": "policy" if decision.by == "selfheal" else "person",
                },
            )
        self._spent(seen.usage, status.usage)
        return IncidentProgress.of(status)

    def _transition(self, left: IncidentState | None, entered: IncidentState) -> None:
        self.transitions.add(1, {"from_state": _name(left), "state": entered.value})
        if entered == IncidentState.ESCALATED:
            self.escalations.add(1, {"from_state": _name(left)})

    def _spent(self, before: TokenUsage, after: TokenUsage) -> None:
        for kind in _TOKEN_KINDS:
            delta = getattr(after, kind) - getattr(before, kind)
            if delta > 0:
                self.model_tokens.add(delta, {"kind": kind.removesuffix("_tokens")})
        if after.model_calls > before.model_calls:
            self.model_calls.add(after.model_calls - before.model_calls)


def _name(state: IncidentState | None) -> str:
    return state.value if state is not None else "NONE"


class IncidentMetricsInterceptor(Interceptor):
    """Worker interceptor that records IncidentMetrics for every IncidentWorkflow it runs."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        return _IncidentMetricsInbound


class _IncidentMetricsInbound(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        if workflow.info().workflow_type != INCIDENT_WORKFLOW:
            return await super().execute_workflow(input)
        incident: _Reports = workflow.instance()
        metrics = IncidentMetrics(workflow.metric_meter())
        watcher = _Watcher(incident, metrics)
        task = asyncio.create_task(watcher.run())
        try:
            return await super().execute_workflow(input)
        finally:
            # The last transitions may have happened in the activation that ended the run.
            task.cancel()
            watcher.catch_up()


class _Watcher:
    """Counts an incident's progress as it happens, from its `status` query method.

    It only reads the status and waits on a condition: no commands, so the incident's
    history is the same with or without it.
    """

    def __init__(self, incident: _Reports, metrics: IncidentMetrics) -> None:
        self._incident = incident
        self._metrics = metrics
        # A run continued as new carries the status counted by the runs before it.
        self._seen = IncidentProgress.of(incident.status())

    async def run(self) -> None:
        while True:
            await workflow.wait_condition(lambda: self._seen.unseen(self._incident.status()))
            self.catch_up()

    def catch_up(self) -> None:
        """Count what is new; a fault here is logged and never reaches the incident."""
        try:
            status = self._incident.status()
            if self._seen.unseen(status):
                self._seen = self._metrics.record(self._seen, status)
        except Exception as fault:  # metrics must never fail an incident's workflow task
            workflow.logger.warning("incident metrics not recorded: %s", fault)
            self._seen = IncidentProgress.of(self._incident.status())
