"""Server-side printing: the meta.k8s.io Table objects `kubectl get` asks for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from selfheal_lab.sandbox.kube.store import Obj


def human_age(stamp: str | None) -> str:
    """Return an age like kubectl prints it: 45s, 3m12s, 2h5m, 4d."""
    if not stamp:
        return "<unknown>"
    then = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    seconds = max(int((datetime.now(UTC) - then).total_seconds()), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h"
    return f"{days}d"


def pod_status_reason(pod: Obj) -> str:
    """Return the STATUS column kubectl shows for a pod (CrashLoopBackOff, OOMKilled, ...)."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    has_running = False
    for container in reversed(status.get("containerStatuses") or []):
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            signal = terminated.get("signal")
            reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode')}"
        elif container.get("ready") and "running" in state:
            has_running = True
    if reason == "Completed" and has_running:
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        reason = "Running" if ready else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _pod_row(pod: Obj) -> list[Any]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    last = max(
        (
            c["lastState"]["terminated"].get("finishedAt") or ""
            for c in statuses
            if (c.get("lastState") or {}).get("terminated")
        ),
        default="",
    )
    restart_cell = f"{restarts} ({human_age(last)} ago)" if restarts and last else str(restarts)
    status = pod.get("status") or {}
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        pod_status_reason(pod),
        restart_cell,
        human_age(pod["metadata"].get("creationTimestamp")),
        status.get("podIP") or "<none>",
        (pod.get("spec") or {}).get("nodeName") or "<none>",
        "<none>",
        "<none>",
    ]


def _deployment_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    containers = (spec.get("template") or {}).get("spec", {}).get("containers") or []
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        human_age(obj["metadata"].get("creationTimestamp")),
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
        ",".join(f"{k}={v}" for k, v in selector.items()),
    ]


def _replica_set_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    containers = (spec.get("template") or {}).get("spec", {}).get("containers") or []
    return [
        obj["metadata"]["name"],
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        human_age(obj["metadata"].get("creationTimestamp")),
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
    ]


def _event_row(obj: Obj) -> list[Any]:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    last = obj.get("lastTimestamp") or obj.get("deprecatedLastTimestamp") or obj.get("eventTime")
    return [
        human_age(last),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        obj.get("message") or obj.get("note") or "",
    ]


def _node_row(obj: Obj) -> list[Any]:
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )
    info = (obj.get("status") or {}).get("nodeInfo") or {}
    return [
        obj["metadata"]["name"],
        "Ready" if ready else "NotReady",
        "<none>",
        human_age(obj["metadata"].get("creationTimestamp")),
        info.get("kubeletVersion", ""),
    ]


def _containers(obj: Obj) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    template = spec.get("template") or ((spec.get("jobTemplate") or {}).get("spec") or {}).get(
        "template"
    )
    return list(((template or {}).get("spec") or {}).get("containers") or [])


def _names(obj: Obj) -> str:
    return ",".join(c.get("name", "") for c in _containers(obj))


def _images(obj: Obj) -> str:
    return ",".join(c.get("image", "") for c in _containers(obj))


def _stateful_set_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        human_age(obj["metadata"].get("creationTimestamp")),
        _names(obj),
        _images(obj),
    ]


def _daemon_set_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    return [
        obj["metadata"]["name"],
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in selector.items()) or "<none>",
        human_age(obj["metadata"].get("creationTimestamp")),
        _names(obj),
        _images(obj),
    ]


def _job_status(obj: Obj) -> str:
    conditions = {
        c.get("type"): c.get("status") for c in (obj.get("status") or {}).get("conditions") or []
    }
    for kind in ("Complete", "Failed", "FailureTarget", "SuccessCriteriaMet", "Suspended"):
        if conditions.get(kind) == "True":
            return kind
    return "Running"


def _duration(start: str | None, end: str | None) -> str:
    if not start:
        return ""
    if not end:
        return human_age(start)
    begin = datetime.strptime(start[:19], "%Y-%m-%dT%H:%M:%S")
    finish = datetime.strptime(end[:19], "%Y-%m-%dT%H:%M:%S")
    seconds = max(int((finish - begin).total_seconds()), 0)
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m{seconds % 60}s"


