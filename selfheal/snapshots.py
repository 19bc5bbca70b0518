"""Cluster snapshots: raw Kubernetes objects in, a bounded and redacted ClusterContext out.

Snapshots hold any workload kind (Deployment, StatefulSet, DaemonSet, Job, CronJob, bare
Pod); `workload_tree.py` says which objects belong to it. A snapshot directory holds
`objects.yaml` (a `kind: List` exactly as `kubectl get -o yaml` prints it) and
`logs/<pod>/<container>.txt` plus `logs/<pod>/<container>.previous.txt`, and, when
Prometheus was read, `metrics/workload.json` (a `WorkloadMetrics`: per container, the
window's memory, CPU, throttling and restart series; docs/integrations/prometheus.md).
`context_from_objects` is the one place that turns API objects (the API's camelCase JSON,
as `ApiClient().sanitize_for_serialization` returns it) into what the analysis reads.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from selfheal.contracts.kubernetes import ClusterContext
from selfheal.contracts.prometheus import WorkloadMetrics
from selfheal.kube_objects import (
    Obj,
    controller_of,
    kind_of,
    name_of,
    namespace_of,
    pod_specs,
)
from selfheal.redaction import REDACTED, redact_object, redact_text
from selfheal.workload_tree import (
    WorkloadNotFound,
    claimed_volumes,
    find_workload,
    statefulset_claim,
    workload_members,
)

DEFAULT_MAX_BYTES = 256 * 1024
OBJECTS_FILE = "objects.yaml"
LOGS_DIR = "logs"
METRICS_FILE = Path("metrics") / "workload.json"
VALUES_REMOVED_ANNOTATION = "selfheal.dev/values-removed"
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_FAILING_PODS_KEPT = 3
_HEALTHY_PODS_KEPT = 2
_HISTORY_KEPT = 3
_LOG_TAIL_FLOOR = 2048
_METRICS_SAMPLES_FLOOR = 16
"""Samples per series the metrics keep before logs are cut: the window's shape survives."""
_TRUNCATION_MARK = "[... earlier lines truncated by selfheal ...]\n"

_API_VERSIONS = {
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ControllerRevision": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "Pod": "v1",
    "Event": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
}


# libyaml's loader when present: snapshots are large and the pure-Python one is slow.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def referenced_config(specs: Iterable[Obj]) -> tuple[set[str], set[str]]:
    """Return the ConfigMap names and Secret names the given pod specs refer to."""
    configmaps: set[str] = set()
    secrets: set[str] = set()
    for spec in specs:
        for ref in spec.get("imagePullSecrets") or []:
            secrets.add(ref.get("name", ""))
        for volume in spec.get("volumes") or []:
            if "configMap" in volume:
                configmaps.add(volume["configMap"].get("name", ""))
            if "secret" in volume:
                secrets.add(volume["secret"].get("secretName", ""))
            for source in (volume.get("projected") or {}).get("sources") or []:
                if "configMap" in source:
                    configmaps.add(source["configMap"].get("name", ""))
                if "secret" in source:
                    secrets.add(source["secret"].get("name", ""))
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            for env in container.get("env") or []:
                value_from = env.get("valueFrom") or {}
                if "configMapKeyRef" in value_from:
                    configmaps.add(value_from["configMapKeyRef"].get("name", ""))
                if "secretKeyRef" in value_from:
                    secrets.add(value_from["secretKeyRef"].get("name", ""))
            for env_from in container.get("envFrom") or []:
                if "configMapRef" in env_from:
                    configmaps.add(env_from["configMapRef"].get("name", ""))
                if "secretRef" in env_from:
                    secrets.add(env_from["secretRef"].get("name", ""))
    configmaps.discard("")
    secrets.discard("")
    return configmaps, secrets


def _strip_values(obj: Obj) -> Obj:
    """Blank every Secret/ConfigMap value, keeping its keys (a missing key is a diagnosis)."""
    keys = {
        *(obj.get("data") or {}),
        *(obj.get("stringData") or {}),
        *(obj.get("binaryData") or {}),
    }
    obj.pop("stringData", None)
    obj.pop("binaryData", None)
    obj["data"] = {key: "" for key in sorted(keys)}
    obj.setdefault("metadata", {}).setdefault("annotations", {})[VALUES_REMOVED_ANNOTATION] = "true"
    return obj


