"""WorkloadWorkflow: one per workload on one cluster, the door every alert about it enters by.

An incident is one workload on one cluster, open until what paged is explained. So alerts
are not delivered to incidents but to their workload (signal-with-start of `alert`, id
`workload-<name>-<8 hex>`), which

- passes them on to its open incident, in batches, whatever their source or name;
- opens the next incident (a child IncidentWorkflow) for a firing alert when none is open,
  naming the incident before it;
- drops a resolved notice when no incident is open: an ended incident is not reopened (an
  incident ends only once its alerts have resolved, or says why it could not wait);
- takes back the alerts that reached an incident as it closed (its result's `after_close`),
  so a firing one opens the next incident rather than vanishing into the closing one;
- learns that its incident has ended from the child's completion;
- keeps the workload's remediation count for the anti-loop limit (update `permit`, asked by
  its incidents before each change), so one workload is one workflow;
- remembers its last incident for `MEMORY` (and its count for the anti-loop window), then
  ends; the next alert starts it afresh.

It keeps no alert payloads beyond the batch in hand, so a storm of any size costs it only
its counters. It publishes nothing: its open incident is its pending child, and the id of
the incident it opens next follows from its run, both of which a describe call shows the
webhook (see `WorkloadRef.incident_id`).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError, FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from selfheal.model.alerts import MODE_LABEL, Alert, AlertBatch, AlertStatus
    from selfheal.model.guard import LedgerState, Permit, PermitRequest
    from selfheal.model.incident import IncidentEnding, IncidentInput, IncidentState, IncidentStatus
    from selfheal.model.workload import WorkloadInput, WorkloadState
    from selfheal.workflows import search
    from selfheal.workflows.deliveries import RecentDeliveries
    from selfheal.workflows.ledger import RemediationLedger
    from selfheal.workflows.patches import ALERTS_AFTER_CLOSE, IDEMPOTENT_DELIVERIES

MEMORY = timedelta(days=7)
"""How long a workload remembers its last incident (to name it when the next one opens)."""

HISTORY_LIMIT = 2000
"""Continue as new at this many events (a storm is thousands of signals)."""

BATCH = 100
"""Distinct alerts passed on to the incident in one signal (a signal's payload is bounded)."""


@workflow.defn
class WorkloadWorkflow:
    """Routes every alert about one workload to its one open incident, or opens the next."""

    @workflow.init
    def __init__(self, input: WorkloadInput) -> None:
        self._workload = input.workload
        self._queue = input.incident_task_queue
        self._state = input.state or WorkloadState()
        self._inbox: list[Alert] = list(input.pending)
        self._endings: list[IncidentEnding] = []
        self._opened_here = 0  # incidents this run opened: their ids follow from its run id
        self._watching: set[asyncio.Task[None]] = set()
        self._ledger = RemediationLedger(
            self._state.ledger or LedgerState(workload=input.workload.key)
        )
        self._permitted = False
        self._recent = RecentDeliveries(self._state.deliveries)

    @workflow.run
    async def run(self, input: WorkloadInput) -> WorkloadState:
        while True:
            idle = self._idle_left()
            if idle is not None and idle <= timedelta(0) and not (self._inbox or self._permitted):
                self._keep_ledger()
                return self._state
            try:
                await workflow.wait_condition(
                    lambda: (
                        bool(self._inbox or self._endings or self._permitted)
                        or self._history_is_long()
                    ),
                    timeout=idle,
                )
            except TimeoutError:
                continue
            self._permitted = False
            self._take_endings()
            if self._inbox:
                alerts, self._inbox = self._inbox, []
                await self._dispatch(alerts)
            if self._history_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._take_endings()
                self._keep_ledger()
                workflow.continue_as_new(
                    WorkloadInput(
                        workload=self._workload,
                        incident_task_queue=self._queue,
                        state=self._state,
                        pending=self._inbox,
                    )
                )

    @workflow.signal
    def alert(self, alert: Alert) -> None:
        """An alert about this workload, firing or resolved, from any source."""
        self._state.alerts += 1
        self._inbox.append(alert)

    @workflow.signal
    def alerts(self, batch: AlertBatch) -> None:
        """Alerts about this workload delivered together (one webhook notification); a
        sender's retry of a delivery already taken is dropped."""
        if (
            batch.delivery
            and workflow.patched(IDEMPOTENT_DELIVERIES)
            and not self._recent.first_time(batch.delivery, workflow.now())
        ):
            self._state.repeats += 1
            return
        self._state.alerts += len(batch.alerts)
        self._inbox.extend(batch.alerts)

    @workflow.update
    def permit(self, request: PermitRequest) -> Permit:
        """Grant and count one remediation of the workload, or refuse it past the anti-loop
        limit naming the earlier ones; the same request key always gets the same answer."""
        answer = self._ledger.permit(request, workflow.now())
        self._permitted = True
        return answer

    @workflow.query
    def memory(self) -> WorkloadState:
        """What the workload remembers: its open incident, its last one, its count."""
        return self._state.model_copy(update={"ledger": self._ledger.state})

    # --- routing ---------------------------------------------------------------------------

    async def _dispatch(self, alerts: list[Alert]) -> None:
        """Pass `alerts` on to the open incident, or open one for the first firing alert."""
        state = self._state
        if state.open_incident is not None:
            if await self._forward(state.open_incident, alerts):
                return
            self._forget_open_incident("it no longer runs (ended without saying so)")
        opening = next(
            (index for index, alert in enumerate(alerts) if alert.status == AlertStatus.FIRING),
            None,
        )
        if opening is None:
            state.ignored += len(alerts)
            return
        state.ignored += opening
        await self._open(alerts[opening])
        rest = alerts[opening + 1 :]
        if rest and state.open_incident is not None:
            await self._forward(state.open_incident, rest)

    async def _open(self, alert: Alert) -> None:
        state = self._state
        state.opened += 1
        self._opened_here += 1
        incident_id = self._workload.incident_id(workflow.info().run_id, self._opened_here)
        seed = IncidentStatus(
            id=incident_id,
            service=alert.workload or "",
            namespace=alert.namespace or "",
            cluster=alert.cluster or "",
            severity=alert.severity,
            reason=alert.reason or alert.name,
        )
        state.open_incident = incident_id
        incident = await workflow.start_child_workflow(
            "IncidentWorkflow",
            IncidentInput(
                incident_id=incident_id,
                alert=alert,
                workload_id=workflow.info().workflow_id,
                previous=state.last,
            ),
            id=incident_id,
            task_queue=self._queue,
            # Abandoned, not terminated, when this run continues as new in a storm.
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=search.attributes_of(seed),
            static_summary=search.summary_of(alert),
            static_details=alert.summary or search.summary_of(alert),
            result_type=IncidentStatus,
        )
        # Kept until it has run: the event loop holds tasks only weakly.
        watch = asyncio.create_task(self._await_end(incident))
        self._watching.add(watch)
        watch.add_done_callback(self._watching.discard)

    async def _await_end(self, incident: workflow.ChildWorkflowHandle[Any, IncidentStatus]) -> None:
        """Note how the incident ended once it has (a child of this run)."""
        try:
            status = await incident
            state, note = status.state, status.resolution or status.escalation_reason or ""
            changed, ticket = status.actions_taken > 0, status.ticket_key
            if status.after_close and workflow.patched(ALERTS_AFTER_CLOSE):
                # Alerts that reached it as it closed: a firing one opens the next incident.
                self._inbox.extend(status.after_close)
        except ChildWorkflowError as failed:  # terminated or failed by hand
            state, note, changed, ticket = IncidentState.ESCALATED, str(failed.cause), False, None
        self._endings.append(
            IncidentEnding(
                incident_id=incident.id,
                state=state,
                ended_at=workflow.now(),
                note=note,
                changed=changed,
                ticket_key=ticket,
            )
        )

    async def _forward(self, incident_id: str, alerts: list[Alert]) -> bool:
        """Signal `alerts` to the incident, each distinct alert once and without the labels
        and annotations it does not keep, in batches of at most BATCH; False if it is gone."""
        distinct: dict[tuple[str, AlertStatus], Alert] = {}
        for alert in alerts:
            # The mode label stays: an alert handed back as its incident closes opens the next.
            kept_labels = {k: v for k, v in alert.labels.items() if k == MODE_LABEL}
            distinct[(alert.key, alert.status)] = alert.model_copy(
                update={"labels": kept_labels, "annotations": {}}
            )
        kept = list(distinct.values())
        handle = workflow.get_external_workflow_handle(incident_id)
        for start in range(0, len(kept), BATCH):
            part = kept[start : start + BATCH]
            # The whole count rides on the last batch, so a partial delivery counts nothing twice.
            count = (
                len(alerts) - (len(kept) - len(part)) if start + BATCH >= len(kept) else len(part)
            )
            try:
                await handle.signal("alerts", AlertBatch(alerts=part, count=count))
            except FailureError:
                return False
        return True

    def _take_endings(self) -> None:
        endings, self._endings = self._endings, []
        for ending in endings:
            if ending.incident_id == self._state.open_incident:
                self._state.open_incident = None
                self._state.last = ending

    def _forget_open_incident(self, why: str) -> None:
        state = self._state
        assert state.open_incident is not None
        state.last = IncidentEnding(
            incident_id=state.open_incident,
            state=IncidentState.ESCALATED,
            ended_at=workflow.now(),
            note=why,
        )
        state.open_incident = None

    # --- small pieces ----------------------------------------------------------------------

    def _idle_left(self) -> timedelta | None:
        """How long until the workload may end: once it has forgotten its last incident and
        its count is empty; None while an incident is open."""
        if self._state.open_incident is not None:
            return None
        now = workflow.now()
        self._ledger.forget_expired(now)
        since = self._state.last.ended_at if self._state.last else workflow.info().start_time
        ends = max(since + MEMORY, self._ledger.empty_at() or since)
        return ends - now

    def _keep_ledger(self) -> None:
        """Carry the count in the state (across continue-as-new), or nothing when empty."""
        self._state.ledger = self._ledger.state if self._ledger.state.records else None

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > (
            HISTORY_LIMIT
        )
