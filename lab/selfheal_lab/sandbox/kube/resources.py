"""The resource types the Kubernetes stand-in serves, and their discovery documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SERVER_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T00:00:00Z",
    "goVersion": "go1.23.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass(frozen=True)
class ResourceType:
    """One served resource: where it lives in the API and how discovery describes it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    singular: str = field(default="")

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def discovery_entries(self) -> list[dict[str, Any]]:
        """Return this resource and its subresources as APIResource entries."""
        entries: list[dict[str, Any]] = [
            {
                "name": self.plural,
                "singularName": self.singular or self.kind.lower(),
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": ALL_VERBS,
                **({"shortNames": list(self.short_names)} if self.short_names else {}),
                **({"categories": list(self.categories)} if self.categories else {}),
            }
        ]
        for sub in self.subresources:
            kind = {"scale": "Scale", "log": "Pod"}.get(sub, self.kind)
            group = {"scale": "autoscaling", "log": ""}.get(sub)
            verbs = ["get"] if sub == "log" else ["get", "patch", "update"]
            entry: dict[str, Any] = {
                "name": f"{self.plural}/{sub}",
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": kind,
                "verbs": verbs,
            }
            if group:
                entry.update({"group": group, "version": "v1"})
            entries.append(entry)
        return entries


RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "Namespace", "namespaces", False, ("ns",), (), ("status",)),
    ResourceType("", "v1", "Node", "nodes", False, ("no",), (), ("status",)),
    ResourceType("", "v1", "Pod", "pods", True, ("po",), ("all",), ("status", "log")),
    ResourceType("", "v1", "Event", "events", True, ("ev",)),
    ResourceType("", "v1", "ConfigMap", "configmaps", True, ("cm",)),
    ResourceType("", "v1", "Secret", "secrets", True),
    ResourceType("", "v1", "Service", "services", True, ("svc",), ("all",), ("status",)),
    ResourceType("", "v1", "ServiceAccount", "serviceaccounts", True, ("sa",)),
    ResourceType(
        "apps", "v1", "Deployment", "deployments", True, ("deploy",), ("all",), ("status", "scale")
    ),
    ResourceType(
        "apps", "v1", "ReplicaSet", "replicasets", True, ("rs",), ("all",), ("status", "scale")
    ),
    ResourceType(
        "apps", "v1", "StatefulSet", "statefulsets", True, ("sts",), ("all",), ("status", "scale")
    ),
    ResourceType("apps", "v1", "DaemonSet", "daemonsets", True, ("ds",), ("all",), ("status",)),
    ResourceType("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    ResourceType("batch", "v1", "Job", "jobs", True, (), ("all",), ("status",)),
    ResourceType("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("all",), ("status",)),
    ResourceType(
        "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ("pvc",), (), ("status",)
    ),
    ResourceType(
        "", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",), (), ("status",)
    ),
    ResourceType("", "v1", "ResourceQuota", "resourcequotas", True, ("quota",), (), ("status",)),
    ResourceType("", "v1", "LimitRange", "limitranges", True, ("limits",)),
    ResourceType("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)),
    ResourceType("events.k8s.io", "v1", "Event", "events", True, ("ev",)),
)


def find_type(group: str, version: str, plural: str) -> ResourceType | None:
    """Return the served type at group/version/plural, or None when nothing is served there."""
    for rtype in RESOURCE_TYPES:
        if (rtype.group, rtype.version, rtype.plural) == (group, version, plural):
            return rtype
    return None


def type_for_kind(api_version: str, kind: str) -> ResourceType | None:
    """Return the served type for an object's apiVersion and kind."""
    group, _, version = api_version.rpartition("/")
    for rtype in RESOURCE_TYPES:
        if (rtype.group, rtype.version, rtype.kind) == (group, version, kind):
            return rtype
    return None


def core_versions() -> dict[str, Any]:
    """Return the /api document."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def group_list() -> dict[str, Any]:
    """Return the /apis document listing every served API group."""
    groups: dict[str, list[str]] = {}
    for rtype in RESOURCE_TYPES:
        if rtype.group and rtype.version not in groups.setdefault(rtype.group, []):
            groups[rtype.group].append(rtype.version)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [group_document(name, versions) for name, versions in groups.items()],
    }


def group_document(name: str, versions: list[str] | None = None) -> dict[str, Any]:
    """Return the APIGroup document for one group."""
    if versions is None:
        versions = sorted({t.version for t in RESOURCE_TYPES if t.group == name})
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": entries,
        "preferredVersion": entries[0] if entries else {},
    }


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """Return the APIResourceList for group/version, or None if that version is not served."""
    types = [t for t in RESOURCE_TYPES if (t.group, t.version) == (group, version)]
    if not types:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": types[0].group_version,
        "resources": [entry for t in types for entry in t.discovery_entries()],
    }


def _served(group: str, plural: str) -> ResourceType:
    rtype = find_type(group, "v1", plural)
    if rtype is None:
        raise KeyError(f"{plural}.{group}")
    return rtype


NAMESPACES = _served("", "namespaces")
NODES = _served("", "nodes")
PODS = _served("", "pods")
EVENTS = _served("", "events")
CONFIGMAPS = _served("", "configmaps")
SECRETS = _served("", "secrets")
SERVICES = _served("", "services")
DEPLOYMENTS = _served("apps", "deployments")
REPLICASETS = _served("apps", "replicasets")
STATEFULSETS = _served("apps", "statefulsets")
DAEMONSETS = _served("apps", "daemonsets")
CONTROLLER_REVISIONS = _served("apps", "controllerrevisions")
JOBS = _served("batch", "jobs")
CRONJOBS = _served("batch", "cronjobs")
PVCS = _served("", "persistentvolumeclaims")
PVS = _served("", "persistentvolumes")
STORAGE_CLASSES = _served("storage.k8s.io", "storageclasses")
RESOURCE_QUOTAS = _served("", "resourcequotas")
