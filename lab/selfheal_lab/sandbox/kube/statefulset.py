"""The simulated StatefulSet controller.

Pods `<set>-0 .. <set>-N-1` with stable names, each with its claims from
`volumeClaimTemplates` (`<template>-<set>-<ordinal>`); OrderedReady management (the next pod
only once every lower one is Running and Ready, scale-down from the highest ordinal); pod
template history in ControllerRevisions; RollingUpdate replacing pods from the highest
ordinal down, one at a time, each only once the others are Ready.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any

from selfheal_lab.sandbox.kube import defaults
from selfheal_lab.sandbox.kube.controllers import controlled_by, is_ready, owner_ref
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.kubelet import STATIC_ANNOTATION
from selfheal_lab.sandbox.kube.pod_security import admit_pod
from selfheal_lab.sandbox.kube.resources import PODS, PVCS, STATEFULSETS
from selfheal_lab.sandbox.kube.revisions import (
    POD_REVISION_LABEL,
    current_revision,
    owned_revisions,
    prune,
)
from selfheal_lab.sandbox.kube.storage import admit_claim
from selfheal_lab.sandbox.kube.store import Obj, Store

CONTROLLER = "statefulset-controller"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"


def ordinal(pod: Obj, set_name: str) -> int:
    """Return a set pod's ordinal from its name (-1 when the name is not `<set>-<n>`)."""
    suffix = pod["metadata"]["name"].removeprefix(f"{set_name}-")
    return int(suffix) if suffix.isdigit() else -1


def claim_name(template: str, set_name: str, index: int) -> str:
    """Return the name of the claim a StatefulSet creates for one pod and one template."""
    return f"{template}-{set_name}-{index}"


def _running_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)


