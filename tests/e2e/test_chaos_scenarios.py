"""Every chaos scenario, injected through git, ends the way the catalogue says (issues 6, 16).

Auto-fixable scenarios end RESOLVED with the catalogue's fix kind and a healthy workload;
the ones with no safe fix end ESCALATED with a reason a person can act on, and are then
resolved by hand and reverted in git. Each demo workload (Deployments, the StatefulSet
ledger, the DaemonSet log-agent, the CronJob nightly-report) runs its lane of scenarios one
after the other while the lanes run side by side, so incidents never join each other. The
scenarios that act on nodes run alone afterwards: every workload on a node feels them.

The sandbox's alert monitor follows Deployments only, so for the other kinds (and for
evictions, which kube-prometheus has no rule for) the test posts the alert kube-prometheus
would send, once the symptom shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from github.Repository import Repository
from kubernetes import client as k8s
from temporalio.client import Client

from selfheal.chaos.injection import Injection
from selfheal.chaos.scenarios import get_scenario, list_scenarios
from selfheal.chaos.steps import heal_nodes
from selfheal.chaos.through_git import inject_through_repository
from selfheal.client import decisions
from selfheal.client.listing import list_incidents
from selfheal.model.decisions import Approval
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab.demo import now
from selfheal_lab.sandbox.kube.demo import DEMO_APPS
from selfheal_lab.watch import eventually, incident_about
from tests.e2e.alerting import PromAlert, post_alerts
from tests.e2e.follow import (
    FINAL_STATES,
    NAMESPACE,
    wait_for_state,
    wait_until_healthy,
    workload_health,
)
from tests.e2e.oncall import read_manifest, revert_and_resolve
from tests.e2e.stack import RunningStack

LANES = {
    "checkout": ("oom", "bad-image", "dependency-down", "rollout-stuck"),
    "payments": ("crashloop", "failing-probe", "quota-exceeded"),
    # The escalated scenarios end sooner, so this lane carries four.
    "catalog": ("missing-config", "unschedulable", "replica-shortage", "pvc-missing-storageclass"),
    "ledger": ("statefulset-oom",),
    "log-agent": ("daemonset-bad-image",),
    "nightly-report": ("job-backoff",),
}
ON_NODES = (("evicted", "catalog"), ("node-notready", "payments"))
"""Scenarios acting on nodes, run one at a time after the lanes."""
THROUGH_PROMETHEUS = ("cpu-throttling",)
"""Scenarios seen in the metrics only: this stack runs without Prometheus, so nothing would
alert on them; their end-to-end test goes through real Prometheus and Alertmanager in
tests/e2e/test_metrics_loop.py."""

ACTIONABLE_WORDS = {
    "missing-config": ("catalog-feature-flags",),
    "unschedulable": ("memory",),
    "dependency-down": ("payments-v2.demo.svc",),
    "quota-exceeded": ("payments-gpus",),
    "rollout-stuck": ("baseline", "privileged"),
    "pvc-missing-storageclass": ("catalog-cache",),
    "job-backoff": ("{job}", "BackoffLimitExceeded"),
    "evicted": ("memory",),
    "node-notready": ("{node}",),
}
"""Words the escalation reason must contain for a person to know what to fix; `{job}` and
`{node}` stand for the Job and the node the scenario's step touched."""

Pods = list[dict[str, Any]]


def _pods(api: k8s.ApiClient, app: str) -> Pods:
    listed = k8s.CoreV1Api(api).list_namespaced_pod(NAMESPACE, label_selector=f"app={app}")
    return list(api.sanitize_for_serialization(listed.items))


def _container_statuses(pods: Pods) -> list[dict[str, Any]]:
    return [c for p in pods for c in (p.get("status") or {}).get("containerStatuses") or []]


def _oom_killed(api: k8s.ApiClient, injection: Injection) -> bool:
    return any(
        ((c.get("lastState") or {}).get("terminated") or {}).get("reason") == "OOMKilled"
        for c in _container_statuses(_pods(api, injection.workload))
    )


def _pull_failing(api: k8s.ApiClient, injection: Injection) -> bool:
    return any(
        ((c.get("state") or {}).get("waiting") or {}).get("reason")
        in ("ErrImagePull", "ImagePullBackOff")
        for c in _container_statuses(_pods(api, injection.workload))
    )


