"""Deployments the Kubernetes activity tests create through the official client, and waits."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client, utils

from selfheal_lab.sandbox.kube.images import DEMO_REPOSITORY

T = TypeVar("T")

HEALTHY = f"{DEMO_REPOSITORY}/checkout:1.4.2"
PREVIOUS = f"{DEMO_REPOSITORY}/checkout:1.4.1"
CRASHING = f"{DEMO_REPOSITORY}/checkout:1.5.0"
"""checkout 1.5.0 exits with code 1 right after it starts (a failed migration)."""
MISSING = f"{DEMO_REPOSITORY}/checkout:9.9.9"
LEDGER = "registry.sandbox.local/demo/ledger:2.3.0"
BUSYBOX = "registry.sandbox.local/library/busybox:1.36"
CHECKOUT_NEEDS = "256Mi"
"""Memory limit above what checkout uses (180 MiB); below it, checkout is OOMKilled."""


def deployment(
    name: str,
    image: str = HEALTHY,
    replicas: int = 2,
    memory: str = CHECKOUT_NEEDS,
    env: list[dict[str, Any]] | None = None,
    env_from: list[dict[str, Any]] | None = None,
    progress_deadline: int = 600,
) -> dict[str, Any]:
    """Return a Deployment manifest for one checkout container."""
    container: dict[str, Any] = {
        "name": "app",
        "image": image,
        "ports": [{"containerPort": 8080}],
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"memory": memory},
        },
    }
    if env:
        container["env"] = env
    if env_from:
        container["envFrom"] = env_from
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "progressDeadlineSeconds": progress_deadline,
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def create(api_client: client.ApiClient, namespace: str, manifest: dict[str, Any]) -> None:
    """Create the object (Deployment, Secret, ConfigMap, Namespace ...) in `namespace`."""
    utils.create_from_dict(api_client, manifest, namespace=namespace)


def set_image(api_client: client.ApiClient, namespace: str, name: str, image: str) -> None:
    """Roll the Deployment's app container to `image`, as `kubectl set image` does."""
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}}
    client.AppsV1Api(api_client).patch_namespaced_deployment(name, namespace, patch)


def read(api_client: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    """Return the Deployment as the API's JSON dict."""
    model = client.AppsV1Api(api_client).read_namespaced_deployment(name, namespace)
    data: dict[str, Any] = api_client.sanitize_for_serialization(model)
    return data


def pods(api_client: client.ApiClient, namespace: str, name: str) -> list[dict[str, Any]]:
    """Return the Deployment's pods (by its app label) as JSON dicts."""
    listed = client.CoreV1Api(api_client).list_namespaced_pod(
        namespace, label_selector=f"app={name}"
    )
    return [api_client.sanitize_for_serialization(pod) for pod in listed.items]


def restarts(pod: dict[str, Any]) -> int:
    return sum(
        s.get("restartCount", 0) for s in pod.get("status", {}).get("containerStatuses") or []
    )


def ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def rolled_out(api_client: client.ApiClient, namespace: str, name: str) -> bool:
    """True when every replica of the Deployment is updated, ready and available."""
    data = read(api_client, namespace, name)
    status, want = data.get("status") or {}, data["spec"]["replicas"]
    return (
        status.get("observedGeneration", 0) >= data["metadata"].get("generation", 0)
        and status.get("updatedReplicas", 0) == want
        and status.get("readyReplicas", 0) == want
        and status.get("availableReplicas", 0) == want
        and status.get("replicas", 0) == want
    )


def eventually(check: Callable[[], T], timeout: float = 15.0, what: str = "condition") -> T:
    """Return `check()`'s first truthy value, polling until `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def kubeconfig_text(server: str) -> str:
    """Return a kubeconfig naming one cluster at `server` with no credentials."""
    return (
        "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
        f"clusters:\n- name: test\n  cluster:\n    server: {server}\n"
        "users:\n- name: test\n  user: {}\n"
        "contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n"
    )


def every_pod(
    api_client: client.ApiClient,
    namespace: str,
    name: str,
    check: Callable[[dict[str, Any]], bool],
) -> bool:
    """True when the Deployment has pods and `check` holds for each of them."""
    found = pods(api_client, namespace, name)
    return bool(found) and all(check(pod) for pod in found)


def secret(name: str, **values: str) -> dict[str, Any]:
    """Return a Secret manifest holding `values` as stringData."""
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "stringData": values}


def config_map(name: str, **values: str) -> dict[str, Any]:
    """Return a ConfigMap manifest holding `values`."""
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": values}


def status_of(obj: Any, field: str) -> Any:
    """A status field of a client model, 0 before the controller has written a status."""
    return (getattr(obj.status, field, None) or 0) if obj.status is not None else 0


def pod_template(labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {"metadata": {"labels": labels}, "spec": spec}


def stateful_set(
    name: str, replicas: int, storage_class: str | None = None, image: str = LEDGER
) -> dict[str, Any]:
    """Return a StatefulSet manifest of one container with a `data` claim per replica."""
    claim: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
    }
    if storage_class:
        claim["storageClassName"] = storage_class
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "serviceName": name,
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(
                {"app": name},
                containers=[
                    {
                        "name": "main",
                        "image": image,
                        "volumeMounts": [{"name": "data", "mountPath": "/var/lib/ledger"}],
                    }
                ],
            ),
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": claim}],
        },
    }