def _job_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        obj["metadata"]["name"],
        _job_status(obj),
        f"{status.get('succeeded', 0)}/{spec.get('completions', 1)}",
        _duration(status.get("startTime"), status.get("completionTime")),
        human_age(obj["metadata"].get("creationTimestamp")),
        _names(obj),
        _images(obj),
        ",".join(
            f"{k}={v}" for k, v in ((spec.get("selector") or {}).get("matchLabels") or {}).items()
        ),
    ]


def _cron_job_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    last = status.get("lastScheduleTime")
    return [
        obj["metadata"]["name"],
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        str(bool(spec.get("suspend"))),
        len(status.get("active") or []),
        human_age(last) if last else "<none>",
        human_age(obj["metadata"].get("creationTimestamp")),
        _names(obj),
        _images(obj),
    ]


def _claim_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        obj["metadata"]["name"],
        status.get("phase", "Pending"),
        spec.get("volumeName", ""),
        (status.get("capacity") or {}).get("storage", ""),
        _access_modes(status.get("accessModes") or []),
        spec.get("storageClassName") or "<unset>",
        spec.get("volumeAttributesClassName") or "<unset>",
        human_age(obj["metadata"].get("creationTimestamp")),
        spec.get("volumeMode", "Filesystem"),
    ]


def _volume_row(obj: Obj) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    claim = spec.get("claimRef") or {}
    return [
        obj["metadata"]["name"],
        (spec.get("capacity") or {}).get("storage", ""),
        _access_modes(spec.get("accessModes") or []),
        spec.get("persistentVolumeReclaimPolicy", "Retain"),
        status.get("phase", "Available"),
        f"{claim['namespace']}/{claim['name']}" if claim else "",
        spec.get("storageClassName", ""),
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        human_age(obj["metadata"].get("creationTimestamp")),
        spec.get("volumeMode", "Filesystem"),
    ]


def _access_modes(modes: list[str]) -> str:
    short = {
        "ReadWriteOnce": "RWO",
        "ReadOnlyMany": "ROX",
        "ReadWriteMany": "RWX",
        "ReadWriteOncePod": "RWOP",
    }
    return ",".join(short.get(m, m) for m in modes)


def _storage_class_row(obj: Obj) -> list[Any]:
    default = (obj["metadata"].get("annotations") or {}).get(
        "storageclass.kubernetes.io/is-default-class"
    ) == "true"
    return [
        obj["metadata"]["name"] + (" (default)" if default else ""),
        obj.get("provisioner", ""),
        obj.get("reclaimPolicy", "Delete"),
        obj.get("volumeBindingMode", "Immediate"),
        bool(obj.get("allowVolumeExpansion")),
        human_age(obj["metadata"].get("creationTimestamp")),
    ]


def _simple(*extra: Callable[[Obj], Any]) -> Callable[[Obj], list[Any]]:
    def row(obj: Obj) -> list[Any]:
        age = human_age(obj["metadata"].get("creationTimestamp"))
        return [obj["metadata"]["name"], *(f(obj) for f in extra), age]

    return row


def _column(name: str, kind: str = "string", priority: int = 0) -> dict[str, Any]:
    return {"name": name, "type": kind, "format": "", "description": name, "priority": priority}


_NAME_AGE = ([_column("Name", "string"), _column("Age", "string")], _simple())