def _evicted(api: k8s.ApiClient, injection: Injection) -> bool:
    pods = _pods(api, injection.workload)
    return any((p.get("status") or {}).get("reason") == "Evicted" for p in pods)


def _job_failed(api: k8s.ApiClient, injection: Injection) -> bool:
    """True once the Job gave up (its Failed condition), which is what KubeJobFailed reads."""
    assert injection.job is not None
    job = k8s.BatchV1Api(api).read_namespaced_job(injection.job, NAMESPACE)
    conditions = (job.status.conditions if job.status else None) or []
    return any(c.type == "Failed" and c.status == "True" for c in conditions)


def _refused(api: k8s.ApiClient, injection: Injection) -> bool:
    """True when a ReplicaSet of the workload says the API server refuses its pods."""
    listed = k8s.AppsV1Api(api).list_namespaced_replica_set(
        NAMESPACE, label_selector=f"app={injection.workload}"
    )
    return any(
        condition.type == "ReplicaFailure"
        for replica_set in listed.items
        if replica_set.status is not None
        for condition in replica_set.status.conditions or []
    )


@dataclass(frozen=True)
class PostedAlert:
    """The alert kube-prometheus would fire for a scenario, and the symptom it waits for."""

    name: str
    label: str
    visible: Callable[[k8s.ApiClient, Injection], bool]


POSTED = {
    "statefulset-oom": PostedAlert("KubeStatefulSetReplicasMismatch", "statefulset", _oom_killed),
    "daemonset-bad-image": PostedAlert("KubeDaemonSetRolloutStuck", "daemonset", _pull_failing),
    "job-backoff": PostedAlert("KubeJobFailed", "job_name", _job_failed),
    "evicted": PostedAlert("KubePodNotReady", "deployment", _evicted),
    # Old pods keep serving, so only the rollout's stall (after its deadline) would page.
    "quota-exceeded": PostedAlert("KubeDeploymentRolloutStuck", "deployment", _refused),
}


@dataclass
class Ending:
    scenario: str
    workload: str
    status: IncidentStatus
    health_problem: str | None
    injection: Injection


async def post_when_visible(stack: RunningStack, injection: Injection) -> None:
    """Wait until the scenario's symptom shows, then post its alert."""
    alert = POSTED[injection.scenario]
    api = stack.kubernetes()

    async def shown() -> bool | None:
        return True if await asyncio.to_thread(alert.visible, api, injection) else None

    await eventually(shown, f"{injection.scenario} visible", 120)
    name = injection.job or injection.workload
    summary = f"{injection.kind} {NAMESPACE}/{name}: {alert.name}"
    await asyncio.to_thread(
        post_alerts, stack, [PromAlert(alert.name, name, summary, workload_label=alert.label)]
    )


async def run_scenario(
    stack: RunningStack, repo: Repository, scenario: str, workload: str
) -> Ending:
    """Inject, approve any fix like a person would, and follow the incident to its end."""
    client = await stack.client()
    api = stack.kubernetes()
    kind = get_scenario(scenario).kind
    original = await asyncio.to_thread(read_manifest, repo, workload, "main", kind)
    since = now()
    injection = await asyncio.to_thread(
        inject_through_repository, api, repo, scenario, workload=workload
    )
    if scenario in POSTED:
        await post_when_visible(stack, injection)
    incident_id = await incident_about(client, workload, since)
    status = await wait_for_state(
        client, incident_id, FINAL_STATES | {IncidentState.AWAITING_REVIEW}
    )
    if status.state == IncidentState.AWAITING_REVIEW:
        await decisions.approve(client, incident_id, Approval(by="e2e-approver", comment="ok"))
        status = await wait_for_state(client, incident_id, FINAL_STATES)
    if status.state == IncidentState.ESCALATED:
        await asyncio.to_thread(
            revert_and_resolve, stack, repo, incident_id, workload, original, kind
        )
    await asyncio.to_thread(undo_extras, api, injection)
    await wait_until_healthy(api, workload, timeout=90, kind=kind)
    problem = await asyncio.to_thread(workload_health, api, kind, workload)
    return Ending(scenario, workload, status, problem, injection)


