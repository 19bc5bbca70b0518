"""Every chaos scenario, injected through git, ends the way the catalogue says (issue 6).

Auto-fixable scenarios end RESOLVED with the catalogue's fix kind and a healthy workload;
the ones with no safe fix end ESCALATED with a reason a person can act on, and are then
resolved by hand and reverted in git. Each demo workload runs its lane of scenarios one
after the other while the three lanes run side by side, so incidents never join each other.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from github.Repository import Repository

from selfheal.chaos.scenarios import get_scenario, list_scenarios
from selfheal.chaos.through_git import inject_through_repository
from selfheal.client import decisions
from selfheal.model.decisions import Approval
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab.demo import now
from selfheal_lab.watch import incident_about
from tests.e2e.follow import FINAL_STATES, deployment_health, wait_for_state, wait_until_healthy
from tests.e2e.oncall import read_manifest, revert_and_resolve
from tests.e2e.stack import RunningStack

LANES = {
    "checkout": ("oom", "bad-image"),
    "payments": ("crashloop", "failing-probe"),
    # The escalated scenarios end sooner, so this lane carries three.
    "catalog": ("missing-config", "unschedulable", "replica-shortage"),
}

ACTIONABLE_WORDS = {
    "missing-config": ("catalog-feature-flags",),
    "unschedulable": ("memory",),
}
"""Words the escalation reason must contain for a person to know what to fix."""


@dataclass
class Ending:
    scenario: str
    deployment: str
    status: IncidentStatus
    health_problem: str | None


async def run_scenario(
    stack: RunningStack, repo: Repository, scenario: str, deployment: str
) -> Ending:
    """Inject, approve any fix like a person would, and follow the incident to its end."""
    client = await stack.client()
    api = stack.kubernetes()
    original = await asyncio.to_thread(read_manifest, repo, deployment)
    since = now()
    await asyncio.to_thread(inject_through_repository, api, repo, scenario, deployment=deployment)
    incident_id = await incident_about(client, deployment, since)
    status = await wait_for_state(
        client, incident_id, FINAL_STATES | {IncidentState.AWAITING_REVIEW}
    )
    if status.state == IncidentState.AWAITING_REVIEW:
        await decisions.approve(client, incident_id, Approval(by="e2e-approver", comment="ok"))
        status = await wait_for_state(client, incident_id, FINAL_STATES)
    if status.state == IncidentState.ESCALATED:
        await asyncio.to_thread(revert_and_resolve, stack, repo, incident_id, deployment, original)
    await wait_until_healthy(api, deployment, timeout=90)
    problem = await asyncio.to_thread(deployment_health, api, deployment)
    return Ending(scenario, deployment, status, problem)


def expectation_failures(ending: Ending) -> list[str]:
    """What differs between how the scenario ended and what the catalogue promises."""
    scenario = get_scenario(ending.scenario)
    status, failures = ending.status, []
    where = f"{ending.scenario} on {ending.deployment} ({status.id})"
    diagnosis = status.diagnosis
    if diagnosis is None or diagnosis.category.value != scenario.category:
        found = diagnosis.category.value if diagnosis else "no diagnosis"
        failures.append(f"{where}: diagnosed {found}, expected {scenario.category}")
    if scenario.fix_kind == "none":
        reason = status.escalation_reason or ""
        if status.state != IncidentState.ESCALATED:
            failures.append(f"{where}: ended {status.state.value}, expected ESCALATED")
        missing = [w for w in ACTIONABLE_WORDS.get(ending.scenario, ()) if w not in reason]
        if len(reason) < 40 or missing:
            failures.append(f"{where}: escalation reason not actionable ({missing}): {reason!r}")
        return failures
    if status.state != IncidentState.RESOLVED:
        failures.append(
            f"{where}: ended {status.state.value} ({status.escalation_reason}), expected RESOLVED"
        )
    if status.fix is None or status.fix.kind.value != scenario.fix_kind:
        found = status.fix.kind.value if status.fix else "no fix"
        failures.append(f"{where}: fixed with {found}, expected {scenario.fix_kind}")
    if ending.health_problem:
        failures.append(f"{where}: unhealthy afterwards: {ending.health_problem}")
    return failures


async def run_lane(stack: RunningStack, deployment: str, scenarios: tuple[str, ...]) -> list[str]:
    """Run scenarios one after the other on one workload; return every unmet expectation."""
    repo = stack.github().get_repo(stack.info.github["repo"])
    failures: list[str] = []
    for scenario in scenarios:
        failures += expectation_failures(await run_scenario(stack, repo, scenario, deployment))
    return failures


async def test_every_chaos_scenario_ends_as_the_catalogue_says(sandbox_stack: RunningStack):
    covered = {name for lane in LANES.values() for name in lane}
    assert covered == {s["name"] for s in list_scenarios()}
    lanes = await asyncio.gather(
        *(run_lane(sandbox_stack, deployment, lane) for deployment, lane in LANES.items())
    )
    failures = [failure for lane in lanes for failure in lane]
    assert not failures, "\n".join(failures)