def _redact_env(obj: Obj) -> None:
    for spec in pod_specs(obj):
        for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
            for env in container.get("env") or []:
                if "value" in env:
                    env["value"] = REDACTED


def sanitize(obj: Obj) -> Obj:
    """Return a copy of an API object fit to leave the cluster: kind set, values removed, redacted.

    Drops `managedFields` (kubectl hides them too) and the last-applied annotation (it
    repeats the spec, env values and Secret data included).
    """
    obj = copy.deepcopy(obj)
    kind = kind_of(obj)
    if kind:
        obj["kind"] = kind
        obj.setdefault("apiVersion", _API_VERSIONS.get(kind, "v1"))
    metadata = obj.setdefault("metadata", {})
    metadata.pop("managedFields", None)
    annotations = metadata.get("annotations") or {}
    annotations.pop(_LAST_APPLIED, None)
    if kind in {"Secret", "ConfigMap"}:
        _strip_values(obj)
    _redact_env(obj)
    redacted: Obj = redact_object(obj)
    return redacted


def _timestamp(obj: Obj) -> str:
    """Return the latest time an event (or any object) was seen, as an ISO string for sorting."""
    candidates = [
        obj.get("lastTimestamp"),
        obj.get("eventTime"),
        (obj.get("series") or {}).get("lastObservedTime"),
        obj.get("firstTimestamp"),
        obj.get("metadata", {}).get("creationTimestamp"),
    ]
    return max((str(value) for value in candidates if value), default="")


def _pod_failing(pod: Obj) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") not in {"Running", "Succeeded"}:
        return True
    for container in status.get("containerStatuses") or []:
        if not container.get("ready") or container.get("restartCount", 0) > 0:
            return True
    return False


def _size(context: ClusterContext) -> int:
    return len(context.model_dump_json().encode())


def _tail(text: str, limit: int) -> str:
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[-limit:].decode(errors="ignore")
    newline = cut.find("\n")
    return _TRUNCATION_MARK + (cut[newline + 1 :] if newline >= 0 else cut)


def _json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


def _pods_to_drop(pods: list[Obj]) -> list[Obj]:
    """Pods that add nothing: healthy ones beyond two, failing ones beyond a few per owner.

    Pods of one owner (a ReplicaSet, a StatefulSet, a Job...) share a template, so a few
    failing pods of each show the fault as well as two hundred do.
    """
    healthy = [pod for pod in pods if not _pod_failing(pod)]
    spare_failing: list[Obj] = []
    kept: dict[str, int] = {}
    for pod in pods:
        if _pod_failing(pod):
            owner = "/".join(controller_of(pod) or ("", ""))
            kept[owner] = kept.get(owner, 0) + 1
            if kept[owner] > _FAILING_PODS_KEPT:
                spare_failing.append(pod)
    return [*healthy[_HEALTHY_PODS_KEPT:], *spare_failing]


def _bound(context: ClusterContext, max_bytes: int) -> ClusterContext:
    """Cut redundant pods, then old Jobs and ControllerRevisions, then metrics to a few
    samples a series, then logs to short tails, then the oldest events, then the rest.

    Sizes are summed per item rather than re-serialising the context for every cut, so
    bounding a namespace of hundreds of pods stays linear.
    """
    total = _size(context)
    if total <= max_bytes:
        return context
    context.truncated = True
    by_name = {name_of(pod): pod for pod in context.pods}

    def drop(pods: list[Obj], total: int) -> int:
        for pod in pods:
            if total <= max_bytes:
                break
            name = name_of(pod)
            del by_name[name]
            total -= _json_size(pod) + 1
            for logs in (context.logs, context.previous_logs):
                for key in [key for key in logs if key.split("/", 1)[0] == name]:
                    total -= _json_size({key: logs.pop(key)}) - 1  # braces out, comma in
        context.pods = [pod for pod in context.pods if name_of(pod) in by_name]
        return total

    total = drop(_pods_to_drop(context.pods), total)
    if total > max_bytes:
        total = _drop_old_history(context)
    total = _thin_metrics(context, max_bytes, floor=_METRICS_SAMPLES_FLOOR, total=total)

    total = _cut_logs(context, max_bytes, floor=_LOG_TAIL_FLOOR)

    def about_a_kept_object(event: Obj) -> bool:
        return _event_subject_kind(event) != "Pod" or _event_subject(event) in by_name

    # Events about pods that were cut go first, then the oldest of the rest.
    context.events.sort(key=lambda event: (about_a_kept_object(event), _timestamp(event)))
    while total > max_bytes and context.events:
        total -= _json_size(context.events.pop(0)) + 1
    context.events.sort(key=_timestamp)
    total = _cut_logs(context, max_bytes, floor=0)
    drop([pod for pod in context.pods if not _pod_failing(pod)], total)
    _shed_until_within(context, max_bytes)
    return context


