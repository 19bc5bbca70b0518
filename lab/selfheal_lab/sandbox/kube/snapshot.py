"""Load a snapshot (as `selfheal snapshot` writes it) into the sandbox cluster, to remediate it.

A snapshot directory holds `objects.yaml` (a `kind: List` as `kubectl get -o yaml` prints it)
and `logs/<pod>/<container>.txt` / `.previous.txt`. Objects are created through the API with
their status; pods get the static annotation so the simulated kubelet keeps that status.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from selfheal_lab.sandbox.kube import defaults
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.kubelet import STATIC_ANNOTATION
from selfheal_lab.sandbox.kube.resources import NAMESPACES, type_for_kind
from selfheal_lab.sandbox.kube.store import Obj, Store

# Owners before what they own, so owner references resolve as soon as objects exist.
LOAD_ORDER = (
    "Namespace",
    "StorageClass",
    "PersistentVolume",
    "ConfigMap",
    "Secret",
    "Service",
    "PersistentVolumeClaim",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "CronJob",
    "Job",
    "ControllerRevision",
    "Pod",
)
_SERVER_FIELDS = ("resourceVersion", "managedFields", "selfLink", "generation")


@dataclass
class LoadedSnapshot:
    """What was loaded: object references ("Kind namespace/name") and log files."""

    objects: list[str] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def read_objects(directory: str | Path) -> list[Obj]:
    """Return the items of a snapshot's objects.yaml."""
    document = yaml.safe_load((Path(directory) / "objects.yaml").read_text()) or {}
    if document.get("kind") == "List" or "items" in document:
        return list(document.get("items") or [])
    return [document]


def _prepared(obj: Obj) -> Obj:
    obj = copy.deepcopy(obj)
    meta = obj.setdefault("metadata", {})
    for key in _SERVER_FIELDS:
        meta.pop(key, None)
    if obj.get("kind") == "Pod":
        meta.setdefault("annotations", {})[STATIC_ANNOTATION] = "true"
    return obj


def _order(obj: Obj) -> int:
    kind = str(obj.get("kind"))
    return LOAD_ORDER.index(kind) if kind in LOAD_ORDER else len(LOAD_ORDER)


def _log_files(directory: Path) -> list[tuple[str, str, bool, Path]]:
    found = []
    for path in sorted((directory / "logs").glob("*/*.txt")):
        previous = path.name.endswith(".previous.txt")
        container = path.name.removesuffix(".previous.txt").removesuffix(".txt")
        found.append((path.parent.name, container, previous, path))
    return found


def load_objects(store: Store, objects: list[Obj]) -> LoadedSnapshot:
    """Create snapshot objects in one step, so no controller acts on a half-loaded snapshot."""
    loaded = LoadedSnapshot()
    prepared = sorted((_prepared(o) for o in objects), key=_order)
    with store.batch():
        for namespace in sorted({o["metadata"].get("namespace") for o in prepared} - {None, ""}):
            if not store.namespace_exists(str(namespace)):
                store.create(NAMESPACES, "", {"metadata": {"name": namespace}})
        for obj in prepared:
            meta = obj["metadata"]
            reference = f"{obj.get('kind')} {meta.get('namespace', '')}/{meta.get('name')}"
            rtype = type_for_kind(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
            if rtype is None:
                loaded.skipped.append(reference)
                continue
            try:
                store.create(rtype, meta.get("namespace", ""), defaults.apply_defaults(obj))
                loaded.objects.append(reference)
            except ApiError:
                loaded.skipped.append(reference)
    return loaded


def load_snapshot(directory: str | Path, target: str | Store) -> LoadedSnapshot:
    """Load a snapshot directory into the sandbox at `target` (its API URL, or its Store).

    Over HTTP the objects go to the sandbox's `POST /sandbox/v1/objects` (which creates them
    atomically) and the logs to `PUT /sandbox/v1/namespaces/{ns}/pods/{pod}/log`.
    """
    root = Path(directory)
    objects = read_objects(root)
    if isinstance(target, Store):
        loaded = load_objects(target, objects)
    else:
        loaded = _post_objects(target, objects)
    pods = {
        o["metadata"]["name"]: o["metadata"].get("namespace", "default")
        for o in objects
        if o.get("kind") == "Pod"
    }
    with httpx.Client(base_url=str(target).rstrip("/"), timeout=30) as http:
        for pod, container, previous, path in _log_files(root):
            if pod not in pods:
                continue
            if isinstance(target, Store):
                target.set_log(pods[pod], pod, container, path.read_text(), previous)
            else:
                response = http.put(
                    f"/sandbox/v1/namespaces/{pods[pod]}/pods/{pod}/log",
                    params={"container": container, "previous": str(previous).lower()},
                    content=path.read_bytes(),
                )
                response.raise_for_status()
            loaded.logs.append(str(path.relative_to(root)))
    return loaded


def _post_objects(url: str, objects: list[Obj]) -> LoadedSnapshot:
    response = httpx.post(
        url.rstrip("/") + "/sandbox/v1/objects",
        json={"apiVersion": "v1", "kind": "List", "items": objects},
        timeout=60,
    )
    if response.status_code != 200:
        raise ApiError(response.status_code, "LoadFailed", response.text)
    body: dict[str, Any] = response.json()
    return LoadedSnapshot(objects=list(body["objects"]), skipped=list(body["skipped"]))
