"""Waiting on the sandbox from e2e tests: incidents reaching states, workloads turning healthy.

Every wait polls a real condition with a deadline and fails with what it last saw, so a
slow machine makes a test slower, never flaky.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar

from kubernetes import client as k8s
from temporalio.client import Client

from selfheal.client.decisions import Refused, read_status
from selfheal.model.incident import IncidentState, IncidentStatus
from selfheal_lab.watch import eventually

T = TypeVar("T")

NAMESPACE = "demo"
FINAL_STATES = frozenset({IncidentState.RESOLVED, IncidentState.ESCALATED})


async def wait_for_state(
    client: Client,
    incident_id: str,
    states: set[IncidentState] | frozenset[IncidentState],
    timeout: float = 120,
) -> IncidentStatus:
    """Return the incident's status once it is in one of `states`."""
    last: list[IncidentStatus] = []

    async def reached() -> IncidentStatus | None:
        try:
            status = await read_status(client, incident_id)
        except Refused:  # its workload has not opened it yet
            return None
        last[:] = [status]
        return status if status.state in states else None

    try:
        return await eventually(reached, f"{incident_id} in {sorted(states)}", timeout)
    except TimeoutError as late:
        seen = last[0] if last else None
        timeline = "\n".join(
            f"  {e.state.value}: {e.note}" for e in (seen.timeline if seen else [])
        )
        raise AssertionError(f"{late}; timeline:\n{timeline}") from None


def deployment_health(api: k8s.ApiClient, deployment: str) -> str | None:
    """Return why `deployment` is not healthy and fully rolled out, or None when it is."""
    found = k8s.AppsV1Api(api).read_namespaced_deployment(deployment, NAMESPACE)
    spec, status = found.spec, found.status or k8s.V1DeploymentStatus()
    meta = found.metadata or k8s.V1ObjectMeta()
    wanted = spec.replicas if spec.replicas is not None else 1
    if (status.observed_generation or 0) < (meta.generation or 0):
        return "its latest generation is not observed yet"
    for field in ("updated_replicas", "ready_replicas", "available_replicas"):
        if (getattr(status, field) or 0) < wanted:
            return f"{field} {getattr(status, field) or 0} of {wanted}"
    if (status.replicas or 0) > wanted:
        return f"{status.replicas} pods for {wanted} replicas (old ones still terminating)"
    return None


def workload_health(api: k8s.ApiClient, kind: str, name: str) -> str | None:
    """Return why the workload is not healthy and fully rolled out, or None when it is (a
    CronJob is healthy while it exists: its runs are judged one by one)."""
    if kind == "Deployment":
        return deployment_health(api, name)
    if kind == "CronJob":
        k8s.BatchV1Api(api).read_namespaced_cron_job(name, NAMESPACE)
        return None
    apps = k8s.AppsV1Api(api)
    if kind == "StatefulSet":
        found = api.sanitize_for_serialization(apps.read_namespaced_stateful_set(name, NAMESPACE))
        status, wanted = found.get("status") or {}, found["spec"].get("replicas", 1)
        if status.get("updateRevision") != status.get("currentRevision"):
            return "its update revision is not current yet"
        fields = ("readyReplicas", "updatedReplicas", "availableReplicas")
    else:
        found = api.sanitize_for_serialization(apps.read_namespaced_daemon_set(name, NAMESPACE))
        status = found.get("status") or {}
        wanted = status.get("desiredNumberScheduled", 0)
        fields = ("numberReady", "updatedNumberScheduled", "numberAvailable")
    if (status.get("observedGeneration") or 0) < found["metadata"].get("generation", 0):
        return "its latest generation is not observed yet"
    for field in fields:
        if (status.get(field) or 0) < wanted:
            return f"{field} {status.get(field) or 0} of {wanted}"
    return None


async def wait_until_healthy(
    api: k8s.ApiClient, deployment: str, timeout: float = 60, kind: str = "Deployment"
) -> None:
    """Return once the workload has every replica updated, ready and available."""
    last: list[str] = []

    async def healthy() -> bool | None:
        problem = await asyncio.to_thread(workload_health, api, kind, deployment)
        last[:] = [problem or ""]
        return True if problem is None else None

    try:
        await eventually(healthy, f"{NAMESPACE}/{deployment} healthy", timeout)
    except TimeoutError as late:
        raise AssertionError(f"{late}: {last[0] if last else '?'}") from None
