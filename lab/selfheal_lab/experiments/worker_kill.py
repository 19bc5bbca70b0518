"""Experiment `worker-kill`: SIGKILL the worker while an incident is in each state, start another.

For each state a fresh private stack breaks `payments` (OOM) through git and holds the
incident in that state deterministically, then kills the worker with SIGKILL (no graceful
shutdown), heals the hold and starts a new worker:

    RECEIVED         JIRA hangs, so opening the ticket is in flight
    ANALYZING        the Kubernetes API hangs on pod logs, so gathering context is in flight
    FIXING           GitHub hangs, so opening the pull request is in flight
    AWAITING_REVIEW  the natural wait for a person (nothing in flight)
    DEPLOYING        the GitOps sync's write of the merged fix hangs, so the rollout watch waits
    VERIFYING        a 30 s verification window, so the health check is in flight

The incident must still end RESOLVED with one ticket, one pull request and one spec change.
Time to recover is from the kill to the incident's next transition.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from selfheal.model.incident import IncidentState
from selfheal_lab import watch
from selfheal_lab.experiments import drive, observe
from selfheal_lab.experiments.figures import Figures
from selfheal_lab.experiments.stack import ExperimentStack, private_stack

DEPLOYMENT = "payments"
SCENARIO = "oom"
NAMESPACE = "demo"


@dataclass(frozen=True)
class Hold:
    """How to keep an incident in one state: settings for its stack, and a fault to inject."""

    state: IncidentState
    settings: dict[str, str] = field(default_factory=dict)
    standin: str | None = None
    fault: dict[str, object] = field(default_factory=dict)

    def inject(self, stack: ExperimentStack) -> None:
        if self.standin is not None:
            stack.standin(self.standin).fail(hang=True, **self.fault)  # type: ignore[arg-type]

    def heal(self, stack: ExperimentStack) -> None:
        if self.standin is not None:
            stack.standin(self.standin).heal()

    def in_flight(self, stack: ExperimentStack) -> bool:
        """True once the held call has reached the stand-in (the activity is running)."""
        if self.standin is None:
            return True
        return int(stack.standin(self.standin).fault()["injected"]) > 0


HOLDS = {
    hold.state: hold
    for hold in (
        Hold(IncidentState.RECEIVED, standin="jira"),
        Hold(IncidentState.ANALYZING, standin="kubernetes", fault={"path_contains": "/log"}),
        Hold(IncidentState.FIXING, standin="github"),
        Hold(IncidentState.AWAITING_REVIEW),
        Hold(
            IncidentState.DEPLOYING,
            standin="kubernetes",
            fault={"path_contains": f"/deployments/{DEPLOYMENT}", "methods": ["PUT"]},
        ),
        Hold(IncidentState.VERIFYING, settings={"SELFHEAL_VERIFY_WINDOW": "30s"}),
    )
}
STATES = tuple(HOLDS)
AFTER_REVIEW = frozenset({IncidentState.DEPLOYING, IncidentState.VERIFYING})


async def kill_worker_at(
    state: IncidentState, timeout: float = 300, say: Callable[[str], None] = print
) -> Figures:
    """Run one incident, SIGKILL the worker while it is in `state`, and count the outcome."""
    hold = HOLDS[state]
    figures = Figures(f"worker-kill@{state.value}")
    started = time.monotonic()
    with private_stack(hold.settings) as stack:
        client = await stack.client()
        since = await drive.break_workload(stack, SCENARIO, DEPLOYMENT)
        if state not in AFTER_REVIEW:
            hold.inject(stack)
        incident_id = await watch.incident_about(client, DEPLOYMENT, since, timeout=120)
        say(f"  {incident_id}: holding in {state.value}")
        # Read after the chaos rollout: from here on, only the incident changes the spec.
        generations = observe.deployment_generations(stack.kubernetes(), NAMESPACE)
        if state in AFTER_REVIEW:
            await drive.reach(client, incident_id, frozenset({IncidentState.AWAITING_REVIEW}), 120)
            # Held only from here, so the rollout of the chaos itself is not held.
            hold.inject(stack)
            await drive.approve(client, incident_id, timeout=60)
        before = await drive.reach(client, incident_id, frozenset({state}), timeout=120)
        await watch.eventually(
            _true_or_none(lambda: hold.in_flight(stack)), "the held call in flight", 60
        )
        if state == IncidentState.VERIFYING:
            await drive.activity_started(client, incident_id, "verify_health", timeout=60)
        stack.kill("worker")
        killed_at = drive.now()
        say(f"  worker SIGKILLed in {state.value}; a new worker starts")
        hold.heal(stack)
        stack.up()
        if state == IncidentState.AWAITING_REVIEW:
            await drive.approve(client, incident_id, timeout=timeout)
        after = await drive.leave(client, incident_id, state, timeout=timeout)
        moved = next(e.at for e in after.timeline[len(before.timeline) :] if e.state != state)
        figures.recovery_seconds[state.value] = max((moved - killed_at).total_seconds(), 0.0)
        final = await drive.see_through(client, incident_id, timeout)
        incidents = await observe.statuses(client, await observe.incident_ids(client))
        observe.tally(figures, incidents, {incident_id: IncidentState.RESOLVED})
        effects = observe.side_effects(
            stack.repository(), stack.jira(), stack.kubernetes(), NAMESPACE, generations, incidents
        )
        figures.duplicate_prs += effects.duplicate_prs
        figures.duplicate_tickets += effects.duplicate_tickets
        figures.duplicate_mutations += effects.duplicate_mutations
        for note in effects.notes:
            figures.fail(note)
        if final.ticket_key is None:
            figures.fail(f"{incident_id} has no ticket after the kill")
    figures.elapsed_seconds = time.monotonic() - started
    return figures


def _true_or_none(check: Callable[[], bool]) -> Callable[[], Awaitable[bool | None]]:
    async def probe() -> bool | None:
        return True if check() else None

    return probe


async def run(
    states: tuple[IncidentState, ...] = STATES, say: Callable[[str], None] = print
) -> Figures:
    """Kill the worker once in each of `states` (each on its own stack); the summed figures."""
    total = Figures("worker-kill")
    started = time.monotonic()
    for state in states:
        say(f"worker SIGKILL in {state.value}")
        one = await kill_worker_at(state, say=say)
        say(one.render())
        total.add(one)
    total.elapsed_seconds = time.monotonic() - started
    return total
