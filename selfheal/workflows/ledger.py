"""The anti-loop limit for one workload: the remediation ledger, durable in Temporal.

`RemediationLedger` grants a remediation while the workload had fewer than the limit within
the window and records it, refuses otherwise, and answers a repeated request (same key) the
same way. The workload's WorkloadWorkflow keeps it (its `permit` update), so one workload is
one workflow for its alerts, its incidents and its count.

`RemediationLedgerWorkflow` (id `<guard id>/<cluster>/<namespace>/<deployment>`) is how the
ledger was kept before: one workflow per workload on the guard's queue, ending once every
record has left the window. Those still running keep answering their workload until then.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from selfheal.model.guard import LedgerState, Permit, PermitRequest, RemediationRecord

HISTORY_LIMIT = 2000


def ledger_id(guard_workflow_id: str, workload: str) -> str:
    """The workflow id of one workload's ledger (`workload` is cluster/namespace/deployment)."""
    return f"{guard_workflow_id}/{workload}"


class RemediationLedger:
    """One workload's remediations within the window, and the answers given: the anti-loop
    count. Plain logic over a LedgerState, kept by whichever workflow holds the workload's
    state (its WorkloadWorkflow; a RemediationLedgerWorkflow started before those)."""

    def __init__(self, state: LedgerState) -> None:
        self.state = state

    def permit(self, request: PermitRequest, now: datetime) -> Permit:
        """Grant and record one remediation, or refuse it naming the earlier ones; the same
        request key always gets the same answer."""
        remembered = self.state.answers.get(request.key)
        if remembered is not None:
            return remembered
        self.state.window = request.window
        self.forget_expired(now)
        answer = self._decide(request, now)
        answer.decided_at = now
        self.state.answers[request.key] = answer
        return answer

    def forget_expired(self, now: datetime) -> None:
        """Drop the records and answers that have left the window."""
        since = now - self.state.window
        self.state.records = [r for r in self.state.records if r.at > since]
        self.state.answers = {
            key: answer
            for key, answer in self.state.answers.items()
            if answer.decided_at is None or answer.decided_at > since
        }

    def empty_at(self) -> datetime | None:
        """When the last record leaves the window; None when there is none."""
        if not self.state.records:
            return None
        return max(record.at for record in self.state.records) + self.state.window

    def next_expiry(self) -> datetime | None:
        """When the oldest record leaves the window; None when there is none."""
        if not self.state.records:
            return None
        return min(record.at for record in self.state.records) + self.state.window

    def _decide(self, request: PermitRequest, now: datetime) -> Permit:
        recent = self.state.records
        if len(recent) >= request.limit:
            listing = "; ".join(
                f"{r.at:%Y-%m-%d %H:%M} {r.incident_id}: {r.action}" for r in recent
            )
            return Permit(
                granted=False,
                refusal=(
                    f"anti-loop: {request.workload} was remediated {len(recent)} times in the "
                    f"last {request.window} (limit {request.limit}): {listing}"
                ),
                earlier=list(recent),
            )
        recent.append(
            RemediationRecord(incident_id=request.incident_id, at=now, action=request.action)
        )
        return Permit(granted=True)


@workflow.defn
class RemediationLedgerWorkflow:
    """Counts one workload's remediations per window; ends when the window is empty.

    New permits go to the workload's WorkloadWorkflow; ledgers started before it keep
    answering their workload until their window is empty.
    """

    @workflow.init
    def __init__(self, state: LedgerState) -> None:
        self._ledger = RemediationLedger(state)
        self._state = state
        self._changed = False

    @workflow.run
    async def run(self, state: LedgerState) -> None:
        # Started by a permit request: never end before answering it.
        await workflow.wait_condition(lambda: bool(self._state.answers))
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            self._ledger.forget_expired(workflow.now())
            if not self._state.records:
                return
            if self._history_full():
                workflow.continue_as_new(self._state)
            oldest = min(record.at for record in self._state.records)
            expires = max(oldest + self._state.window - workflow.now(), timedelta(seconds=1))
            self._changed = False
            with contextlib.suppress(TimeoutError):  # the oldest record left the window
                await workflow.wait_condition(
                    lambda: self._changed or self._history_full(), timeout=expires
                )

    @workflow.update
    def permit(self, request: PermitRequest) -> Permit:
        """Grant and record one remediation, or refuse it naming the earlier ones."""
        answer = self._ledger.permit(request, workflow.now())
        self._changed = True
        return answer

    @workflow.query
    def state(self) -> LedgerState:
        """The workload's remediations within the window."""
        return self._state

    def _history_full(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= HISTORY_LIMIT
        )