def _shed_until_within(context: ClusterContext, max_bytes: int) -> None:
    """Make the bound exact: the per-item sums above are estimates (a list's last item
    carries no comma), so measure the whole and drop the least telling item while it is over.
    """
    while _size(context) > max_bytes:
        if context.events:
            context.events.pop(0)
        elif healthy := [pod for pod in context.pods if not _pod_failing(pod)]:
            context.pods.remove(healthy[-1])
            for logs in (context.logs, context.previous_logs):
                for key in [key for key in logs if key.split("/", 1)[0] == name_of(healthy[-1])]:
                    del logs[key]
        elif context.metrics is not None and context.metrics.longest_series() > 2:
            context.metrics = context.metrics.thinned()
        elif context.logs or context.previous_logs:
            context.logs, context.previous_logs = {}, {}
        elif len(context.pods) > 1:
            context.pods.pop()
        else:
            return


def _thin_metrics(context: ClusterContext, max_bytes: int, floor: int, total: int) -> int:
    """Halve the metrics' samples (the newest kept) while the context is over and a series
    has more than `floor` samples; return the new size."""
    while total > max_bytes and context.metrics and context.metrics.longest_series() > floor:
        context.metrics = context.metrics.thinned()
        total = _size(context)
    return total


def _drop_old_history(context: ClusterContext) -> int:
    """Keep the newest few Jobs and ControllerRevisions and the nodes of the kept pods;
    return the new size. Older history names no image the newest do not, most of the time,
    and a rollback looks back one revision."""

    def created(obj: Obj) -> str:
        return str(obj.get("metadata", {}).get("creationTimestamp") or "")

    context.jobs = sorted(context.jobs, key=created)[-_HISTORY_KEPT:]
    context.controller_revisions = sorted(
        context.controller_revisions, key=lambda item: int(item.get("revision") or 0)
    )[-_HISTORY_KEPT:]
    running_on = {str((pod.get("spec") or {}).get("nodeName", "")) for pod in context.pods}
    context.nodes = [node for node in context.nodes if name_of(node) in running_on]
    return _size(context)