PRINTERS: dict[str, tuple[list[dict[str, Any]], Callable[[Obj], list[Any]]]] = {
    "Pod": (
        [
            _column("Name"),
            _column("Ready"),
            _column("Status"),
            _column("Restarts"),
            _column("Age"),
            _column("IP", priority=1),
            _column("Node", priority=1),
            _column("Nominated Node", priority=1),
            _column("Readiness Gates", priority=1),
        ],
        _pod_row,
    ),
    "Deployment": (
        [
            _column("Name"),
            _column("Ready"),
            _column("Up-to-date", "integer"),
            _column("Available", "integer"),
            _column("Age"),
            _column("Containers", priority=1),
            _column("Images", priority=1),
            _column("Selector", priority=1),
        ],
        _deployment_row,
    ),
    "ReplicaSet": (
        [
            _column("Name"),
            _column("Desired", "integer"),
            _column("Current", "integer"),
            _column("Ready", "integer"),
            _column("Age"),
            _column("Containers", priority=1),
            _column("Images", priority=1),
        ],
        _replica_set_row,
    ),
    "Event": (
        [
            _column("Last Seen"),
            _column("Type"),
            _column("Reason"),
            _column("Object"),
            _column("Message"),
        ],
        _event_row,
    ),
    "Node": (
        [_column("Name"), _column("Status"), _column("Roles"), _column("Age"), _column("Version")],
        _node_row,
    ),
    "StatefulSet": (
        [
            _column("Name"),
            _column("Ready"),
            _column("Age"),
            _column("Containers", priority=1),
            _column("Images", priority=1),
        ],
        _stateful_set_row,
    ),
    "DaemonSet": (
        [
            _column("Name"),
            _column("Desired", "integer"),
            _column("Current", "integer"),
            _column("Ready", "integer"),
            _column("Up-to-date", "integer"),
            _column("Available", "integer"),
            _column("Node Selector"),
            _column("Age"),
            _column("Containers", priority=1),
            _column("Images", priority=1),
        ],
        _daemon_set_row,
    ),
    "Job": (
        [
            _column("Name"),
            _column("Status"),
            _column("Completions"),
            _column("Duration"),
            _column("Age"),
            _column("Containers", priority=1),
            _column("Images", priority=1),
            _column("Selector", priority=1),
        ],
        _job_row,
    ),
    "CronJob": (
        [
            _column("Name"),
            _column("Schedule"),
            _column("Timezone"),
            _column("Suspend", "boolean"),
            _column("Active", "integer"),
            _column("Last Schedule"),
            _column("Age"),
            _column("Containers", priority=1),
            _column("Images", priority=1),
        ],
        _cron_job_row,
    ),
    "PersistentVolumeClaim": (
        [
            _column("Name"),
            _column("Status"),
            _column("Volume"),
            _column("Capacity"),
            _column("Access Modes"),
            _column("StorageClass"),
            _column("VolumeAttributesClass"),
            _column("Age"),
            _column("VolumeMode", priority=1),
        ],
        _claim_row,
    ),
    "PersistentVolume": (
        [
            _column("Name"),
            _column("Capacity"),
            _column("Access Modes"),
            _column("Reclaim Policy"),
            _column("Status"),
            _column("Claim"),
            _column("StorageClass"),
            _column("VolumeAttributesClass"),
            _column("Reason"),
            _column("Age"),
            _column("VolumeMode", priority=1),
        ],
        _volume_row,
    ),
    "StorageClass": (
        [
            _column("Name"),
            _column("Provisioner"),
            _column("ReclaimPolicy"),
            _column("VolumeBindingMode"),
            _column("AllowVolumeExpansion", "boolean"),
            _column("Age"),
        ],
        _storage_class_row,
    ),
    "Namespace": (
        [_column("Name"), _column("Status"), _column("Age")],
        _simple(lambda o: (o.get("status") or {}).get("phase", "Active")),
    ),
    "ConfigMap": (
        [_column("Name"), _column("Data", "integer"), _column("Age")],
        _simple(lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
    ),
    "Secret": (
        [_column("Name"), _column("Type"), _column("Data", "integer"), _column("Age")],
        _simple(lambda o: o.get("type", "Opaque"), lambda o: len(o.get("data") or {})),
    ),
}


def as_table(
    kind: str, objects: list[Obj], resource_version: str, include_object: str = "Metadata"
) -> dict[str, Any]:
    """Return the Table `kubectl get` prints for these objects."""
    columns, row = PRINTERS.get(kind, _NAME_AGE)
    rows = []
    for obj in objects:
        if include_object == "Object":
            embedded: dict[str, Any] = obj
        else:
            embedded = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata", {}),
            }
        rows.append({"cells": row(obj), "object": embedded})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    }
