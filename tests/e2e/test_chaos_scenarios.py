"""Every chaos scenario, injected through git, ends the way the catalogue says (issue 6).

Auto-fixable scenarios end RESOLVED with the catalogue's fix kind and a healthy workload;
the ones with no safe fix end ESCALATED with a reason a person can act on, and are then
resolved by hand and reverted in git. Scenarios run three at a time, one per demo workload,
so their incidents never join each other.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from github.Repository import Repository

from selfheal.chaos.scenarios import get_scenario, list_scenarios
from selfheal.chaos.through_git import inject_through_repository
from selfheal.domain import Approval, IncidentState, IncidentStatus
from selfheal.starters import decisions
from selfheal.starters.demo import now
from tests.e2e.follow import (
    FINAL_STATES,
    deployment_health,
    incident_about,
    wait_for_state,
    wait_until_healthy,
)
from tests.e2e.stack import RunningStack

WAVES = (
    (("oom", "checkout"), ("crashloop", "payments"), ("missing-config", "catalog")),
    (("bad-image", "checkout"), ("failing-probe", "payments"), ("unschedulable", "catalog")),
    (("replica-shortage", "catalog"),),
)

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


def manifest_path(deployment: str) -> str:
    return f"apps/{deployment}/deployment.yaml"


async def run_scenario(
    stack: RunningStack, repo: Repository, scenario: str, deployment: str
) -> Ending:
    """Inject, approve any fix like a person would, and follow the incident to its end."""
    client = await stack.client()
    api = stack.kubernetes()
    path = manifest_path(deployment)
    original = await asyncio.to_thread(lambda: repo.get_contents(path).decoded_content.decode())
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
        await asyncio.to_thread(restore_by_hand, stack, repo, incident_id, path, original)
    await wait_until_healthy(api, deployment, timeout=90)
    problem = await asyncio.to_thread(deployment_health, api, deployment)
    return Ending(scenario, deployment, status, problem)


def restore_by_hand(
    stack: RunningStack, repo: Repository, incident_id: str, path: str, original: str
) -> None:
    """What the person does after an escalation: revert the change, resolve the incident."""
    current = repo.get_contents(path)
    assert not isinstance(current, list)
    repo.update_file(path, f"revert the change behind {incident_id}", original, current.sha)
    done = stack.cli("resolve", incident_id, "--by", "e2e-oncall", "--note", "reverted in git")
    assert done.returncode == 0, done.stderr


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


async def test_every_chaos_scenario_ends_as_the_catalogue_says(sandbox_stack: RunningStack):
    covered = {name for wave in WAVES for name, _ in wave}
    assert covered == {s["name"] for s in list_scenarios()}
    failures: list[str] = []
    for wave in WAVES:
        repo = sandbox_stack.github().get_repo(sandbox_stack.info.github["repo"])
        endings = await asyncio.gather(
            *(run_scenario(sandbox_stack, repo, name, deployment) for name, deployment in wave)
        )
        for ending in endings:
            failures += expectation_failures(ending)
    assert not failures, "\n".join(failures)
