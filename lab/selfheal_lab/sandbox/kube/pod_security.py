"""Pod Security admission for pods, a faithful subset of the API server's PodSecurity plugin.

A namespace labelled `pod-security.kubernetes.io/enforce` (`baseline` or `restricted`, with
`pod-security.kubernetes.io/enforce-version`, `latest` by default) refuses a pod that fails
a check of its level, with the plugin's words (staging/src/k8s.io/pod-security-admission):
`pods "<name>" is forbidden: violates PodSecurity "baseline:latest": privileged (container
"app" must not set securityContext.privileged=true)`. Each failed check reads `<reason>
(<detail>)`, joined by ", ". Simulated: the baseline checks `host namespaces` and
`privileged`; a restricted namespace runs these same checks (the restricted-only ones,
such as runAsNonRoot or seccompProfile, are not simulated), `privileged` admits everything.
Only pod creation is checked here (the plugin also checks updates, but a pod's
spec barely changes once created).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.resources import NAMESPACES
from selfheal_lab.sandbox.kube.store import Obj, Store

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
ENFORCE_VERSION_LABEL = "pod-security.kubernetes.io/enforce-version"
ENFORCED_LEVELS = ("baseline", "restricted")

Check = Callable[[dict[str, Any]], str | None]
"""A check reads a pod spec and returns `<reason> (<detail>)` when the pod fails it."""


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    # The plugin visits init containers, then containers, then ephemeral containers.
    return [
        container
        for key in ("initContainers", "containers", "ephemeralContainers")
        for container in spec.get(key) or []
    ]


def _named(names: list[str]) -> str:
    """`container "a"` or `containers "a", "b"`, as the plugin's pluralize and joinQuote."""
    noun = "container" if len(names) == 1 else "containers"
    return f"{noun} " + ", ".join(f'"{name}"' for name in names)


def _host_namespaces(spec: dict[str, Any]) -> str | None:
    # The plugin keeps them in a set and lists it sorted: hostIPC, hostNetwork, hostPID.
    shared = sorted(f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key))
    return f"host namespaces ({', '.join(shared)})" if shared else None


def _privileged(spec: dict[str, Any]) -> str | None:
    bad = [
        str(container.get("name"))
        for container in _containers(spec)
        if (container.get("securityContext") or {}).get("privileged") is True
    ]
    if not bad:
        return None
    return f"privileged ({_named(bad)} must not set securityContext.privileged=true)"


CHECKS: tuple[Check, ...] = (_host_namespaces, _privileged)
"""The simulated checks, in the order the plugin reports them."""


def enforced_level(store: Store, namespace: str) -> str | None:
    """The namespace's enforced `level:version` (`baseline:latest`), or None when it admits
    every pod (no label, `privileged`, or a level this sandbox does not know)."""
    found = store.find(NAMESPACES, "", namespace)
    labels = ((found or {}).get("metadata") or {}).get("labels") or {}
    level = labels.get(ENFORCE_LABEL)
    if level not in ENFORCED_LEVELS:
        return None
    return f"{level}:{labels.get(ENFORCE_VERSION_LABEL) or 'latest'}"


def pod_security_refusal(store: Store, pod: Obj) -> str | None:
    """Return the API server's refusal of creating `pod`, or None when Pod Security admits it."""
    level = enforced_level(store, pod["metadata"]["namespace"])
    if level is None:
        return None
    spec = pod.get("spec") or {}
    failed = [found for check in CHECKS if (found := check(spec)) is not None]
    if not failed:
        return None
    return (
        f'pods "{pod["metadata"]["name"]}" is forbidden: violates PodSecurity "{level}": '
        + ", ".join(failed)
    )


def admit_pod(store: Store, pod: Obj) -> None:
    """Raise the API server's 403 Forbidden when Pod Security refuses creating `pod`."""
    refusal = pod_security_refusal(store, pod)
    if refusal is not None:
        raise ApiError(403, "Forbidden", refusal, {"name": pod["metadata"]["name"], "kind": "pods"})
