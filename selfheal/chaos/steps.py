"""A scenario's step beyond the manifest, taken once its change is live.

Running a CronJob now is an ordinary API call (what `kubectl create job --from=cronjob/…`
does). A node's memory pressure or a stopped kubelet is not something the Kubernetes API
can be asked for: those steps go through the sandbox's control API
(`PUT /sandbox/v1/nodes/<node>/failure`, served next to its Kubernetes API); a real cluster
answers 404 there, and the refusal says what to do by hand instead.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from selfheal.chaos.scenarios import ClusterStep, Scenario, StepAction
from selfheal.chaos.workloads import change_is_live, pod_selector, read_workload

LIVE_TIMEOUT = 120.0
POLL_SECONDS = 0.5
NODE_FAILURES = {
    StepAction.NODE_MEMORY_PRESSURE: "memory-pressure",
    StepAction.NODE_NOT_READY: "not-ready",
}
MANUAL_ANNOTATION = "cronjob.kubernetes.io/instantiate"


class StepRefused(Exception):
    """The step could not be taken; the message says why and what to do instead."""


def wait_until_live(
    api_client: client.ApiClient,
    scenario: Scenario,
    namespace: str,
    name: str,
    patch: dict[str, Any],
    timeout: float = LIVE_TIMEOUT,
) -> dict[str, Any]:
    """Return the workload once its template carries the patch (and, for a scenario acting on
    its pods' nodes, once its pods all run that template); StepRefused after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        workload = read_workload(api_client, scenario.kind, namespace, name)
        if change_is_live(workload, patch) and _rolled_out(workload, scenario.step):
            return workload
        if time.monotonic() > deadline:
            raise StepRefused(
                f"{scenario.kind} {namespace}/{name} did not run the scenario's change within "
                f"{timeout:.0f}s (is the CD system syncing?)"
            )
        time.sleep(POLL_SECONDS)


def _rolled_out(workload: dict[str, Any], step: ClusterStep | None) -> bool:
    if step is None or step.action not in NODE_FAILURES or workload["kind"] != "Deployment":
        return True
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    wanted = spec.get("replicas", 1)
    observed = status.get("observedGeneration", 0) >= workload["metadata"].get("generation", 0)
    return observed and all(
        status.get(field, 0) == wanted
        for field in ("replicas", "updatedReplicas", "availableReplicas")
    )


def take_step(
    api_client: client.ApiClient, step: ClusterStep, workload: dict[str, Any]
) -> tuple[str | None, tuple[str, ...]]:
    """Take the step on `workload`; return (the Job it started, the nodes it broke)."""
    if step.action == StepAction.RUN_CRONJOB:
        return run_cronjob(api_client, workload), ()
    return None, fail_nodes(api_client, step, workload)


def run_cronjob(api_client: client.ApiClient, cronjob: dict[str, Any]) -> str:
    """Create a Job from the CronJob's template now and return its name.

    It is named as the CronJob controller names a run (`<cronjob>-<minutes since the
    epoch>`), so alerts on it map to the CronJob, and annotated as kubectl marks a manual run.
    """
    meta, template = cronjob["metadata"], cronjob["spec"]["jobTemplate"]
    minutes = int(datetime.now(UTC).timestamp() // 60)
    name = f"{meta['name']}-{minutes}"
    template_meta = template.get("metadata") or {}
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": meta["namespace"],
            "labels": template_meta.get("labels") or {},
            "annotations": {
                **(template_meta.get("annotations") or {}),
                MANUAL_ANNOTATION: "manual",
            },
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": template["spec"],
    }
    batch: Any = client.BatchV1Api(api_client)  # a dict body, as the client accepts
    batch.create_namespaced_job(meta["namespace"], job)
    return name


def fail_nodes(
    api_client: client.ApiClient, step: ClusterStep, workload: dict[str, Any]
) -> tuple[str, ...]:
    """Break the nodes running the workload's pods (memory pressure: every such node; a
    stopped kubelet: the first pod's) through the sandbox's control API."""
    listed = client.CoreV1Api(api_client).list_namespaced_pod(
        workload["metadata"]["namespace"], label_selector=pod_selector(workload)
    )
    pods: list[dict[str, Any]] = api_client.sanitize_for_serialization(listed.items)
    running = sorted(
        (
            pod
            for pod in pods
            if pod["spec"].get("nodeName") and pod.get("status", {}).get("phase") == "Running"
        ),
        key=lambda pod: str(pod["metadata"]["name"]),
    )
    nodes = sorted({str(pod["spec"]["nodeName"]) for pod in running})
    if step.action == StepAction.NODE_NOT_READY:
        nodes = nodes[:1]
    if not nodes:
        raise StepRefused(f"no running pod of {workload['metadata']['name']} to act on")
    for node in nodes:
        set_node_failure(api_client, step, node, NODE_FAILURES[step.action])
    return tuple(nodes)


def set_node_failure(
    api_client: client.ApiClient, step: ClusterStep, node: str, failure: str | None
) -> None:
    """Ask the sandbox to break `node` (`failure`) or to heal it (None)."""
    method, body = ("PUT", {"failure": failure}) if failure else ("DELETE", None)
    try:
        request = api_client.param_serialize(
            method,
            f"/sandbox/v1/nodes/{node}/failure",
            header_params={"Content-Type": "application/json", "Accept": "application/json"},
            body=body,
            auth_settings=["BearerToken"],
        )
        response = api_client.call_api(*request)
        response.read()
        api_client.response_deserialize(response, {"200": "object"})
    except ApiException as exc:
        if exc.status == 404:
            raise StepRefused(
                f"this cluster has no sandbox control API to {step.action.value} node "
                f"{node}; on a real cluster, {step.by_hand}"
            ) from exc
        raise


def heal_nodes(api_client: client.ApiClient, step: ClusterStep, nodes: tuple[str, ...]) -> None:
    """Undo `fail_nodes` on `nodes`."""
    for node in nodes:
        set_node_failure(api_client, step, node, None)