@dataclass
class StatefulSetController:
    """Reconciles every StatefulSet in the store, one step per sync."""

    store: Store
    events: EventRecorder

    def sync(self) -> None:
        """Run one pass over every StatefulSet."""
        sets = self.store.peek(STATEFULSETS)
        if not sets:
            return
        pods = self.store.peek(PODS)
        for stateful_set in sets:
            owned = [p for p in pods if controlled_by(p, stateful_set)]
            self._sync_set(stateful_set, owned)

    def _sync_set(self, sts: Obj, owned: list[Obj]) -> None:
        meta, spec = sts["metadata"], sts.get("spec") or {}
        name = meta["name"]
        revisions = owned_revisions(self.store, sts)
        update = current_revision(self.store, sts, revisions)
        if all(r["metadata"]["uid"] != update["metadata"]["uid"] for r in revisions):
            revisions.append(update)
        update_name = update["metadata"]["name"]
        by_ordinal = {ordinal(p, name): p for p in owned}
        replicas = int(spec.get("replicas", 1))
        self._step(sts, by_ordinal, replicas, update)
        pods = [p for p in self.store.peek(PODS, meta["namespace"]) if controlled_by(p, sts)]
        current_name = (sts.get("status") or {}).get("currentRevision") or update_name
        self._write_status(sts, pods, current_name, update_name)
        live = {(p["metadata"].get("labels") or {}).get(POD_REVISION_LABEL) for p in pods}
        prune(self.store, sts, revisions, {update_name, current_name, *(n for n in live if n)})

    def _step(self, sts: Obj, by_ordinal: dict[int, Obj], replicas: int, update: Obj) -> None:
        """Create, replace or delete at most one pod, as OrderedReady allows."""
        parallel = (sts["spec"].get("podManagementPolicy") or "OrderedReady") == "Parallel"
        for index in range(replicas):
            pod = by_ordinal.get(index)
            if pod is None:
                self._create_pod(sts, index, update)
                if not parallel:
                    return
                continue
            if (pod.get("status") or {}).get("phase") == "Failed" and not _static(pod):
                self._delete_pod(sts, pod)  # recreated on the next pass
                return
            if not parallel and not _running_ready(pod):
                return
        extra = sorted((i for i in by_ordinal if i >= replicas or i < 0), reverse=True)
        if extra:
            if not all(_running_ready(by_ordinal[i]) for i in range(replicas) if i in by_ordinal):
                return
            self._delete_pod(sts, by_ordinal[extra[0]])
            return
        self._roll(sts, by_ordinal, replicas, update["metadata"]["name"])

    def _roll(self, sts: Obj, by_ordinal: dict[int, Obj], replicas: int, update_name: str) -> None:
        strategy = sts["spec"].get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition", 0))
        pods = [by_ordinal[i] for i in range(replicas) if i in by_ordinal]
        if len(pods) < replicas or not all(_running_ready(p) for p in pods):
            return
        for index in range(replicas - 1, partition - 1, -1):
            pod = by_ordinal[index]
            labels = pod["metadata"].get("labels") or {}
            if labels.get(POD_REVISION_LABEL) != update_name and not _static(pod):
                self._delete_pod(sts, pod)
                return

    def _create_pod(self, sts: Obj, index: int, update: Obj) -> None:
        meta, spec = sts["metadata"], sts["spec"]
        name, namespace = meta["name"], meta["namespace"]
        pod_name = f"{name}-{index}"
        template = copy.deepcopy(spec.get("template") or {})
        pod_spec = template.get("spec") or {}
        volumes = [v for v in pod_spec.get("volumes") or []]
        for claim_template in spec.get("volumeClaimTemplates") or []:
            template_name = claim_template["metadata"]["name"]
            claim = claim_name(template_name, name, index)
            if not self._ensure_claim(sts, claim_template, claim, pod_name):
                return
            volumes = [v for v in volumes if v.get("name") != template_name]
            volumes.append({"name": template_name, "persistentVolumeClaim": {"claimName": claim}})
        if volumes:
            pod_spec["volumes"] = volumes
        pod_spec["hostname"] = pod_name
        if spec.get("serviceName"):
            pod_spec["subdomain"] = spec["serviceName"]
        pod_spec.setdefault("serviceAccountName", "default")
        pod_spec.setdefault("serviceAccount", "default")
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels[POD_REVISION_LABEL] = update["metadata"]["name"]
        labels[POD_NAME_LABEL] = pod_name
        labels[POD_INDEX_LABEL] = str(index)
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": namespace,
                "labels": labels,
                "ownerReferences": [owner_ref(sts)],
            },
            "spec": pod_spec,
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        annotations = (template.get("metadata") or {}).get("annotations")
        if annotations:
            pod["metadata"]["annotations"] = annotations
        defaults.pod(pod)
        try:
            admit_pod(self.store, pod)
            self.store.create(PODS, namespace, pod)
        except ApiError as exc:
            self._event(
                sts,
                "Warning",
                "FailedCreate",
                f"create Pod {pod_name} in StatefulSet {name} failed error: {exc.message}",
            )
            return
        self._event(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Pod {pod_name} in StatefulSet {name} successful",
        )

    def _ensure_claim(self, sts: Obj, template: Obj, claim: str, pod_name: str) -> bool:
        meta = sts["metadata"]
        if self.store.find(PVCS, meta["namespace"], claim) is not None:
            return True
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels.update(((sts["spec"].get("selector") or {}).get("matchLabels")) or {})
        body: Obj = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim, "namespace": meta["namespace"], "labels": labels},
            "spec": copy.deepcopy(template.get("spec") or {}),
            "status": {"phase": "Pending"},
        }
        retention = sts["spec"].get("persistentVolumeClaimRetentionPolicy") or {}
        if retention.get("whenDeleted") == "Delete":
            body["metadata"]["ownerReferences"] = [
                {**owner_ref(sts), "controller": False, "blockOwnerDeletion": True}
            ]
        defaults.persistent_volume_claim(body)
        admit_claim(self.store, body)
        try:
            self.store.create(PVCS, meta["namespace"], body)
        except ApiError as exc:
            self._event(
                sts,
                "Warning",
                "FailedCreate",
                f"create Claim {claim} for Pod {pod_name} in StatefulSet {meta['name']} "
                f"failed error: {exc.message}",
            )
            return False
        self._event(
            sts,
            "Normal",
            "SuccessfulCreate",
            f"create Claim {claim} Pod {pod_name} in StatefulSet {meta['name']} success",
        )
        return True

    def _delete_pod(self, sts: Obj, pod: Obj) -> None:
        with contextlib.suppress(ApiError):  # already gone
            self.store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
        self._event(
            sts,
            "Normal",
            "SuccessfulDelete",
            f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} "
            "successful",
        )

    def _event(self, sts: Obj, kind: str, reason: str, message: str) -> None:
        self.events.record(sts, kind, reason, message, CONTROLLER)

    def _write_status(self, sts: Obj, pods: list[Obj], current: str, update: str) -> None:
        meta, spec = sts["metadata"], sts["spec"]
        replicas = int(spec.get("replicas", 1))
        wanted = [p for p in pods if 0 <= ordinal(p, meta["name"]) < replicas]

        def at(revision: str) -> int:
            return sum(
                1
                for p in wanted
                if (p["metadata"].get("labels") or {}).get(POD_REVISION_LABEL) == revision
            )

        ready = sum(1 for p in pods if _running_ready(p))
        updated = at(update)
        if updated == replicas == len(wanted) and ready >= replicas:
            current = update  # the rollout finished: the update revision becomes current
        status: dict[str, Any] = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": len(pods),
            "readyReplicas": ready,
            "currentReplicas": at(current),
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": current,
            "updateRevision": update,
            "collisionCount": 0,
        }
        kept = ("observedGeneration", "replicas", "availableReplicas", "collisionCount")
        status = {k: v for k, v in status.items() if v or k in kept}

        def write(obj: Obj) -> None:
            obj["status"] = status

        if sts.get("status") != status:
            self.store.mutate(STATEFULSETS, meta["namespace"], meta["name"], write)


def _static(pod: Obj) -> bool:
    return (pod["metadata"].get("annotations") or {}).get(STATIC_ANNOTATION) == "true"