def _cut_logs(context: ClusterContext, max_bytes: int, floor: int) -> int:
    """Halve every log to its newest lines until the context fits or logs reach `floor` bytes."""
    limit = max(
        (len(text.encode()) for text in [*context.logs.values(), *context.previous_logs.values()]),
        default=0,
    )
    while (total := _size(context)) > max_bytes and limit > floor:
        limit = max(limit // 2, floor)
        context.logs = {key: _tail(text, limit) for key, text in context.logs.items() if limit}
        context.previous_logs = {
            key: _tail(text, limit) for key, text in context.previous_logs.items() if limit
        }
    return total


def _event_subject(event: Obj) -> str:
    ref = event.get("involvedObject") or event.get("regarding") or {}
    return str(ref.get("name", ""))


def _event_subject_kind(event: Obj) -> str:
    ref = event.get("involvedObject") or event.get("regarding") or {}
    return str(ref.get("kind", ""))


def _select_events(events: list[Obj], involved: set[tuple[str, str]]) -> list[Obj]:
    selected = []
    for event in events:
        ref = event.get("involvedObject") or event.get("regarding") or {}
        if (ref.get("kind", ""), ref.get("name", "")) in involved:
            selected.append(event)
    return sorted(selected, key=_timestamp)


def _slim_node(node: Obj) -> Obj:
    """A node without its image list and volume bookkeeping: large, and no rule reads them."""
    node = copy.deepcopy(node)
    status = node.get("status") or {}
    for key in ("images", "volumesInUse", "volumesAttached"):
        status.pop(key, None)
    return node


def context_from_objects(
    objects: list[Obj],
    logs: dict[str, str],
    previous_logs: dict[str, str],
    namespace: str,
    workload: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    kind: str | None = None,
    metrics: WorkloadMetrics | None = None,
) -> ClusterContext:
    """Return the ClusterContext of one workload, picked out of raw API objects.

    The workload is the object of `kind` named `workload` (any workload kind when `kind` is
    None, the top of its ownerReferences chain first; a Deployment when none matches, as
    earlier versions assumed). Keeps it and what it owns by ownerReferences (a Deployment's
    ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions, a CronJob's Jobs) and
    their Pods; Events about any of them; the ConfigMaps/Secrets and claims their pod
    templates refer to, the nodes the pods run on, and the namespace's ResourceQuotas and
    LimitRanges. Secret and ConfigMap values are removed (keys kept), env values and every
    string are redacted, and the result is cut to `max_bytes` (`truncated` says so). `logs`
    and `previous_logs` are keyed `pod/container`.
    """
    by_kind: dict[str, list[Obj]] = {}
    local: list[Obj] = []
    for obj in objects:
        ns = namespace_of(obj)
        if ns is not None and ns != namespace:
            continue
        by_kind.setdefault(kind_of(obj), []).append(obj)
        local.append(obj)

    if kind is None:
        try:
            kind = kind_of(find_workload(local, workload))
        except WorkloadNotFound:
            kind = "Deployment"
    members = workload_members(local, kind, workload)

    specs = [
        spec
        for obj in [members.top or {}, *members.replicasets, *members.jobs, *members.pods]
        for spec in pod_specs(obj)
    ]
    configmap_names, secret_names = referenced_config(specs)
    configmaps = [cm for cm in by_kind.get("ConfigMap", []) if name_of(cm) in configmap_names]
    secrets = [secret for secret in by_kind.get("Secret", []) if name_of(secret) in secret_names]
    claims = claimed_volumes(members)
    volume_claims = [
        claim
        for claim in by_kind.get("PersistentVolumeClaim", [])
        if name_of(claim) in claims or statefulset_claim(members, name_of(claim))
    ]
    involved = members.involved()
    involved |= {("PersistentVolumeClaim", name_of(claim)) for claim in volume_claims}
    events = _select_events(by_kind.get("Event", []), involved)
    node_names = {str((pod.get("spec") or {}).get("nodeName", "")) for pod in members.pods}
    nodes = [_slim_node(node) for node in by_kind.get("Node", []) if name_of(node) in node_names]

    pod_names = {name_of(pod) for pod in members.pods}

    def own_logs(source: dict[str, str]) -> dict[str, str]:
        return {
            key: redact_text(text)
            for key, text in sorted(source.items())
            if key.split("/", 1)[0] in pod_names
        }

    def clean(items: list[Obj]) -> list[Obj]:
        return sorted((sanitize(item) for item in items), key=name_of)

    top = sanitize(members.top) if members.top else None
    context = ClusterContext(
        namespace=namespace,
        workload=workload,
        kind=kind,
        deployment=top if kind == "Deployment" else None,
        controller=top if kind not in {"Deployment", "Pod"} else None,
        replicasets=clean(members.replicasets),
        jobs=clean(members.jobs),
        controller_revisions=clean(members.controller_revisions),
        pods=clean(members.pods),
        events=[sanitize(event) for event in events],
        configmaps=clean(configmaps),
        secrets=clean(secrets),
        persistent_volume_claims=clean(volume_claims),
        nodes=clean(nodes),
        resource_quotas=clean(by_kind.get("ResourceQuota", [])),
        limit_ranges=clean(by_kind.get("LimitRange", [])),
        logs=own_logs(logs),
        previous_logs=own_logs(previous_logs),
        metrics=metrics,
    )
    return _bound(context, max_bytes)


def context_objects(context: ClusterContext) -> list[Obj]:
    """Return every object of a ClusterContext as one list, in snapshot order."""
    return [
        *([context.deployment] if context.deployment else []),
        *([context.controller] if context.controller else []),
        *context.replicasets,
        *context.controller_revisions,
        *[job for job in context.jobs if job is not context.controller],
        *context.pods,
        *context.events,
        *context.configmaps,
        *context.secrets,
        *context.persistent_volume_claims,
        *context.nodes,
        *context.resource_quotas,
        *context.limit_ranges,
    ]


def read_objects(directory: Path | str) -> list[Obj]:
    """Return the items of a snapshot's `objects.yaml` (a `kind: List`, or a single object)."""
    text = (Path(directory) / OBJECTS_FILE).read_text()
    document = yaml.load(text, Loader=_LOADER) or {}
    if isinstance(document, dict) and document.get("kind", "").endswith("List"):
        return list(document.get("items") or [])
    return [document] if document else []


def _read_logs(directory: Path) -> tuple[dict[str, str], dict[str, str]]:
    logs: dict[str, str] = {}
    previous: dict[str, str] = {}
    root = directory / LOGS_DIR
    if not root.is_dir():
        return logs, previous
    for path in sorted(root.glob("*/*.txt")):
        pod = path.parent.name
        if path.name.endswith(".previous.txt"):
            previous[f"{pod}/{path.name.removesuffix('.previous.txt')}"] = path.read_text()
        else:
            logs[f"{pod}/{path.name.removesuffix('.txt')}"] = path.read_text()
    return logs, previous


def load_snapshot(
    directory: Path | str,
    namespace: str | None = None,
    workload: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    kind: str | None = None,
) -> ClusterContext:
    """Return the ClusterContext of a snapshot directory.

    Without `workload`, the snapshot's one top-level workload (the top of its
    ownerReferences chain: a CronJob over its Jobs, a Deployment over its ReplicaSets, a
    Pod nothing owns); `kind` narrows the choice. Raises WorkloadNotFound (a ValueError)
    naming the candidates when none or several match.
    """
    directory = Path(directory)
    objects = read_objects(directory)
    if namespace is not None:
        objects_in_scope = [obj for obj in objects if namespace_of(obj) in (None, namespace)]
    else:
        objects_in_scope = objects
    try:
        chosen = find_workload(objects_in_scope, workload, kind)
    except WorkloadNotFound as missing:
        raise WorkloadNotFound(f"snapshot {directory}: {missing}") from None
    namespace = namespace or namespace_of(chosen) or "default"
    logs, previous = _read_logs(directory)
    return context_from_objects(
        objects,
        logs,
        previous,
        namespace,
        name_of(chosen),
        max_bytes,
        kind=kind_of(chosen),
        metrics=read_metrics(directory),
    )


def read_metrics(directory: Path | str) -> WorkloadMetrics | None:
    """Return a snapshot's `metrics/workload.json`, or None when it has none."""
    path = Path(directory) / METRICS_FILE
    return WorkloadMetrics.model_validate_json(path.read_text()) if path.is_file() else None


def _safe_part(name: str) -> str:
    if not name or "/" in name or name in {".", ".."}:
        raise ValueError(f"not a valid pod or container name for a log path: {name!r}")
    return name


def write_snapshot(
    directory: Path | str,
    objects: list[Obj],
    logs: dict[str, str],
    previous_logs: dict[str, str],
    metrics: WorkloadMetrics | None = None,
) -> Path:
    """Write a snapshot directory (objects sanitized, logs redacted, metrics if read);
    return its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "apiVersion": "v1",
        "items": [sanitize(obj) for obj in objects],
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }
    (directory / OBJECTS_FILE).write_text(
        yaml.safe_dump(document, default_flow_style=False, sort_keys=True, allow_unicode=True)
    )
    for source, suffix in ((logs, ".txt"), (previous_logs, ".previous.txt")):
        for key, text in source.items():
            pod, _, container = key.partition("/")
            folder = directory / LOGS_DIR / _safe_part(pod)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{_safe_part(container)}{suffix}").write_text(redact_text(text))
    if metrics is not None:
        (directory / METRICS_FILE).parent.mkdir(exist_ok=True)
        (directory / METRICS_FILE).write_text(metrics.model_dump_json() + "\n")
    return directory


def context_json(context: ClusterContext) -> str:
    """Return the context as compact JSON, the form sent to a model."""
    return json.dumps(context.model_dump(mode="json"), separators=(",", ":"), sort_keys=True)
