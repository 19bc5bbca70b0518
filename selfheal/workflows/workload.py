"""WorkloadWorkflow: one per workload on one cluster, the door every alert about it enters by.

An incident is one workload on one cluster, open until what paged is explained. So alerts
are not delivered to incidents but to their workload (signal-with-start of `alert`, id
`workload-<name>-<8 hex>`), which

- passes them on to its open incident, in batches, whatever their source or name;
- opens the next incident (a child IncidentWorkflow) for a firing alert when none is open,
  naming the incident before it;
- drops a resolved notice when no incident is open: an ended incident is not reopened (an
  incident ends only once its alerts have resolved, or said why it could not wait);
- remembers its last incident for `MEMORY`, then ends; the next alert starts it afresh.

It keeps no alert payloads beyond the batch in hand, so a storm of any size costs it only
its counters. Its memo (`WorkloadMemo`) says which incident an alert joins or opens, for the
webhook's answer.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from selfheal.domain import (
        Alert,
        AlertBatch,
        AlertStatus,
        IncidentEnding,
        IncidentInput,
        IncidentState,
        IncidentStatus,
        WorkloadInput,
        WorkloadMemo,
        WorkloadState,
    )
    from selfheal.workflows import search

MEMORY = timedelta(days=7)
"""How long a workload remembers its last incident (to name it when the next one opens)."""

HISTORY_LIMIT = 2000
"""Continue as new at this many events (a storm is thousands of signals)."""

MEMO_KEY = "workload"


@workflow.defn
class WorkloadWorkflow:
    """Routes every alert about one workload to its one open incident, or opens the next."""

    @workflow.init
    def __init__(self, input: WorkloadInput) -> None:
        self._workload = input.workload
        self._queue = input.incident_task_queue
        self._state = input.state or WorkloadState(
            first_run_id=workflow.info().first_execution_run_id
        )
        self._inbox: list[Alert] = list(input.pending)
        self._endings: list[IncidentEnding] = []

    @workflow.run
    async def run(self, input: WorkloadInput) -> WorkloadState:
        while True:
            idle = self._idle_left()
            if idle is not None and idle <= timedelta(0) and not self._inbox:
                return self._state
            try:
                await workflow.wait_condition(
                    lambda: bool(self._inbox or self._endings) or self._history_is_long(),
                    timeout=idle,
                )
            except TimeoutError:
                continue
            self._take_endings()
            if self._inbox:
                alerts, self._inbox = self._inbox, []
                await self._dispatch(alerts)
            if self._history_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._take_endings()
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
        """Alerts about this workload delivered together (one webhook notification)."""
        self._state.alerts += len(batch.alerts)
        self._inbox.extend(batch.alerts)

    @workflow.signal
    def incident_ended(self, ending: IncidentEnding) -> None:
        """The open incident has ended (its last act)."""
        self._endings.append(ending)

    @workflow.query
    def memory(self) -> WorkloadState:
        """What the workload remembers: its open incident, its last one, its counters."""
        return self._state

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
        incident_id = self._workload.incident_id(state.first_run_id, state.opened)
        seed = IncidentStatus(
            id=incident_id,
            service=alert.workload or "",
            namespace=alert.namespace or "",
            cluster=alert.cluster or "",
            severity=alert.severity,
            reason=alert.reason or alert.name,
        )
        # Published before the child starts, so an alert answered meanwhile names it.
        state.open_incident = incident_id
        self._publish()
        await workflow.start_child_workflow(
            "IncidentWorkflow",
            IncidentInput(
                incident_id=incident_id,
                alert=alert,
                workload_id=workflow.info().workflow_id,
                previous=state.last,
            ),
            id=incident_id,
            task_queue=self._queue,
            parent_close_policy=ParentClosePolicy.ABANDON,
            search_attributes=search.attributes_of(seed),
            static_summary=search.summary_of(alert),
            static_details=alert.summary or search.summary_of(alert),
        )

    async def _forward(self, incident_id: str, alerts: list[Alert]) -> bool:
        """Signal `alerts` to the incident, each distinct alert once; False if it is gone."""
        distinct: dict[tuple[str, AlertStatus], Alert] = {}
        for alert in alerts:
            distinct[(alert.key, alert.status)] = alert
        batch = AlertBatch(alerts=list(distinct.values()), count=len(alerts))
        try:
            await workflow.get_external_workflow_handle(incident_id).signal("alerts", batch)
        except FailureError:
            return False
        return True

    def _take_endings(self) -> None:
        endings, self._endings = self._endings, []
        for ending in endings:
            if ending.incident_id == self._state.open_incident:
                self._state.open_incident = None
                self._state.last = ending
                self._publish()

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
        self._publish()

    # --- small pieces ----------------------------------------------------------------------

    def _idle_left(self) -> timedelta | None:
        """How long until the workload forgets its last incident; None while one is open."""
        if self._state.open_incident is not None:
            return None
        since = self._state.last.ended_at if self._state.last else workflow.info().start_time
        return since + MEMORY - workflow.now()

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > (
            HISTORY_LIMIT
        )

    def _publish(self) -> None:
        """Say in the memo which incident the next alert joins or opens."""
        state = self._state
        memo = WorkloadMemo(
            open_incident=state.open_incident,
            next_incident=self._workload.incident_id(state.first_run_id, state.opened + 1),
            last=state.last,
        )
        workflow.upsert_memo({MEMO_KEY: memo})
