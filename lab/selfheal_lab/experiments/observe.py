"""Reading what selfheal did, from the outside: incidents, pull requests, tickets, rollouts.

Everything is read through the same public surfaces a person would use: Temporal
visibility and the `status` query, the GitHub and JIRA APIs, the Kubernetes API.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Any

from atlassian import Jira
from github.Repository import Repository
from kubernetes import client as k8s
from temporalio.client import Client

from selfheal.client.decisions import read_status
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab.experiments.figures import Figures

FINAL_STATES = frozenset({IncidentState.RESOLVED, IncidentState.ESCALATED})


async def incident_ids(client: Client, query: str = "") -> list[str]:
    """Every incident id in visibility (one per incident, whatever its number of runs)."""
    clauses = ["WorkflowType = 'IncidentWorkflow'", *([query] if query else [])]
    seen: dict[str, None] = {}
    async for execution in client.list_workflows(" AND ".join(clauses)):
        seen.setdefault(execution.id, None)
    return list(seen)


async def statuses(
    client: Client, ids: list[str], concurrency: int = 20
) -> dict[str, IncidentStatus]:
    """The `status` query of each incident's latest run."""
    gate = asyncio.Semaphore(concurrency)

    async def one(incident_id: str) -> tuple[str, IncidentStatus]:
        async with gate:
            return incident_id, await read_status(client, incident_id)

    return dict(await asyncio.gather(*(one(i) for i in ids)))


def pull_requests_by_branch(repo: Repository) -> Counter[str]:
    """How many pull requests (open or closed) each selfheal branch has."""
    return Counter(
        pull.head.ref
        for pull in repo.get_pulls(state="all")
        if pull.head.ref.startswith("selfheal/")
    )


def tickets_by_incident(jira: Jira) -> Counter[str]:
    """How many tickets carry each incident id as a label."""
    found: Counter[str] = Counter()
    start = 0
    while True:
        page: dict[str, Any] = (
            jira.jql('labels = "selfheal"', fields="labels", start=start, limit=100) or {}
        )
        issues = page.get("issues") or []
        for issue in issues:
            for label in issue["fields"].get("labels") or []:
                if label.startswith("inc-"):
                    found[label] += 1
        start += len(issues)
        if not issues or start >= page.get("total", 0):
            return found


def deployment_generations(api: k8s.ApiClient, namespace: str) -> dict[str, int]:
    """metadata.generation of every Deployment in `namespace`: it grows once per spec change."""
    deployments = k8s.AppsV1Api(api).list_namespaced_deployment(namespace, _request_timeout=10)
    metas = [d.metadata for d in deployments.items if d.metadata is not None]
    return {str(meta.name): meta.generation or 0 for meta in metas}


@dataclass
class SideEffects:
    """Duplicated side effects: pull requests per branch, tickets per incident, spec changes."""

    duplicate_prs: int
    duplicate_tickets: int
    duplicate_mutations: int
    notes: list[str]


def side_effects(
    repo: Repository,
    jira: Jira,
    api: k8s.ApiClient,
    namespace: str,
    generations_before: dict[str, int],
    incidents: dict[str, IncidentStatus],
) -> SideEffects:
    """Count what was done twice: a PR per branch, a ticket per incident, a change per action.

    A Deployment's spec may change once per action the incidents about it took (a fix, an
    undo); any further generation is a duplicated mutation.
    """
    notes: list[str] = []
    prs = pull_requests_by_branch(repo)
    duplicate_prs = sum(n - 1 for n in prs.values())
    notes += [f"{n} pull requests from {branch}" for branch, n in prs.items() if n > 1]
    tickets = tickets_by_incident(jira)
    duplicate_tickets = sum(n - 1 for n in tickets.values())
    notes += [f"{n} tickets for {incident}" for incident, n in tickets.items() if n > 1]
    actions: Counter[str] = Counter()
    for status in incidents.values():
        if status.namespace == namespace:
            actions[status.service] += status.actions_taken
    after = deployment_generations(api, namespace)
    duplicate_mutations = 0
    for name, generation in after.items():
        changes = generation - generations_before.get(name, generation)
        if changes > actions[name]:
            duplicate_mutations += changes - actions[name]
            notes.append(f"{name}: {changes} spec changes for {actions[name]} actions")
    return SideEffects(duplicate_prs, duplicate_tickets, duplicate_mutations, notes)


def tally(
    figures: Figures,
    incidents: dict[str, IncidentStatus],
    expected: dict[str, IncidentState],
) -> None:
    """Count outcomes into `figures`: `expected` maps incident ids to the state each must end in.

    An expected incident that never opened or never ended is lost; one that ended in the
    other final state ended wrongly.
    """
    figures.started += len(incidents)
    for status in incidents.values():
        if status.state == IncidentState.RESOLVED:
            figures.resolved += 1
        elif status.state == IncidentState.ESCALATED:
            figures.escalated += 1
    for incident_id, state in expected.items():
        found = incidents.get(incident_id)
        if found is None or found.state not in FINAL_STATES:
            figures.lost += 1
            seen = "never opened" if found is None else f"still {found.state.value}"
            figures.fail(f"{incident_id} {seen}")
        elif found.state != state:
            figures.wrong += 1
            why = found.escalation_reason or found.resolution or ""
            figures.fail(f"{incident_id} ended {found.state.value}, not {state.value}: {why}")
