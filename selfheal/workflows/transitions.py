"""How an incident moves: the edges it may take, and what each state's step returns.

Every state method of IncidentWorkflow returns one of:

- `Go(state, note, by)`: enter `state`, with `note` in the timeline (and the ticket);
- `Stay()`: the history is long; continue as new and come back to the same state;
- `Closed(note)`: the incident ends where it is (an escalation nobody took up).

`EDGES` declares every move the workflow makes; `tests/packaging/test_docs.py` holds it
against the code and against the diagram in docs/architecture.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from selfheal.model.incident import IncidentState

RECEIVED = IncidentState.RECEIVED
ANALYZING = IncidentState.ANALYZING
FIXING = IncidentState.FIXING
AWAITING_REVIEW = IncidentState.AWAITING_REVIEW
AWAITING_APPROVAL = IncidentState.AWAITING_APPROVAL
DEPLOYING = IncidentState.DEPLOYING
VERIFYING = IncidentState.VERIFYING
RESOLVED = IncidentState.RESOLVED
ESCALATED = IncidentState.ESCALATED

EDGES: dict[IncidentState, frozenset[IncidentState]] = {
    RECEIVED: frozenset({ANALYZING, ESCALATED}),
    ANALYZING: frozenset({FIXING, RESOLVED, ESCALATED}),
    FIXING: frozenset({AWAITING_REVIEW, AWAITING_APPROVAL, DEPLOYING, RESOLVED, ESCALATED}),
    AWAITING_REVIEW: frozenset({DEPLOYING, RESOLVED, ESCALATED}),
    AWAITING_APPROVAL: frozenset({DEPLOYING, RESOLVED, ESCALATED}),
    DEPLOYING: frozenset({VERIFYING, ESCALATED}),
    VERIFYING: frozenset({RESOLVED, ESCALATED}),
    ESCALATED: frozenset({ANALYZING, RESOLVED}),
    RESOLVED: frozenset(),
}
"""Every move an incident makes, by the state it leaves. It starts in RECEIVED, ends in
RESOLVED, or is closed in ESCALATED when nobody acts (`Closed`)."""


@dataclass(frozen=True)
class Go:
    """Enter `state`; `note` goes to the timeline, `by` names who moved it, if a person."""

    state: IncidentState
    note: str
    by: str | None = None


@dataclass(frozen=True)
class Stay:
    """Continue as new (the history is long), then carry on in the same state."""


@dataclass(frozen=True)
class Closed:
    """The incident ends in the state it is in, with `note` as the last word."""

    note: str


Transition = Go | Stay | Closed


def escalate(reason: str) -> Go:
    """Go to ESCALATED: a person must act, for `reason`."""
    return Go(ESCALATED, reason)


def resolve(note: str, by: str | None = None) -> Go:
    """Go to RESOLVED, saying how it was resolved."""
    return Go(RESOLVED, note, by)
