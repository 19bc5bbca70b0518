"""The defaults the apiserver fills into workloads, so stored objects read like a real cluster's."""

from __future__ import annotations

import uuid
from collections.abc import Callable
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


def stateful_set(obj: Obj) -> None:
    """Fill a StatefulSet's defaults in place."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.setdefault("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault(
        "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
    )
    for claim in spec.get("volumeClaimTemplates") or []:
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        persistent_volume_claim(claim)
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    pod_spec(template.setdefault("spec", {}))


def daemon_set(obj: Obj) -> None:
    """Fill a DaemonSet's defaults in place."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.setdefault("type", "RollingUpdate") == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", 1)
        rolling.setdefault("maxSurge", 0)
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    pod_spec(template.setdefault("spec", {}))


def _job_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    template = spec.setdefault("template", {})
    template.setdefault("metadata", {})
    pod_spec(template.setdefault("spec", {}))


def job(obj: Obj) -> Obj:
    """Fill a Job's defaults in place, with the selector and pod labels the apiserver generates.

    The uid is chosen here (the store keeps a client-sent one) because the generated selector
    names it.
    """
    spec = obj.setdefault("spec", {})
    _job_spec(spec)
    meta = obj.setdefault("metadata", {})
    if not spec.get("manualSelector") and not spec.get("selector"):
        uid = meta.setdefault("uid", str(uuid.uuid4()))
        name = meta.get("name", "")
        labels = spec["template"]["metadata"].setdefault("labels", {})
        for key in ("batch.kubernetes.io/controller-uid", "controller-uid"):
            labels[key] = uid
        for key in ("batch.kubernetes.io/job-name", "job-name"):
            labels[key] = name
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    return obj


def cron_job(obj: Obj) -> None:
    """Fill a CronJob's defaults in place (its jobTemplate gets no selector yet)."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    template = spec.setdefault("jobTemplate", {})
    template.setdefault("metadata", {})
    job_spec = template.setdefault("spec", {})
    job_spec.setdefault("backoffLimit", 6)
    job_spec.setdefault("completionMode", "NonIndexed")
    job_spec.setdefault("suspend", False)
    job_spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    job_template = job_spec.setdefault("template", {})
    job_template.setdefault("metadata", {})
    pod_spec(job_template.setdefault("spec", {}))


def persistent_volume_claim(obj: Obj) -> None:
    """Fill a PersistentVolumeClaim's defaults in place; a new claim is Pending."""
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {"phase": "Pending"})


def persistent_volume(obj: Obj) -> None:
    """Fill a PersistentVolume's defaults in place; a new volume is Available."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {"phase": "Available" if not spec.get("claimRef") else "Bound"})


def storage_class(obj: Obj) -> None:
    """Fill a StorageClass's defaults in place."""
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


BY_KIND: dict[str, Callable[[Obj], Any]] = {
    "Deployment": deployment,
    "ReplicaSet": replica_set,
    "Pod": pod,
    "StatefulSet": stateful_set,
    "DaemonSet": daemon_set,
    "Job": job,
    "CronJob": cron_job,
    "PersistentVolumeClaim": persistent_volume_claim,
    "PersistentVolume": persistent_volume,
    "StorageClass": storage_class,
}


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
