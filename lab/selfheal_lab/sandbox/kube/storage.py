"""Persistent volumes: the default StorageClass, dynamic provisioning and binding of claims,
and the scheduler's check that a pod's claims are bound.

Every StorageClass binds immediately (as `volumeBindingMode: Immediate`): a claim whose class
exists gets a new PersistentVolume `pvc-<claim uid>` at once; a claim naming a class that does
not exist stays Pending with the persistentvolume-controller's ProvisioningFailed event.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.resources import PVCS, PVS, STORAGE_CLASSES
from selfheal_lab.sandbox.kube.store import Obj, Store

DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
PROVISIONER = "rancher.io/local-path"
STANDARD_CLASS = "standard"
CONTROLLER = "persistentvolume-controller"


def standard_class() -> Obj:
    """Return the cluster's default StorageClass, as kind ships it."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STANDARD_CLASS,
            "annotations": {DEFAULT_CLASS_ANNOTATION: "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def default_class(store: Store) -> str | None:
    """Return the name of the StorageClass annotated as the default, if any."""
    for storage_class in store.peek(STORAGE_CLASSES):
        annotations = storage_class["metadata"].get("annotations") or {}
        if annotations.get(DEFAULT_CLASS_ANNOTATION) == "true":
            return str(storage_class["metadata"]["name"])
    return None


def admit_claim(store: Store, claim: Obj) -> Obj:
    """Give a new claim without a class the default one (the DefaultStorageClass plugin)."""
    spec = claim.setdefault("spec", {})
    if "storageClassName" not in spec:
        name = default_class(store)
        if name is not None:
            spec["storageClassName"] = name
    return claim


def claim_names(pod: Obj) -> list[str]:
    """Return the names of the PersistentVolumeClaims a pod mounts."""
    return [
        str(volume["persistentVolumeClaim"].get("claimName", ""))
        for volume in (pod.get("spec") or {}).get("volumes") or []
        if volume.get("persistentVolumeClaim")
    ]


def unbound_claims_message(store: Store, pod: Obj, node_count: int) -> str:
    """Return the scheduler's FailedScheduling message when a pod's claims keep it off every
    node (a claim missing or not Bound), or "" when its volumes allow scheduling."""
    namespace = pod["metadata"].get("namespace", "")
    reason = ""
    for name in claim_names(pod):
        claim = store.find(PVCS, namespace, name)
        if claim is None:
            reason = f'persistentvolumeclaim "{name}" not found'
            break
        if (claim.get("status") or {}).get("phase") != "Bound":
            reason = "pod has unbound immediate PersistentVolumeClaims"
    if not reason:
        return ""
    return (
        f"0/{node_count} nodes are available: {reason}. preemption: 0/{node_count} nodes are "
        f"available: {node_count} Preemption is not helpful for scheduling."
    )


@dataclass
class VolumeController:
    """The persistentvolume-controller plus a provisioner for every StorageClass."""

    store: Store
    events: EventRecorder
    retry_seconds: float = 0.5  # wall time between ProvisioningFailed reports for one claim
    _reported: dict[str, float] = field(default_factory=dict)

    def sync(self) -> None:
        """Bind every Pending claim whose StorageClass exists."""
        claims = [
            c for c in self.store.peek(PVCS) if (c.get("status") or {}).get("phase") != "Bound"
        ]
        if not claims:
            return
        classes = {c["metadata"]["name"]: c for c in self.store.peek(STORAGE_CLASSES)}
        for claim in claims:
            self._sync_claim(claim, classes)

    def _sync_claim(self, claim: Obj, classes: dict[str, Obj]) -> None:
        meta, spec = claim["metadata"], claim.get("spec") or {}
        class_name = spec.get("storageClassName")
        storage_class = classes.get(class_name) if class_name else None
        if storage_class is None:
            if class_name:
                message = f'storageclass.storage.k8s.io "{class_name}" not found'
                self._report(claim, "Warning", "ProvisioningFailed", message)
            else:
                message = (
                    "no persistent volumes available for this claim and no storage class is set"
                )
                self._report(claim, "Normal", "FailedBinding", message)
            if (claim.get("status") or {}).get("phase") != "Pending":
                self.store.mutate(PVCS, meta["namespace"], meta["name"], _pending)
            return
        volume = self._provision(claim, storage_class)
        self.events.record(
            claim,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {volume} using {storage_class['provisioner']}",
            CONTROLLER,
        )
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        provisioner = str(storage_class.get("provisioner", ""))

        def bind(obj: Obj) -> None:
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations["pv.kubernetes.io/bind-completed"] = "yes"
            annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
            annotations["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
            annotations["volume.kubernetes.io/storage-provisioner"] = provisioner
            obj["metadata"].setdefault("finalizers", ["kubernetes.io/pvc-protection"])
            obj["spec"]["volumeName"] = volume
            obj["status"] = {
                "phase": "Bound",
                "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                "capacity": {"storage": size},
            }

        self.store.mutate(PVCS, meta["namespace"], meta["name"], bind)
        self._reported.pop(meta["uid"], None)

    def _provision(self, claim: Obj, storage_class: Obj) -> str:
        meta, spec = claim["metadata"], claim.get("spec") or {}
        name = f"pvc-{meta['uid']}"
        if self.store.find(PVS, "", name) is not None:
            return name
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        volume: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "annotations": {"pv.kubernetes.io/provisioned-by": storage_class["provisioner"]},
                "finalizers": ["kubernetes.io/pv-protection"],
            },
            "spec": {
                "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                "capacity": {"storage": size},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                    "uid": meta["uid"],
                },
                "hostPath": {
                    "path": f"/var/local-path-provisioner/{name}",
                    "type": "DirectoryOrCreate",
                },
                "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
                "storageClassName": storage_class["metadata"]["name"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
            },
            "status": {"phase": "Bound"},
        }
        self.store.create(PVS, "", volume)
        return name

    def _report(self, claim: Obj, kind: str, reason: str, message: str) -> None:
        uid = claim["metadata"]["uid"]
        now = time.monotonic()
        if now < self._reported.get(uid, 0.0):
            return
        self._reported[uid] = now + self.retry_seconds
        self.events.record(claim, kind, reason, message, CONTROLLER)


def _pending(obj: Obj) -> None:
    obj["status"] = {"phase": "Pending"}
