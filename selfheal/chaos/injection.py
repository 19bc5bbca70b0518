"""Inject and clear chaos scenarios through the official Kubernetes client.

Before changing a Deployment, `inject` saves its pod template and replica count in a
ConfigMap `selfheal-chaos-<deployment>` next to it (not on the Deployment, so the analysis
sees symptoms, not the answer); `clear` puts them back and removes what the scenario added.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from selfheal.chaos.scenarios import get_scenario

CHAOS_LABEL = "selfheal.dev/chaos"
CHAOS_ENABLED = "enabled"
DEFAULT_NAMESPACE = "demo"


class ChaosRefused(Exception):
    """Chaos was not applied; the message says why (e.g. the namespace is not opted in)."""


@dataclass(frozen=True)
class Injection:
    """What `inject` did."""

    scenario: str
    namespace: str
    deployment: str
    created: tuple[str, ...]  # "Kind/name" of extra objects


def _record_name(deployment: str) -> str:
    return f"selfheal-chaos-{deployment}"


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


def scenario_values(deployment: dict[str, Any]) -> dict[str, str]:
    """The placeholders a scenario's patch is filled with, read from the live Deployment."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {
        "container": container["name"],
        "image_repo": container["image"].rsplit(":", 1)[0],
        "deployment": deployment["metadata"]["name"],
        "namespace": deployment["metadata"]["namespace"],
    }


def inject(
    api_client: client.ApiClient,
    name: str,
    namespace: str = DEFAULT_NAMESPACE,
    deployment: str | None = None,
) -> Injection:
    """Break `deployment` in `namespace` with scenario `name` and return what was done.

    Raises ChaosRefused when the namespace is not labelled selfheal.dev/chaos=enabled or a
    scenario is already injected there, and KeyError for an unknown scenario.
    """
    scenario = get_scenario(name)
    target = deployment or scenario.default_deployment
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    require_opt_in(core, namespace)
    existing = _read_record(core, namespace, target)
    if existing is not None:
        raise ChaosRefused(
            f"scenario {existing['scenario']} is already injected into {namespace}/{target}; "
            "clear it first"
        )
    current = api_client.sanitize_for_serialization(
        apps.read_namespaced_deployment(target, namespace)
    )
    patch, extras = scenario.render(scenario_values(current))
    created = tuple(f"{o['kind']}/{o['metadata']['name']}" for o in extras)
    record = {
        "scenario": scenario.name,
        "template": current["spec"]["template"],
        "replicas": current["spec"].get("replicas", 1),
        "created": list(created),
    }
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(
                name=_record_name(target),
                labels={"app.kubernetes.io/managed-by": "selfheal-chaos"},
            ),
            data={"record": json.dumps(record)},
        ),
    )
    for obj in extras:
        create_object(api_client, namespace, obj)
    apps.patch_namespaced_deployment(target, namespace, patch)
    return Injection(scenario.name, namespace, target, created)


def clear(
    api_client: client.ApiClient,
    namespace: str = DEFAULT_NAMESPACE,
    deployment: str = "checkout",
) -> str | None:
    """Restore the Deployment's pod template and replicas from before `inject`.

    Returns the name of the scenario cleared, or None when nothing was injected there.
    """
    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    require_opt_in(core, namespace)
    record = _read_record(core, namespace, deployment)
    if record is None:
        return None
    apps.patch_namespaced_deployment(
        deployment,
        namespace,
        [
            {"op": "replace", "path": "/spec/template", "value": record["template"]},
            {"op": "replace", "path": "/spec/replicas", "value": record["replicas"]},
        ],
    )
    for reference in record.get("created", []):
        kind, _, obj_name = reference.partition("/")
        _delete(api_client, namespace, kind, obj_name)
    core.delete_namespaced_config_map(_record_name(deployment), namespace)
    return str(record["scenario"])


def injected(api_client: client.ApiClient, namespace: str, deployment: str) -> str | None:
    """Return the scenario currently injected into the Deployment, or None."""
    record = _read_record(client.CoreV1Api(api_client), namespace, deployment)
    return None if record is None else str(record["scenario"])


def _read_record(core: client.CoreV1Api, namespace: str, deployment: str) -> dict[str, Any] | None:
    try:
        config_map = core.read_namespaced_config_map(_record_name(deployment), namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    loaded: dict[str, Any] = json.loads((config_map.data or {}).get("record", "{}"))
    return loaded


def create_object(api_client: client.ApiClient, namespace: str, obj: dict[str, Any]) -> None:
    kind = obj["kind"]
    core = client.CoreV1Api(api_client)
    creators: dict[str, Callable[..., Any]] = {
        "Secret": core.create_namespaced_secret,
        "ConfigMap": core.create_namespaced_config_map,
        "Deployment": client.AppsV1Api(api_client).create_namespaced_deployment,
    }
    if kind not in creators:
        raise ChaosRefused(f"chaos scenarios cannot create {kind} objects")
    creators[kind](namespace, obj)


def _delete(api_client: client.ApiClient, namespace: str, kind: str, name: str) -> None:
    core = client.CoreV1Api(api_client)
    deleters: dict[str, Callable[..., Any]] = {
        "Secret": core.delete_namespaced_secret,
        "ConfigMap": core.delete_namespaced_config_map,
        "Deployment": client.AppsV1Api(api_client).delete_namespaced_deployment,
    }
    try:
        deleters[kind](name, namespace)
    except ApiException as exc:
        if exc.status != 404:
            raise
