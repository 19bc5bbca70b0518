"""Reading Kubernetes objects as the API's JSON dicts (`kubectl get -o json`): names, owners,
revisions, selectors, pod specs and timestamps. Pure functions, shared by the activities,
the rules and the snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

Obj = dict[str, Any]
"""One object as the API's JSON: camelCase keys, `metadata`, `spec`, `status`."""

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
"""Where the Deployment controller records a rollout revision on Deployments and ReplicaSets."""


def metadata_of(obj: Obj) -> Obj:
    """The object's metadata, empty when it has none."""
    return obj.get("metadata") or {}


def name_of(obj: Obj) -> str:
    """The object's name, empty when it has none."""
    return str(metadata_of(obj).get("name", ""))


def namespace_of(obj: Obj) -> str | None:
    """The object's namespace; None for cluster-scoped objects."""
    return metadata_of(obj).get("namespace")


def uid_of(obj: Obj) -> str:
    """The object's uid, empty when it has none."""
    return str(metadata_of(obj).get("uid", ""))


def controller_uid(obj: Obj) -> str | None:
    """The uid of the object's controlling owner, if it has one."""
    for ref in metadata_of(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def owner_names(obj: Obj, kind: str) -> set[str]:
    """The names of the object's owners of `kind`."""
    refs = metadata_of(obj).get("ownerReferences") or []
    return {ref.get("name", "") for ref in refs if ref.get("kind") == kind}


def controller_of(obj: Obj) -> tuple[str, str] | None:
    """The (kind, name) of the object's controlling owner, if it has one."""
    for ref in metadata_of(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("kind", "")), str(ref.get("name", ""))
    return None


def revision_of(obj: Obj) -> int | None:
    """The rollout revision recorded on a Deployment or ReplicaSet, if any."""
    value = (metadata_of(obj).get("annotations") or {}).get(REVISION_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_time(value: Any) -> datetime | None:
    """An API timestamp (`2024-05-01T10:00:00Z` or with an offset) as a datetime."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def label_selector(selector: Obj | None) -> str:
    """A LabelSelector as the query string the API accepts (`app=x,tier in (a,b)`)."""
    selector = selector or {}
    terms = [f"{key}={value}" for key, value in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(expression.get("values") or [])
        if operator == "In":
            terms.append(f"{key} in ({values})")
        elif operator == "NotIn":
            terms.append(f"{key} notin ({values})")
        elif operator == "Exists":
            terms.append(key)
        elif operator == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms)


def selector_matches(labels: dict[str, str], selector: Obj) -> bool:
    """Whether `labels` match a LabelSelector; an empty selector matches nothing."""
    match_labels = selector.get("matchLabels") or {}
    if any(labels.get(key) != value for key, value in match_labels.items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        if operator == "In" and labels.get(key) not in (values or []):
            return False
        if operator == "NotIn" and labels.get(key) in (values or []):
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return bool(match_labels or selector.get("matchExpressions"))


def kind_of(obj: Obj) -> str:
    """The object's kind, inferred from its shape when `kind` is absent.

    List calls through the Python client return items without `kind`; the shapes of the
    kinds a snapshot holds are distinct enough to tell them apart.
    """
    if obj.get("kind"):
        return str(obj["kind"])
    spec = obj.get("spec") or {}
    if "involvedObject" in obj or "regarding" in obj:
        return "Event"
    if "revision" in obj and "data" in obj:
        return "ControllerRevision"
    if "containers" in spec:
        return "Pod"
    if "jobTemplate" in spec:
        return "CronJob"
    if "template" in spec and ("backoffLimit" in spec or "completions" in spec):
        return "Job"
    if "template" in spec and ("serviceName" in spec or "podManagementPolicy" in spec):
        return "StatefulSet"
    if "template" in spec and "updateStrategy" in spec:
        return "DaemonSet"
    if "accessModes" in spec:
        return "PersistentVolumeClaim"
    if "hard" in spec:
        return "ResourceQuota"
    if "limits" in spec:
        return "LimitRange"
    if "nodeInfo" in (obj.get("status") or {}) or "podCIDR" in spec or "providerID" in spec:
        return "Node"
    if "template" in spec:
        owners = {ref.get("kind") for ref in metadata_of(obj).get("ownerReferences") or []}
        if "Deployment" in owners or (
            "strategy" not in spec and "progressDeadlineSeconds" not in spec
        ):
            return "ReplicaSet"
        return "Deployment"
    if "type" in obj:
        return "Secret"
    if "data" in obj or "binaryData" in obj or "immutable" in obj:
        return "ConfigMap"
    return ""


def pod_template(obj: Obj) -> Obj:
    """The pod template of a workload object (a CronJob's `spec.jobTemplate.spec.template`);
    empty for a Pod and for objects without one."""
    spec = obj.get("spec") or {}
    if "jobTemplate" in spec:
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return dict(spec.get("template") or {})


def template_path(kind: str) -> str:
    """Where a workload kind keeps its pod template, as a field path."""
    return "spec.jobTemplate.spec.template" if kind == "CronJob" else "spec.template"


def pod_specs(obj: Obj) -> list[Obj]:
    """The pod specs inside a Pod or a workload object (Deployment, ReplicaSet, StatefulSet,
    DaemonSet, Job, CronJob)."""
    spec = obj.get("spec") or {}
    if "containers" in spec:
        return [spec]
    template_spec = pod_template(obj).get("spec")
    return [template_spec] if template_spec else []
