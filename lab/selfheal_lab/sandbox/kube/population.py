"""Fill a namespace with many pods at once, for scale tests and benchmarks.

The pods are static (the simulated kubelet leaves them alone), belong to one Deployment and
ReplicaSet, carry realistic statuses (every `crashing_every`-th one OOMKilled and in
CrashLoopBackOff) and have logs and events, so context gathering has real work to do.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from selfheal_lab.sandbox.kube import defaults
from selfheal_lab.sandbox.kube.errors import ApiError
from selfheal_lab.sandbox.kube.events import EventRecorder
from selfheal_lab.sandbox.kube.kubelet import STATIC_ANNOTATION
from selfheal_lab.sandbox.kube.resources import DEPLOYMENTS, NAMESPACES, PODS, REPLICASETS
from selfheal_lab.sandbox.kube.store import Obj, Store, now_rfc3339, random_suffix

POPULATION_IMAGE = "registry.sandbox.local/demo/catalog:1.4.2"


@dataclass(frozen=True)
class Population:
    deployment: str
    replica_set: str
    pods: tuple[str, ...]


def _container_status(crashing: bool, index: int) -> dict[str, object]:
    stamp = now_rfc3339()
    status: dict[str, object] = {
        "name": "app",
        "image": POPULATION_IMAGE,
        "imageID": POPULATION_IMAGE.rsplit(":", 1)[0] + "@sha256:" + "ab" * 32,
        "containerID": f"containerd://{index:064x}",
        "ready": not crashing,
        "started": not crashing,
        "restartCount": 7 if crashing else 0,
        "state": {"running": {"startedAt": stamp}},
        "lastState": {},
    }
    if crashing:
        status["state"] = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": "back-off 2m40s restarting failed container=app",
            }
        }
        status["lastState"] = {
            "terminated": {
                "exitCode": 137,
                "reason": "OOMKilled",
                "startedAt": stamp,
                "finishedAt": stamp,
            }
        }
    return status


def create_pods(
    store: Store,
    namespace: str,
    count: int,
    name: str = "bulk",
    crashing_every: int = 10,
) -> Population:
    """Create a Deployment `name` with `count` static pods in `namespace` and return their names."""
    with store.batch():
        return _populate(store, namespace, count, name, crashing_every)


def _populate(
    store: Store, namespace: str, count: int, name: str, crashing_every: int
) -> Population:
    with contextlib.suppress(ApiError):
        store.create(NAMESPACES, "", {"metadata": {"name": namespace}})
    labels = {"app": name}
    template = {
        "metadata": {"labels": labels},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": POPULATION_IMAGE,
                    "resources": {"limits": {"memory": "128Mi"}, "requests": {"memory": "64Mi"}},
                }
            ]
        },
    }
    deployment = defaults.apply_defaults(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"replicas": count, "selector": {"matchLabels": labels}, "template": template},
        }
    )
    deployment = store.create(DEPLOYMENTS, namespace, deployment)
    rs_name = f"{name}-{random_suffix(10)}"
    rs_labels = {**labels, "pod-template-hash": rs_name.rsplit("-", 1)[1]}
    replica_set = defaults.apply_defaults(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": rs_name,
                "namespace": namespace,
                "labels": rs_labels,
                "annotations": {"deployment.kubernetes.io/revision": "1"},
                "ownerReferences": [_owner(deployment)],
            },
            "spec": {
                "replicas": count,
                "selector": {"matchLabels": rs_labels},
                "template": {**template, "metadata": {"labels": rs_labels}},
            },
        }
    )
    replica_set = store.create(REPLICASETS, namespace, replica_set)
    events = EventRecorder(store)
    names = []
    for index in range(count):
        crashing = crashing_every > 0 and index % crashing_every == 0
        pod = _pod(rs_name, namespace, rs_labels, template, replica_set, crashing, index)
        created = store.create(PODS, namespace, pod)
        pod_name = created["metadata"]["name"]
        names.append(pod_name)
        store.set_log(
            namespace, pod_name, "app", "INFO:     Application startup complete.\n", False
        )
        if crashing:
            store.set_log(
                namespace,
                pod_name,
                "app",
                "INFO:     catalog: loading products\n",
                previous=True,
            )
            events.record(
                created,
                "Warning",
                "BackOff",
                f"Back-off restarting failed container app in pod {pod_name}_{namespace}",
                "kubelet",
                host="sandbox-worker",
                field_path="spec.containers{app}",
            )
    return Population(name, rs_name, tuple(names))


def _owner(obj: Obj) -> dict[str, object]:
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _pod(
    rs_name: str,
    namespace: str,
    labels: dict[str, str],
    template: dict[str, Any],
    replica_set: Obj,
    crashing: bool,
    index: int,
) -> Obj:
    ready = "False" if crashing else "True"
    stamp = now_rfc3339()
    return defaults.apply_defaults(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"{rs_name}-{random_suffix()}",
                "namespace": namespace,
                "labels": labels,
                "annotations": {STATIC_ANNOTATION: "true"},
                "ownerReferences": [_owner(replica_set)],
            },
            "spec": {**template["spec"], "nodeName": "sandbox-worker"},
            "status": {
                "phase": "Running",
                "conditions": [
                    {"type": "Ready", "status": ready, "lastTransitionTime": stamp},
                    {"type": "ContainersReady", "status": ready, "lastTransitionTime": stamp},
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": stamp},
                ],
                "podIP": f"10.244.1.{index % 250 + 2}",
                "startTime": stamp,
                "containerStatuses": [_container_status(crashing, index)],
                "qosClass": "Burstable",
            },
        }
    )