def undo_extras(api: k8s.ApiClient, injection: Injection) -> None:
    """Heal the nodes a step broke and delete the objects and Job a scenario added."""
    step = get_scenario(injection.scenario).step
    if step is not None and injection.nodes:
        heal_nodes(api, step, injection.nodes)
    core, batch = k8s.CoreV1Api(api), k8s.BatchV1Api(api)
    for reference in injection.created:
        kind, _, name = reference.partition("/")
        if kind == "ResourceQuota":
            core.delete_namespaced_resource_quota(name, NAMESPACE)
        elif kind == "PersistentVolumeClaim":
            core.delete_namespaced_persistent_volume_claim(name, NAMESPACE)
    if injection.job is not None:
        batch.delete_namespaced_job(injection.job, NAMESPACE, propagation_policy="Background")


def expectation_failures(ending: Ending) -> list[str]:
    """What differs between how the scenario ended and what the catalogue promises."""
    scenario = get_scenario(ending.scenario)
    status, failures = ending.status, []
    where = f"{ending.scenario} on {ending.workload} ({status.id})"
    diagnosis = status.diagnosis
    if diagnosis is None or diagnosis.category.value != scenario.category:
        found = diagnosis.category.value if diagnosis else "no diagnosis"
        failures.append(f"{where}: diagnosed {found}, expected {scenario.category}")
    if scenario.fix_kind == "none":
        reason = status.escalation_reason or ""
        if status.state != IncidentState.ESCALATED:
            failures.append(f"{where}: ended {status.state.value}, expected ESCALATED")
        words = [
            w.format(job=ending.injection.job, node=",".join(ending.injection.nodes))
            for w in ACTIONABLE_WORDS.get(ending.scenario, ())
        ]
        missing = [w for w in words if w.casefold() not in reason.casefold()]
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
    if status.fix is not None and status.fix.workload_kind != scenario.kind:
        failures.append(f"{where}: fix for a {status.fix.workload_kind}, not a {scenario.kind}")
    if ending.health_problem:
        failures.append(f"{where}: unhealthy afterwards: {ending.health_problem}")
    return failures


async def run_lane(stack: RunningStack, workload: str, scenarios: tuple[str, ...]) -> list[str]:
    """Run scenarios one after the other on one workload; return every unmet expectation."""
    repo = stack.github().get_repo(stack.info.github["repo"])
    failures: list[str] = []
    for scenario in scenarios:
        failures += expectation_failures(await run_scenario(stack, repo, scenario, workload))
    return failures


async def close_side_incidents(
    stack: RunningStack, client: Client, since: datetime, target: str
) -> None:
    """See every incident a node scenario opened on the other Deployments to its end, and
    resolve the escalated ones as the on-call person would once the node is back."""
    for workload in DEMO_APPS:
        if workload == target:
            continue
        for incident in await list_incidents(client, service=workload, limit=20):
            if incident.started_at is None or incident.started_at < since:
                continue
            status = await wait_for_state(client, incident.id, FINAL_STATES)
            if status.state == IncidentState.ESCALATED:
                done = await asyncio.to_thread(
                    stack.cli, "resolve", incident.id, "--by", "e2e-oncall", "--note", "node back"
                )
                assert done.returncode == 0, done.stderr
        await wait_until_healthy(stack.kubernetes(), workload, timeout=90)


async def run_on_nodes(stack: RunningStack) -> list[str]:
    """Run the node scenarios one at a time; return every unmet expectation."""
    repo = stack.github().get_repo(stack.info.github["repo"])
    client = await stack.client()
    failures: list[str] = []
    for scenario, workload in ON_NODES:
        since = now()
        failures += expectation_failures(await run_scenario(stack, repo, scenario, workload))
        await close_side_incidents(stack, client, since, workload)
    return failures


async def test_every_chaos_scenario_ends_as_the_catalogue_says(sandbox_stack: RunningStack):
    covered = {name for lane in LANES.values() for name in lane} | {s for s, _ in ON_NODES}
    assert covered | set(THROUGH_PROMETHEUS) == {s["name"] for s in list_scenarios()}
    lanes = await asyncio.gather(
        *(run_lane(sandbox_stack, workload, lane) for workload, lane in LANES.items())
    )
    failures = [failure for lane in lanes for failure in lane]
    failures += await run_on_nodes(sandbox_stack)
    assert not failures, "\n".join(failures)
