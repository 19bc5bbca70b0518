"""The sandbox project's workflow: statuses and the transitions between them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Status:
    """A workflow status and the category JIRA groups it under."""

    id: str
    name: str
    category_id: int
    category_key: str
    category_name: str


@dataclass(frozen=True)
class Transition:
    """A named move to `to`, offered while an issue is in one of `sources`."""

    id: str
    name: str
    to: str
    sources: frozenset[str]


TO_DO = Status("10000", "To Do", 2, "new", "To Do")
IN_PROGRESS = Status("3", "In Progress", 4, "indeterminate", "In Progress")
NEEDS_HUMAN = Status("10002", "Needs Human", 4, "indeterminate", "In Progress")
DONE = Status("10001", "Done", 3, "done", "Done")

STATUSES: dict[str, Status] = {s.name: s for s in (TO_DO, IN_PROGRESS, NEEDS_HUMAN, DONE)}
INITIAL_STATUS = TO_DO.name

TRANSITIONS: tuple[Transition, ...] = (
    Transition("11", "Stop Progress", TO_DO.name, frozenset({IN_PROGRESS.name, NEEDS_HUMAN.name})),
    Transition("21", "Start Progress", IN_PROGRESS.name, frozenset({TO_DO.name, NEEDS_HUMAN.name})),
    Transition(
        "31", "Done", DONE.name, frozenset({TO_DO.name, IN_PROGRESS.name, NEEDS_HUMAN.name})
    ),
    Transition("41", "Needs Human", NEEDS_HUMAN.name, frozenset({TO_DO.name, IN_PROGRESS.name})),
    Transition("51", "Reopen", TO_DO.name, frozenset({DONE.name})),
    Transition("61", "Reopen and Start Progress", IN_PROGRESS.name, frozenset({DONE.name})),
)


def available(status: str) -> list[Transition]:
    """Return the transitions an issue in `status` may take, in workflow order."""
    return [t for t in TRANSITIONS if status in t.sources]


def find(status: str, transition_id: str | None, name: str | None) -> Transition | None:
    """Return the transition named by id (or by name) if it is available from `status`."""
    for transition in available(status):
        if transition_id is not None and transition.id == str(transition_id):
            return transition
        if transition_id is None and name is not None and transition.name.lower() == name.lower():
            return transition
    return None
