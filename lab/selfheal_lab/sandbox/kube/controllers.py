"""The simulated Deployment and ReplicaSet controllers and the garbage collector.

They follow the real controllers' rules closely enough that `kubectl rollout status`,
`rollout history` and `rollout undo` behave as on a cluster: one ReplicaSet per pod-template
revision, rolling updates bounded by maxSurge/maxUnavailable, and the status conditions
Progressing and Available.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from selfheal_lab.sandbox.kube import defaults
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.pod_security import pod_security_refusal
from selfheal_lab.sandbox.kube.quota import quota_refusal
from selfheal_lab.sandbox.kube.resources import (
    CONTROLLER_REVISIONS,
    DEPLOYMENTS,
    JOBS,
    PODS,
    PVCS,
    REPLICASETS,
    ResourceType,
)
from selfheal_lab.sandbox.kube.store import NAME_ALPHABET, Obj, Store, now_rfc3339, random_suffix

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
HASH_LABEL = "pod-template-hash"
REFUSAL_RETRY_SECONDS = 1.0  # wall time between a refused pod creation and the next try


def template_hash(template: dict[str, Any], collisions: int = 0) -> str:
    """Return a stable pod-template-hash for a pod template."""
    canonical = json.dumps(_without_hash(template), sort_keys=True) + str(collisions)
    digest = int(hashlib.sha256(canonical.encode()).hexdigest(), 16)
    chars = []
    for _ in range(10):
        digest, index = divmod(digest, len(NAME_ALPHABET))
        chars.append(NAME_ALPHABET[index])
    return "".join(chars)


def _without_hash(template: dict[str, Any]) -> dict[str, Any]:
    clean = copy.deepcopy(template)
    labels = clean.get("metadata", {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return clean


def revision_of(obj: Obj) -> int:
    """Return the revision annotation of a ReplicaSet or Deployment (0 if absent)."""
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def owner_ref(owner: Obj) -> dict[str, Any]:
    """Return the controller owner reference an object created by `owner` carries."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controlled_by(obj: Obj, owner: Obj) -> bool:
    """Return whether `owner` is `obj`'s controller."""
    uid = owner["metadata"]["uid"]
    return any(
        ref.get("uid") == uid and ref.get("controller")
        for ref in obj["metadata"].get("ownerReferences") or []
    )


def _resolve(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = total * int(value[:-1]) / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def is_ready(pod: Obj) -> bool:
    """Return whether a pod's Ready condition is True."""
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in pod.get("status", {}).get("conditions") or []
    )


def is_active(pod: Obj) -> bool:
    """Return whether a pod still counts: neither finished nor being deleted."""
    return pod.get("status", {}).get("phase") not in ("Succeeded", "Failed") and not pod[
        "metadata"
    ].get("deletionTimestamp")


def _condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    stamp = now_rfc3339()
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


