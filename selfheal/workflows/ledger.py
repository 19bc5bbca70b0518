"""RemediationLedgerWorkflow: the anti-loop limit for one workload, durable in Temporal.

One workflow per workload (id `<guard id>/<cluster>/<namespace>/<deployment>`), started by
the first permit request with update-with-start. It grants a remediation while the workload
had fewer than the limit within the window and records it, refuses otherwise, and answers a
repeated request (same key) the same way. Once every record has left the window it ends: a
later request starts a fresh ledger, which is the same as an empty one.

One ledger per workload, rather than one for all of them, keeps a thousand concurrent
incidents from queueing on a single workflow (benchmarks/scale.py).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from selfheal.domain import LedgerState, Permit, PermitRequest, RemediationRecord

HISTORY_LIMIT = 2000


def ledger_id(guard_workflow_id: str, workload: str) -> str:
    """The workflow id of one workload's ledger (`workload` is cluster/namespace/deployment)."""
    return f"{guard_workflow_id}/{workload}"


@workflow.defn
class RemediationLedgerWorkflow:
    """Counts one workload's remediations per window; ends when the window is empty."""

    @workflow.init
    def __init__(self, state: LedgerState) -> None:
        self._state = state
        self._changed = False

    @workflow.run
    async def run(self, state: LedgerState) -> None:
        # Started by a permit request: never end before answering it.
        await workflow.wait_condition(lambda: bool(self._state.answers))
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            self._forget_expired()
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
        remembered = self._state.answers.get(request.key)
        if remembered is not None:
            return remembered
        self._state.window = request.window
        self._forget_expired()
        answer = self._decide(request)
        answer.decided_at = workflow.now()
        self._state.answers[request.key] = answer
        self._changed = True
        return answer

    @workflow.query
    def state(self) -> LedgerState:
        """The workload's remediations within the window."""
        return self._state

    def _decide(self, request: PermitRequest) -> Permit:
        recent = self._state.records
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
            RemediationRecord(
                incident_id=request.incident_id, at=workflow.now(), action=request.action
            )
        )
        return Permit(granted=True)

    def _forget_expired(self) -> None:
        since = workflow.now() - self._state.window
        self._state.records = [r for r in self._state.records if r.at > since]
        self._state.answers = {
            key: answer
            for key, answer in self._state.answers.items()
            if answer.decided_at is None or answer.decided_at > since
        }

    def _history_full(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= HISTORY_LIMIT
        )
