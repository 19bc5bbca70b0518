"""Inject and clear chaos scenarios through the official Kubernetes client.

Before changing a workload, `inject` saves its pod template (and replica count and progress
deadline, for kinds that have them) in a ConfigMap `selfheal-chaos-<workload>` next to it
(not on the workload, so the analysis sees symptoms, not the answer), with the nodes and Job
a scenario's step touched; `clear` puts them back, heals those nodes and removes what the
scenario added.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from selfheal.chaos.scenarios import Scenario, get_scenario
from selfheal.chaos.steps import StepRefused, heal_nodes, take_step, wait_until_live
from selfheal.chaos.workloads import (
    patch_workload,
    pod_template,
    read_workload,
    scenario_values,
    template_pointer,
)

CHAOS_LABEL = "selfheal.dev/chaos"
CHAOS_ENABLED = "enabled"
DEFAULT_NAMESPACE = "demo"
RESTORED_SPEC_FIELDS = ("replicas", "progressDeadlineSeconds")
"""Fields beside the pod template that a scenario may change and `clear` puts back."""


class ChaosRefused(Exception):
    """Chaos was not applied; the message says why (e.g. the namespace is not opted in)."""


@dataclass(frozen=True)
class Injection:
    """What `inject` did."""

    scenario: str
    namespace: str
    workload: str
    created: tuple[str, ...]  # "Kind/name" of extra objects
    kind: str = "Deployment"
    job: str | None = None  # the Job a step started
    nodes: tuple[str, ...] = ()  # the nodes a step broke


def _record_name(workload: str) -> str:
    return f"selfheal-chaos-{workload}"


def require_opt_in(core: client.CoreV1Api, namespace: str) -> None:
    try:
        found = core.read_namespace(namespace)
        labels = (found.metadata.labels if found.metadata else None) or {}
    except ApiException as exc:
        if exc.status == 404:
            raise ChaosRefused(f"namespace {namespace} does not exist") from exc
        raise
    if labels.get(CHAOS_LABEL) != CHAOS_ENABLED:
        raise ChaosRefused(
            f"namespace {namespace} is not labelled {CHAOS_LABEL}={CHAOS_ENABLED}; "
            f"label it to allow chaos there"
        )


def inject(
    api_client: client.ApiClient,
    name: str,
    namespace: str = DEFAULT_NAMESPACE,
    workload: str | None = None,
) -> Injection:
    """Break `workload` (of the scenario's kind) in `namespace` with scenario `name`, take
    the scenario's step once the change is live, and return what was done.

    Raises ChaosRefused when the namespace is not labelled selfheal.dev/chaos=enabled, a
    scenario is already injected there, or a step cannot be taken on this cluster, and
    KeyError for an unknown scenario.
    """
    scenario = get_scenario(name)
    target = workload or scenario.default_workload
    core = client.CoreV1Api(api_client)
    require_opt_in(core, namespace)
    existing = _read_record(core, namespace, target)
    if existing is not None:
        raise ChaosRefused(
            f"scenario {existing['scenario']} is already injected into {namespace}/{target}; "
            "clear it first"
        )
    current = read_workload(api_client, scenario.kind, namespace, target)
    patch, extras = scenario.render(scenario_values(current))
    created = tuple(f"{o['kind']}/{o['metadata']['name']}" for o in extras)
    record: dict[str, Any] = {
        "scenario": scenario.name,
        "kind": scenario.kind,
        "template": pod_template(current),
        "created": list(created),
    }
    for key in RESTORED_SPEC_FIELDS:
        if key in (current.get("spec") or {}):
            record[key] = current["spec"][key]
    _write_record(core, namespace, target, record)
    for obj in extras:
        create_object(api_client, namespace, obj)
    if patch:
        patch_workload(api_client, scenario.kind, namespace, target, patch)
    job, nodes = take_scenario_step(api_client, scenario, namespace, target, patch)
    if scenario.step is not None:
        _write_record(core, namespace, target, {**record, "job": job, "nodes": list(nodes)})
    return Injection(scenario.name, namespace, target, created, scenario.kind, job, nodes)


def take_scenario_step(
    api_client: client.ApiClient,
    scenario: Scenario,
    namespace: str,
    target: str,
    patch: dict[str, Any],
) -> tuple[str | None, tuple[str, ...]]:
    """Once the change is live, take the scenario's step beyond the manifest (if it has
    one); return the Job it started and the nodes it touched. ChaosRefused when the step
    cannot be taken on this cluster."""
    if scenario.step is None:
        return None, ()
    try:
        live = wait_until_live(api_client, scenario, namespace, target, patch)
        return take_step(api_client, scenario.step, live)
    except StepRefused as refused:
        raise ChaosRefused(str(refused)) from refused


def clear(
    api_client: client.ApiClient,
    namespace: str = DEFAULT_NAMESPACE,
    workload: str = "checkout",
) -> str | None:
    """Restore the workload's pod template, replicas and progress deadline from before
    `inject`, heal the nodes its step broke and delete what it created.

    Returns the name of the scenario cleared, or None when nothing was injected there.
    """
    core = client.CoreV1Api(api_client)
    require_opt_in(core, namespace)
    record = _read_record(core, namespace, workload)
    if record is None:
        return None
    scenario = get_scenario(str(record["scenario"]))
    kind = str(record.get("kind", "Deployment"))
    operations = [{"op": "replace", "path": template_pointer(kind), "value": record["template"]}]
    for key in RESTORED_SPEC_FIELDS:
        if key in record:
            operations.append({"op": "add", "path": f"/spec/{key}", "value": record[key]})
    patch_workload(api_client, kind, namespace, workload, operations)
    if scenario.step is not None and record.get("nodes"):
        heal_nodes(api_client, scenario.step, tuple(record["nodes"]))
    if record.get("job"):
        _delete(api_client, namespace, "Job", str(record["job"]))
    for reference in record.get("created", []):
        kind_name, _, obj_name = reference.partition("/")
        _delete(api_client, namespace, kind_name, obj_name)
    core.delete_namespaced_config_map(_record_name(workload), namespace)
    return str(record["scenario"])


def injected(api_client: client.ApiClient, namespace: str, workload: str) -> str | None:
    """Return the scenario currently injected into the workload, or None."""
    record = _read_record(client.CoreV1Api(api_client), namespace, workload)
    return None if record is None else str(record["scenario"])


def _write_record(
    core: client.CoreV1Api, namespace: str, workload: str, record: dict[str, Any]
) -> None:
    body = client.V1ConfigMap(
        metadata=client.V1ObjectMeta(
            name=_record_name(workload),
            labels={"app.kubernetes.io/managed-by": "selfheal-chaos"},
        ),
        data={"record": json.dumps(record)},
    )
    try:
        core.create_namespaced_config_map(namespace, body)
    except ApiException as exc:
        if exc.status != 409:
            raise
        core.replace_namespaced_config_map(_record_name(workload), namespace, body)


def _read_record(core: client.CoreV1Api, namespace: str, deployment: str) -> dict[str, Any] | None:
    try:
        config_map = core.read_namespaced_config_map(_record_name(deployment), namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    loaded: dict[str, Any] = json.loads((config_map.data or {}).get("record", "{}"))
    return loaded


def _typed_calls(api_client: client.ApiClient, verb: str) -> dict[str, Callable[..., Any]]:
    core = client.CoreV1Api(api_client)
    return {
        "Secret": getattr(core, f"{verb}_namespaced_secret"),
        "ConfigMap": getattr(core, f"{verb}_namespaced_config_map"),
        "PersistentVolumeClaim": getattr(core, f"{verb}_namespaced_persistent_volume_claim"),
        "ResourceQuota": getattr(core, f"{verb}_namespaced_resource_quota"),
        "Deployment": getattr(client.AppsV1Api(api_client), f"{verb}_namespaced_deployment"),
        "Job": getattr(client.BatchV1Api(api_client), f"{verb}_namespaced_job"),
    }


def create_object(api_client: client.ApiClient, namespace: str, obj: dict[str, Any]) -> None:
    """Create one of a scenario's extra objects in `namespace`."""
    creators = _typed_calls(api_client, "create")
    if obj["kind"] not in creators or obj["kind"] == "Job":
        raise ChaosRefused(f"chaos scenarios cannot create {obj['kind']} objects")
    creators[obj["kind"]](namespace, obj)


def _delete(api_client: client.ApiClient, namespace: str, kind: str, name: str) -> None:
    try:
        # Background: the Job's pods go with it, as `kubectl delete job` does.
        _typed_calls(api_client, "delete")[kind](name, namespace, propagation_policy="Background")
    except ApiException as exc:
        if exc.status != 404:
            raise