@dataclass
class Controllers:
    """Deployment controller, ReplicaSet controller and garbage collector in one sync loop."""

    store: Store
    events: EventRecorder
    progress_scale: float = 1.0  # multiplies progressDeadlineSeconds, so tests can time out fast
    _progress_at: dict[str, float] = field(default_factory=dict)
    # ReplicaSet uid -> (when to try creating again, the API server's last refusal)
    _refused: dict[str, tuple[float, str]] = field(default_factory=dict)

    def sync(self) -> None:
        """Run one pass of every controller."""
        self._collect_garbage()
        for deployment in self.store.list(DEPLOYMENTS)[0]:
            self._sync_deployment(deployment)
        pods = self.store.peek(PODS)  # only read: the writes below go through the store
        for replica_set in self.store.list(REPLICASETS)[0]:
            self._sync_replica_set(replica_set, pods)

    # ---- garbage collection ------------------------------------------------------------

    def _collect_garbage(self) -> None:
        uids = self.store.all_uids()
        for rtype in (CONTROLLER_REVISIONS, JOBS, PVCS, REPLICASETS, PODS):
            for obj in self.store.peek(rtype):
                refs = obj["metadata"].get("ownerReferences") or []
                if refs and not any(ref.get("uid") in uids for ref in refs):
                    self._delete(rtype, obj)

    def _delete(self, rtype: ResourceType, obj: Obj) -> None:
        with contextlib.suppress(ApiError):  # already gone
            self.store.delete(rtype, obj["metadata"]["namespace"], obj["metadata"]["name"])

    # ---- ReplicaSets -------------------------------------------------------------------

    def _sync_replica_set(self, rs: Obj, pods: Sequence[Obj]) -> None:
        meta, spec = rs["metadata"], rs.get("spec", {})
        owned = [p for p in pods if controlled_by(p, rs) and is_active(p)]
        want = int(spec.get("replicas", 1))
        if len(owned) < want:
            for _ in range(want - len(owned)):
                created = self._create_pod(rs)
                if created is None:
                    break
                owned.append(created)
        elif len(owned) > want:
            for pod in sorted(owned, key=_deletion_rank)[: len(owned) - want]:
                self._delete(PODS, pod)
                owned.remove(pod)
                self.events.record(
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    "replicaset-controller",
                )
        if len(owned) >= want:
            self._refused.pop(meta["uid"], None)
        ready = sum(1 for p in owned if is_ready(p))
        labels = spec.get("template", {}).get("metadata", {}).get("labels") or {}
        status = {
            "replicas": len(owned),
            "fullyLabeledReplicas": sum(
                1 for p in owned if labels.items() <= (p["metadata"].get("labels") or {}).items()
            ),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": meta.get("generation", 1),
        }
        status = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
        refused = self._refused.get(meta["uid"])
        if refused is not None:
            failure = _condition("ReplicaFailure", "True", "FailedCreate", refused[1])
            failure.pop("lastUpdateTime")
            kept = [
                c
                for c in (rs.get("status") or {}).get("conditions") or []
                if c.get("type") == "ReplicaFailure" and c.get("message") == refused[1]
            ]
            status["conditions"] = kept or [failure]

        def write(obj: Obj) -> None:
            obj["status"] = status

        self.store.mutate(REPLICASETS, meta["namespace"], meta["name"], write)

    def _create_pod(self, rs: Obj) -> Obj | None:
        """Create one pod from the ReplicaSet's template; None when admission (Pod Security,
        then quota, the API server's order) refuses it: the controller then records
        FailedCreate and tries again a second later."""
        uid = rs["metadata"]["uid"]
        if uid in self._refused and time.monotonic() < self._refused[uid][0]:
            return None
        template = copy.deepcopy(rs["spec"].get("template", {}))
        meta = template.get("metadata", {})
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{rs['metadata']['name']}-{random_suffix()}",
                "namespace": rs["metadata"]["namespace"],
                "labels": meta.get("labels") or {},
                "annotations": meta.get("annotations") or {},
                "ownerReferences": [owner_ref(rs)],
            },
            "spec": template.get("spec", {}),
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        if not pod["metadata"]["annotations"]:
            del pod["metadata"]["annotations"]
        pod["spec"].setdefault("serviceAccountName", "default")
        pod["spec"].setdefault("serviceAccount", "default")
        defaults.pod(pod)
        refusal = pod_security_refusal(self.store, pod) or quota_refusal(self.store, pod)
        if refusal is not None:
            self._refused[uid] = (time.monotonic() + REFUSAL_RETRY_SECONDS, refusal)
            self.events.record(
                rs, "Warning", "FailedCreate", f"Error creating: {refusal}", "replicaset-controller"
            )
            return None
        self._refused.pop(uid, None)
        created = self.store.create(PODS, rs["metadata"]["namespace"], pod)
        self.events.record(
            rs,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {created['metadata']['name']}",
            "replicaset-controller",
        )
        return created

    # ---- Deployments -------------------------------------------------------------------

    def _sync_deployment(self, deployment: Obj) -> None:
        meta, spec = deployment["metadata"], deployment.get("spec", {})
        namespace = meta["namespace"]
        owned = [
            rs for rs in self.store.list(REPLICASETS, namespace)[0] if controlled_by(rs, deployment)
        ]
        template = spec.get("template", {})
        new_rs = next(
            (
                rs
                for rs in owned
                if _without_hash(rs["spec"].get("template", {})) == _without_hash(template)
            ),
            None,
        )
        top = max((revision_of(rs) for rs in owned), default=0)
        progressed = False
        if new_rs is None and spec.get("paused"):
            return  # a paused Deployment gets no new ReplicaSet, as with the real controller
        if new_rs is None:
            new_rs = self._create_replica_set(deployment, top + 1, owned)
            owned.append(new_rs)
            progressed = True
        elif revision_of(new_rs) < top:
            new_rs = self._promote(new_rs, top + 1)
        revision = str(revision_of(new_rs))
        if (meta.get("annotations") or {}).get(REVISION) != revision:

            def annotate(obj: Obj) -> None:
                obj["metadata"].setdefault("annotations", {})[REVISION] = revision

            self.store.mutate(DEPLOYMENTS, namespace, meta["name"], annotate)
        old = [rs for rs in owned if rs["metadata"]["uid"] != new_rs["metadata"]["uid"]]
        if not spec.get("paused"):
            if (spec.get("strategy") or {}).get("type") == "Recreate":
                progressed |= self._recreate(deployment, new_rs, old)
            else:
                progressed |= self._roll(deployment, new_rs, old)
            self._prune_history(deployment, old)
        self._write_status(deployment, new_rs, owned, progressed)

    def _create_replica_set(self, deployment: Obj, revision: int, owned: list[Obj]) -> Obj:
        meta, spec = deployment["metadata"], deployment["spec"]
        template = copy.deepcopy(spec.get("template", {}))
        collisions = 0
        names = {rs["metadata"]["name"] for rs in owned}
        pod_hash = template_hash(template, collisions)
        while f"{meta['name']}-{pod_hash}" in names:
            collisions += 1
            pod_hash = template_hash(template, collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        desired = int(spec.get("replicas", 1))
        surge = _resolve(
            (spec.get("strategy") or {}).get("rollingUpdate", {}).get("maxSurge", "25%"),
            desired,
            round_up=True,
        )
        replica_set: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{pod_hash}",
                "namespace": meta["namespace"],
                "labels": copy.deepcopy(template["metadata"]["labels"]),
                "annotations": {
                    REVISION: str(revision),
                    "deployment.kubernetes.io/desired-replicas": str(desired),
                    "deployment.kubernetes.io/max-replicas": str(desired + surge),
                },
                "ownerReferences": [owner_ref(deployment)],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
        }
        defaults.replica_set(replica_set)
        try:
            return self.store.create(REPLICASETS, meta["namespace"], replica_set)
        except ApiError:
            return self.store.get(REPLICASETS, meta["namespace"], replica_set["metadata"]["name"])

    def _promote(self, rs: Obj, revision: int) -> Obj:
        """Make an old ReplicaSet the newest revision again, as a rollback does."""
        old_revision = str(revision_of(rs))

        def bump(obj: Obj) -> None:
            annotations = obj["metadata"].setdefault("annotations", {})
            history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h]
            annotations[REVISION_HISTORY] = ",".join([*history, old_revision])
            annotations[REVISION] = str(revision)

        meta = rs["metadata"]
        return self.store.mutate(REPLICASETS, meta["namespace"], meta["name"], bump) or rs

    def _scale(self, deployment: Obj, rs: Obj, replicas: int) -> None:
        before = int(rs["spec"].get("replicas", 0))
        if before == replicas:
            return
        desired = int(deployment["spec"].get("replicas", 1))

        def scale(obj: Obj) -> None:
            obj["spec"]["replicas"] = replicas
            annotations = obj["metadata"].setdefault("annotations", {})
            annotations["deployment.kubernetes.io/desired-replicas"] = str(desired)

        meta = rs["metadata"]
        updated = self.store.mutate(REPLICASETS, meta["namespace"], meta["name"], scale)
        if updated is not None:
            rs.update(updated)
        direction = "up" if replicas > before else "down"
        self.events.record(
            deployment,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {meta['name']} from {before} to {replicas}",
            "deployment-controller",
        )

    def _roll(self, deployment: Obj, new_rs: Obj, old: list[Obj]) -> bool:
        spec = deployment["spec"]
        desired = int(spec.get("replicas", 1))
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        surge = _resolve(rolling.get("maxSurge", "25%"), desired, round_up=True)
        unavailable = _resolve(rolling.get("maxUnavailable", "25%"), desired, round_up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        changed = False
        new_replicas = int(new_rs["spec"].get("replicas", 0))
        total = new_replicas + sum(int(rs["spec"].get("replicas", 0)) for rs in old)
        if new_replicas < desired:
            room = desired + surge - total
            if room > 0:
                self._scale(deployment, new_rs, new_replicas + min(room, desired - new_replicas))
                changed = True
        elif new_replicas > desired:
            self._scale(deployment, new_rs, desired)
            changed = True
        old_active = [rs for rs in old if int(rs["spec"].get("replicas", 0)) > 0]
        if not old_active:
            return changed
        all_pods = int(new_rs["spec"].get("replicas", 0)) + sum(
            int(rs["spec"].get("replicas", 0)) for rs in old_active
        )
        min_available = desired - unavailable
        new_unavailable = int(new_rs["spec"].get("replicas", 0)) - int(
            new_rs.get("status", {}).get("availableReplicas", 0)
        )
        budget = all_pods - min_available - max(new_unavailable, 0)
        if budget <= 0:
            return changed
        old_active.sort(key=lambda rs: rs["metadata"].get("creationTimestamp", ""))
        # First drop old pods that are not available anyway, then available ones.
        for rs in old_active:
            if budget <= 0:
                break
            replicas = int(rs["spec"].get("replicas", 0))
            broken = replicas - int(rs.get("status", {}).get("availableReplicas", 0))
            cut = min(budget, max(broken, 0))
            if cut > 0:
                self._scale(deployment, rs, replicas - cut)
                budget -= cut
                changed = True
        available = int(new_rs.get("status", {}).get("availableReplicas", 0)) + sum(
            int(rs.get("status", {}).get("availableReplicas", 0)) for rs in old_active
        )
        spare = min(available - min_available, budget)
        for rs in old_active:
            if spare <= 0:
                break
            replicas = int(rs["spec"].get("replicas", 0))
            cut = min(replicas, spare)
            if cut > 0:
                self._scale(deployment, rs, replicas - cut)
                spare -= cut
                changed = True
        return changed

    def _recreate(self, deployment: Obj, new_rs: Obj, old: list[Obj]) -> bool:
        running = [rs for rs in old if int(rs["spec"].get("replicas", 0)) > 0]
        for rs in running:
            self._scale(deployment, rs, 0)
        pods_left = sum(int(rs.get("status", {}).get("replicas", 0)) for rs in old)
        desired = int(deployment["spec"].get("replicas", 1))
        if not running and pods_left == 0 and int(new_rs["spec"].get("replicas", 0)) != desired:
            self._scale(deployment, new_rs, desired)
            return True
        return bool(running)

    def _prune_history(self, deployment: Obj, old: list[Obj]) -> None:
        limit = int(deployment["spec"].get("revisionHistoryLimit", 10))
        idle = sorted(
            (rs for rs in old if int(rs["spec"].get("replicas", 0)) == 0),
            key=revision_of,
        )
        for rs in idle[: max(len(idle) - limit, 0)]:
            if int(rs.get("status", {}).get("replicas", 0)) == 0:
                self._delete(REPLICASETS, rs)

    def _write_status(
        self, deployment: Obj, new_rs: Obj, owned: list[Obj], progressed: bool
    ) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        namespace, name = meta["namespace"], meta["name"]
        fresh = {rs["metadata"]["uid"]: rs for rs in self.store.list(REPLICASETS, namespace)[0]}
        sets = [fresh.get(rs["metadata"]["uid"], rs) for rs in owned]
        new_rs = fresh.get(new_rs["metadata"]["uid"], new_rs)
        desired = int(spec.get("replicas", 1))
        rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
        unavailable_allowed = _resolve(rolling.get("maxUnavailable", "25%"), desired, False)
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            unavailable_allowed = 0

        def count(rs: Obj, key: str) -> int:
            return int(rs.get("status", {}).get(key, 0))

        replicas = sum(count(rs, "replicas") for rs in sets)
        updated = count(new_rs, "replicas")
        ready = sum(count(rs, "readyReplicas") for rs in sets)
        available = sum(count(rs, "availableReplicas") for rs in sets)
        spec_total = sum(int(rs["spec"].get("replicas", 0)) for rs in sets)
        rs_name = new_rs["metadata"]["name"]
        complete = updated == desired == replicas == available
        previous = deployment.get("status") or {}
        snapshot = (replicas, updated, ready, available)
        before = tuple(
            int(previous.get(k, 0))
            for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
        )
        old_conditions = {c["type"]: c for c in previous.get("conditions") or []}
        uid = meta["uid"]
        if snapshot != before or progressed or uid not in self._progress_at:
            self._progress_at[uid] = time.monotonic()

        if available >= desired - unavailable_allowed:
            available_condition = _condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        else:
            available_condition = _condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        deadline = float(spec.get("progressDeadlineSeconds", 600)) * self.progress_scale
        if complete:
            progressing = _condition(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            )
        elif time.monotonic() - self._progress_at[uid] > deadline:
            progressing = _condition(
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
            )
        elif progressed and updated == 0:
            progressing = _condition(
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                f'Created new replica set "{rs_name}"',
            )
        else:
            progressing = _condition(
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{rs_name}" is progressing.',
            )
        conditions = []
        for condition in (available_condition, progressing):
            old_condition = old_conditions.get(condition["type"])
            if old_condition is not None:
                same = all(
                    old_condition.get(k) == condition[k] for k in ("status", "reason", "message")
                )
                if old_condition.get("status") == condition["status"]:
                    condition["lastTransitionTime"] = old_condition.get("lastTransitionTime")
                if same and not (snapshot != before and condition["type"] == "Progressing"):
                    condition["lastUpdateTime"] = old_condition.get("lastUpdateTime")
            conditions.append(condition)
        status: dict[str, Any] = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "unavailableReplicas": max(spec_total - available, 0),
            "conditions": conditions,
        }
        status = {k: v for k, v in status.items() if v or k in ("observedGeneration", "conditions")}

        def write(obj: Obj) -> None:
            obj["status"] = status

        self.store.mutate(DEPLOYMENTS, namespace, name, write)


def _deletion_rank(pod: Obj) -> tuple[int, int, int, float]:
    """Order pods the way the ReplicaSet controller deletes them: least useful, newest first."""
    status = pod.get("status", {})
    scheduled = 1 if pod.get("spec", {}).get("nodeName") else 0
    phase = {"Pending": 0, "Unknown": 1, "Running": 2}.get(status.get("phase", ""), 0)
    ready = 1 if is_ready(pod) else 0
    restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
    created = pod["metadata"].get("creationTimestamp") or "1970-01-01T00:00:00Z"
    age = datetime.strptime(created[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    return (scheduled, phase, ready * 1000 - restarts, -age)
