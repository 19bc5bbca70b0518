"""The defaults the apiserver fills into workloads, so stored objects read like a real cluster's."""

from __future__ import annotations

from typing import Any

from selfheal_lab.sandbox.kube.store import Obj


def _probe(probe: dict[str, Any] | None) -> None:
    if not probe:
        return
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        probe.setdefault(key, value)
    if "httpGet" in probe:
        probe["httpGet"].setdefault("scheme", "HTTP")


def _container(container: dict[str, Any]) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    image = container.get("image", "")
    latest = ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")
    container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for name in ("readinessProbe", "livenessProbe", "startupProbe"):
        _probe(container.get(name))


def pod_spec(spec: dict[str, Any]) -> None:
    """Fill a PodSpec's defaults in place."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for container in spec.get("containers") or []:
        _container(container)
    for container in spec.get("initContainers") or []:
        _container(container)


def deployment(obj: Obj) -> None:
    """Fill a Deployment's defaults in place."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy["type"] = "RollingUpdate"
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    pod_spec(template.setdefault("spec", {}))


def replica_set(obj: Obj) -> None:
    """Fill a ReplicaSet's defaults in place."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    pod_spec(template.setdefault("spec", {}))


def pod(obj: Obj) -> None:
    """Fill a Pod's defaults in place; a new pod starts Pending."""
    pod_spec(obj.setdefault("spec", {}))
    obj.setdefault("status", {"phase": "Pending"})


BY_KIND = {"Deployment": deployment, "ReplicaSet": replica_set, "Pod": pod}


def without_nulls(value: Any) -> Any:
    """Return `value` without null fields, as decoding into Go structs leaves it."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def apply_defaults(obj: Obj) -> Obj:
    """Fill the defaults for the object's kind in place and return it."""
    fill = BY_KIND.get(str(obj.get("kind")))
    if fill is not None:
        fill(obj)
    return obj
