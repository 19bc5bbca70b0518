"""The workloads chaos can target, read and patched by kind through the official client."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from selfheal.chaos.scenarios import TEMPLATE_PATHS

_CALLS: dict[str, tuple[type[Any], str]] = {
    "Deployment": (client.AppsV1Api, "deployment"),
    "StatefulSet": (client.AppsV1Api, "stateful_set"),
    "DaemonSet": (client.AppsV1Api, "daemon_set"),
    "CronJob": (client.BatchV1Api, "cron_job"),
}


def _call(api_client: client.ApiClient, verb: str, kind: str) -> Any:
    api, suffix = _CALLS[kind]
    return getattr(api(api_client), f"{verb}_namespaced_{suffix}")


def read_workload(
    api_client: client.ApiClient, kind: str, namespace: str, name: str
) -> dict[str, Any]:
    """Return the live workload as a plain dict (404 raises ApiException)."""
    found = _call(api_client, "read", kind)(name, namespace)
    return api_client.sanitize_for_serialization(found)  # type: ignore[no-any-return]


def patch_workload(
    api_client: client.ApiClient, kind: str, namespace: str, name: str, body: Any
) -> None:
    """Patch the workload: a dict is a strategic merge, a list a JSON patch."""
    _call(api_client, "patch", kind)(name, namespace, body)


def pod_template(workload: dict[str, Any]) -> dict[str, Any]:
    """Return the workload's pod template (a CronJob's is its job template's)."""
    found: Any = workload
    for key in TEMPLATE_PATHS[workload["kind"]]:
        found = (found or {}).get(key) or {}
    return found  # type: ignore[no-any-return]


def template_pointer(kind: str) -> str:
    """The JSON pointer of a kind's pod template, e.g. /spec/jobTemplate/spec/template."""
    return "/" + "/".join(TEMPLATE_PATHS[kind])


def pod_selector(workload: dict[str, Any]) -> str:
    """The label selector of the workload's pods (a CronJob's: its pod template's labels)."""
    labels = (workload.get("spec") or {}).get("selector", {}).get("matchLabels")
    if workload["kind"] == "CronJob" or not labels:
        labels = (pod_template(workload).get("metadata") or {}).get("labels") or {}
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def scenario_values(workload: dict[str, Any]) -> dict[str, str]:
    """The placeholders a scenario's patch is filled with, read from the live workload."""
    container = pod_template(workload)["spec"]["containers"][0]
    name = workload["metadata"]["name"]
    return {
        "container": container["name"],
        "image_repo": container["image"].rsplit(":", 1)[0],
        "workload": name,
        "deployment": name,
        "namespace": workload["metadata"]["namespace"],
    }


def change_is_live(workload: dict[str, Any], patch: dict[str, Any]) -> bool:
    """True when every container field the patch sets is what the live template says."""
    wanted = pod_template(_as_kind(workload["kind"], patch)).get("spec") or {}
    live = pod_template(workload).get("spec") or {}
    containers = {c.get("name"): c for c in live.get("containers") or []}
    for container in wanted.get("containers") or []:
        fields = {k: v for k, v in container.items() if k != "name"}
        if not _contains(containers.get(container.get("name")) or {}, fields):
            return False
    rest = {k: v for k, v in wanted.items() if k != "containers"}
    return _contains(live, rest)


def _as_kind(kind: str, patch: dict[str, Any]) -> dict[str, Any]:
    return {**patch, "kind": kind}


def _contains(live: Any, wanted: Any) -> bool:
    """True when `wanted` is part of `live`: dicts key by key, lists item by item."""
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(_contains(live.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(live, list) and all(any(_contains(x, w) for x in live) for w in wanted)
    return bool(live == wanted)
