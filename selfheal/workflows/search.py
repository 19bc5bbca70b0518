"""What the Temporal UI shows of an incident: search attributes and current details."""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

with workflow.unsafe.imports_passed_through():
    from selfheal.model.alerts import Alert
    from selfheal.model.incident import IncidentState, IncidentStatus
    from selfheal.workflows.patches import PUBLISHED_STATUS

STATE = SearchAttributeKey.for_keyword("IncidentState")
SERVICE = SearchAttributeKey.for_keyword("IncidentService")
NAMESPACE = SearchAttributeKey.for_keyword("IncidentNamespace")
SEVERITY = SearchAttributeKey.for_keyword("IncidentSeverity")
REASON = SearchAttributeKey.for_keyword("IncidentReason")

ALL_KEYS = (STATE, SERVICE, NAMESPACE, SEVERITY, REASON)
"""The custom search attributes `selfheal up` and the compose stack register (all Keyword)."""


def _values_of(status: IncidentStatus) -> list[tuple[SearchAttributeKey[str], str]]:
    # No secrets or personal data here: search attributes are stored unencrypted.
    return [
        (STATE, status.state.value),
        (SERVICE, status.service or "unmapped"),
        (NAMESPACE, status.namespace or "unknown"),
        (SEVERITY, status.severity or "unknown"),
        (REASON, status.reason or "unknown"),
    ]


def attributes_of(status: IncidentStatus) -> TypedSearchAttributes:
    """The search attributes describing `status`, for starting its workflow."""
    return TypedSearchAttributes(
        [SearchAttributePair(key, value) for key, value in _values_of(status)]
    )


def updates_of(status: IncidentStatus) -> list[SearchAttributeUpdate[str]]:
    """The same attributes as updates, for upserting from the workflow."""
    return [key.value_set(value) for key, value in _values_of(status)]


def details_of(status: IncidentStatus, frozen: bool = False) -> str:
    """A short markdown card for the UI's 'current details' panel."""
    lines = ["**REMEDIATION FROZEN** (selfheal freeze): no change until unfreeze"] if frozen else []
    lines += [
        f"**{status.state.value}** · {status.mode.value} mode · "
        f"{status.namespace or '?'}/{status.service or '?'} on {status.cluster or '?'} · "
        f"{status.alert_count} alert(s)",
    ]
    if status.alert_names:
        firing = "firing" if status.alert_firing else "all resolved"
        lines.append(f"Alerts ({firing}): {', '.join(status.alert_names)}")
    if status.previous_incident:
        lines.append(f"Recurrence of {status.previous_incident}")
    if status.diagnosis:
        lines.append(f"Diagnosis: {status.diagnosis.category.value} — {status.diagnosis.summary}")
    if status.fix:
        lines.append(f"Fix: {status.fix.kind.value} (risk {status.fix.risk.value})")
    if status.pr_url:
        lines.append(f"Pull request: {status.pr_url}")
    if status.ticket_key:
        lines.append(f"Ticket: {status.ticket_key}")
    if status.deadline:
        lines.append(f"Waiting for a person until {status.deadline.isoformat(timespec='seconds')}")
    if status.escalation_reason:
        lines.append(f"Escalated: {status.escalation_reason}")
    if status.resolution:
        lines.append(f"Resolution: {status.resolution}")
    return "\n\n".join(lines)


def summary_of(alert: Alert) -> str:
    """The one line the UI lists an incident by: the alert that opened it and where."""
    target = f"{alert.namespace or '?'}/{alert.workload or 'unmapped'}"
    return f"{alert.name} on {target} ({alert.cluster or 'default'}, {alert.severity})"


STATUS_MEMO = "status"
"""Memo key of the status an incident last published, read when no worker answers queries."""

_TIMELINE_KEPT = 10
_EVIDENCE_KEPT = 3
_NOTE_CHARS = 400


def published(status: IncidentStatus) -> IncidentStatus:
    """The status as the memo carries it, kept small (the memo is rewritten at every
    transition): the last timeline entries and decisions, the decisive evidence, the fix's
    field changes without its patches, and no alert payloads."""
    timeline = [
        entry.model_copy(update={"note": entry.note[:_NOTE_CHARS]})
        for entry in status.timeline[-_TIMELINE_KEPT:]
    ]
    published = status.model_copy(
        update={
            "first_alert": None,
            "alerts": {},
            "timeline": timeline,
            "approvals": status.approvals[-_TIMELINE_KEPT:],
        }
    )
    if status.diagnosis is not None:
        published.diagnosis = status.diagnosis.model_copy(
            update={"evidence": status.diagnosis.evidence[:_EVIDENCE_KEPT], "proposed_fix": None}
        )
    if status.fix is not None:
        published.fix = status.fix.model_copy(update={"manifest_patch": {}, "action": None})
    return published


MEMO_STATES = frozenset(
    {IncidentState.AWAITING_REVIEW, IncidentState.AWAITING_APPROVAL, IncidentState.ESCALATED}
)
"""Where an incident waits for people: its status goes to the memo there (and while frozen),
for reading with no worker running. In the steps between, the search attributes say where
it is; an ended incident is read from its result. Every memo write is a visibility write."""


def publish(status: IncidentStatus, frozen: bool = False) -> None:
    """Upsert the search attributes and the current details from the workflow; at a wait for
    people (or a freeze), the status in the memo too."""
    workflow.upsert_search_attributes(updates_of(status))
    workflow.set_current_details(details_of(status, frozen))
    if (status.state in MEMO_STATES or frozen) and workflow.patched(PUBLISHED_STATUS):
        workflow.upsert_memo({STATUS_MEMO: published(status)})
