"""The scenario kit: a workload's objects shaped exactly as the API server returns them.

`Scenario` holds one Deployment in one state (revisions, pods, events, logs, an optional
alert) and writes it as a snapshot with its `expected.yaml`; the helpers build container
specs and statuses the way the kubelet writes them. The cases live in build.py and the
modules it lists.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parent
NOW = datetime(2025, 6, 3, 14, 30, tzinfo=UTC)
NODES = ["ip-10-0-1-17.ec2.internal", "ip-10-0-2-41.ec2.internal", "ip-10-0-3-88.ec2.internal"]

Obj = dict[str, Any]


def ts(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def digest(*parts: object, length: int = 10) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    number = int(hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest(), 16)
    out = ""
    while len(out) < length:
        number, rest = divmod(number, len(alphabet))
        out += alphabet[rest]
    return out


def uid(*parts: object) -> str:
    h = hashlib.sha256("uid/".join(map(str, parts)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def rv(*parts: object) -> str:
    return str(int(hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:6], 16))


# --- specs ---------------------------------------------------------------------------------


def probe(
    path: str,
    port: int | str = 8080,
    delay: int = 0,
    period: int = 10,
    timeout: int = 1,
    failures: int = 3,
) -> Obj:
    return {
        "failureThreshold": failures,
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": delay,
        "periodSeconds": period,
        "successThreshold": 1,
        "timeoutSeconds": timeout,
    }


def container(
    name: str,
    image: str,
    memory: str | None = "512Mi",
    cpu: str | None = "500m",
    port: int | None = 8080,
    **extra: Any,
) -> Obj:
    resources: Obj = {}
    if memory or cpu:
        resources = {"limits": {}, "requests": {}}
        if memory:
            resources["limits"]["memory"] = memory
            resources["requests"]["memory"] = extra.pop("memory_request", memory)
        if cpu:
            resources["limits"]["cpu"] = cpu
            resources["requests"]["cpu"] = extra.pop("cpu_request", cpu)
    spec: Obj = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": resources,
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }
    if port:
        spec["ports"] = [{"containerPort": port, "name": "http", "protocol": "TCP"}]
    spec.update(extra)
    return spec


def pod_spec(containers: list[Obj], **extra: Any) -> Obj:
    spec = {
        "containers": containers,
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "terminationGracePeriodSeconds": 30,
    }
    spec.update(extra)
    return spec


@dataclass
class Revision:
    number: int
    containers: list[Obj]
    created_minutes_ago: float
    replicas: int = 0
    ready: int = 0
    desired: int | None = None
    pod_extra: Obj = field(default_factory=dict)
    created: int | None = None
    """Pods the ReplicaSet has (status.replicas) when fewer than it wants (refused ones)."""
    conditions: list[Obj] = field(default_factory=list)


@dataclass
class Scenario:
    """One workload in one state: its Deployment, revisions, pods, events and logs."""

    category: str
    case: str
    fix: str
    name: str
    namespace: str = "shop"
    replicas: int = 3
    fault_found: bool = True
    containers: list[str] | None = None
    description: str = ""
    revisions: list[Revision] = field(default_factory=list)
    objects: list[Obj] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)
    previous_logs: dict[str, str] = field(default_factory=dict)
    alert: Obj | None = None
    deployment_status: Obj | None = None
    metrics: Obj | None = None
    """`metrics/workload.json` (a WorkloadMetrics), for the classes the metrics tell apart."""

    @property
    def labels(self) -> Obj:
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/part-of": "shop"}

    def rs_name(self, revision: Revision) -> str:
        return f"{self.name}-{digest(self.name, revision.number, length=10)}"

    def template(self, revision: Revision) -> Obj:
        return {
            "metadata": {"creationTimestamp": None, "labels": dict(self.labels)},
            "spec": pod_spec(
                copy.deepcopy(revision.containers), **copy.deepcopy(revision.pod_extra)
            ),
        }

    # --- objects ----------------------------------------------------------------------------

    def deployment(self) -> Obj:
        current = self.revisions[-1]
        ready = sum(r.ready for r in self.revisions)
        status = self.deployment_status or {
            "availableReplicas": ready,
            "readyReplicas": ready,
            "replicas": sum(r.replicas for r in self.revisions),
            "updatedReplicas": current.replicas,
        }
        status = {k: v for k, v in status.items() if v}
        status["observedGeneration"] = current.number + 1
        available = status.get("availableReplicas", 0) >= self.replicas
        status.setdefault(
            "conditions",
            [
                {
                    "lastTransitionTime": ts(30 if not available else 4000),
                    "lastUpdateTime": ts(30 if not available else 4000),
                    "message": "Deployment has minimum availability."
                    if available
                    else "Deployment does not have minimum availability.",
                    "reason": "MinimumReplicasAvailable"
                    if available
                    else "MinimumReplicasUnavailable",
                    "status": "True" if available else "False",
                    "type": "Available",
                },
                {
                    "lastTransitionTime": ts(current.created_minutes_ago),
                    "lastUpdateTime": ts(max(current.created_minutes_ago - 1, 0)),
                    "message": f'ReplicaSet "{self.rs_name(current)}" has successfully progressed.'
                    if current.ready >= min(self.replicas, current.replicas or self.replicas)
                    else f'ReplicaSet "{self.rs_name(current)}" is progressing.',
                    "reason": "NewReplicaSetAvailable"
                    if current.ready >= self.replicas
                    else "ReplicaSetUpdated",
                    "status": "True",
                    "type": "Progressing",
                },
            ],
        )
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "annotations": {"deployment.kubernetes.io/revision": str(current.number)},
                "creationTimestamp": ts(60 * 24 * 90),
                "generation": current.number + 1,
                "labels": dict(self.labels),
                "name": self.name,
                "namespace": self.namespace,
                "resourceVersion": rv(self.name, "deploy"),
                "uid": uid(self.name, "deploy"),
            },
            "spec": {
                "progressDeadlineSeconds": 600,
                "replicas": self.replicas,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": {"app.kubernetes.io/name": self.name}},
                "strategy": {
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                    "type": "RollingUpdate",
                },
                "template": self.template(current),
            },
            "status": status,
        }

    def replicaset(self, revision: Revision) -> Obj:
        template = self.template(revision)
        hash_ = self.rs_name(revision).rsplit("-", 1)[1]
        template["metadata"]["labels"]["pod-template-hash"] = hash_
        created = revision.replicas if revision.created is None else revision.created
        status: Obj = {"observedGeneration": 2, "replicas": created}
        if revision.ready:
            status.update(
                availableReplicas=revision.ready,
                fullyLabeledReplicas=created,
                readyReplicas=revision.ready,
            )
        elif revision.replicas:
            status["fullyLabeledReplicas"] = created
        if revision.conditions:
            status["conditions"] = copy.deepcopy(revision.conditions)
        desired = revision.desired if revision.desired is not None else self.replicas
        return {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(desired),
                    "deployment.kubernetes.io/max-replicas": str(desired + max(1, desired // 4)),
                    "deployment.kubernetes.io/revision": str(revision.number),
                },
                "creationTimestamp": ts(revision.created_minutes_ago),
                "generation": 2,
                "labels": {**self.labels, "pod-template-hash": hash_},
                "name": self.rs_name(revision),
                "namespace": self.namespace,
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "blockOwnerDeletion": True,
                        "controller": True,
                        "kind": "Deployment",
                        "name": self.name,
                        "uid": uid(self.name, "deploy"),
                    }
                ],
                "resourceVersion": rv(self.name, revision.number),
                "uid": uid(self.name, "rs", revision.number),
            },
            "spec": {
                "replicas": revision.replicas,
                "selector": {
                    "matchLabels": {"app.kubernetes.io/name": self.name, "pod-template-hash": hash_}
                },
                "template": template,
            },
            "status": status,
        }

    def pod_name(self, revision: Revision, index: int) -> str:
        rs = self.rs_name(revision)
        return f"{rs}-{digest(rs, index, length=5)}"

    def pod(
        self,
        revision: Revision,
        index: int,
        statuses: list[Obj],
        phase: str = "Running",
        started_minutes_ago: float | None = None,
        scheduled: bool = True,
        conditions: list[Obj] | None = None,
        init_statuses: list[Obj] | None = None,
    ) -> str:
        """Add one pod of `revision` with the given container statuses; return its name."""
        rs = self.rs_name(revision)
        name = self.pod_name(revision, index)
        started = (
            started_minutes_ago if started_minutes_ago is not None else revision.created_minutes_ago
        )
        template = self.template(revision)
        spec = template["spec"]
        ready = all(s.get("ready") for s in statuses) and bool(statuses)
        if scheduled:
            spec = {**spec, "nodeName": NODES[index % len(NODES)]}
        spec.update(
            enableServiceLinks=True,
            preemptionPolicy="PreemptLowerPriority",
            priority=0,
            serviceAccount="default",
            serviceAccountName="default",
            tolerations=[
                {
                    "effect": "NoExecute",
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "tolerationSeconds": 300,
                },
                {
                    "effect": "NoExecute",
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "tolerationSeconds": 300,
                },
            ],
        )
        status: Obj = {"phase": phase, "qosClass": "Guaranteed"}
        if scheduled:
            status.update(
                hostIP=f"10.0.{index % 3 + 1}.{17 + index}",
                podIP=f"10.244.{index % 3 + 1}.{30 + index}",
                startTime=ts(started),
                containerStatuses=statuses,
            )
            if init_statuses:
                status["initContainerStatuses"] = init_statuses
            status["conditions"] = conditions or [
                {
                    "lastProbeTime": None,
                    "lastTransitionTime": ts(started),
                    "status": "True",
                    "type": "PodReadyToStartContainers",
                },
                {
                    "lastProbeTime": None,
                    "lastTransitionTime": ts(started),
                    "status": "True" if not init_statuses else "False",
                    "type": "Initialized",
                },
                {
                    "lastProbeTime": None,
                    "lastTransitionTime": ts(max(started - 1, 0)),
                    "status": "True" if ready else "False",
                    "type": "Ready",
                    **(
                        {}
                        if ready
                        else {
                            "reason": "ContainersNotReady",
                            "message": "containers with unready status: ["
                            + " ".join(s["name"] for s in statuses if not s.get("ready"))
                            + "]",
                        }
                    ),
                },
                {
                    "lastProbeTime": None,
                    "lastTransitionTime": ts(max(started - 1, 0)),
                    "status": "True" if ready else "False",
                    "type": "ContainersReady",
                    **({} if ready else {"reason": "ContainersNotReady"}),
                },
                {
                    "lastProbeTime": None,
                    "lastTransitionTime": ts(started),
                    "status": "True",
                    "type": "PodScheduled",
                },
            ]
        else:
            status["conditions"] = conditions or []
        for item in spec["containers"]:
            item.setdefault(
                "volumeMounts",
                [
                    {
                        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                        "name": "kube-api-access",
                        "readOnly": True,
                    }
                ],
            )
        spec.setdefault("volumes", [])
        spec["volumes"] = [
            *spec["volumes"],
            {
                "name": "kube-api-access",
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {
                            "configMap": {
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                "name": "kube-root-ca.crt",
                            }
                        },
                    ],
                },
            },
        ]
        self.objects.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "creationTimestamp": ts(started),
                    "generateName": f"{rs}-",
                    "labels": {
                        **template["metadata"]["labels"],
                        "pod-template-hash": rs.rsplit("-", 1)[1],
                    },
                    "name": name,
                    "namespace": self.namespace,
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "blockOwnerDeletion": True,
                            "controller": True,
                            "kind": "ReplicaSet",
                            "name": rs,
                            "uid": uid(self.name, "rs", revision.number),
                        }
                    ],
                    "resourceVersion": rv(name),
                    "uid": uid(name),
                },
                "spec": spec,
                "status": status,
            }
        )
        return name

    def event(
        self,
        kind: str,
        name: str,
        reason: str,
        message: str,
        minutes_ago: float,
        count: int = 1,
        first_minutes_ago: float | None = None,
        type_: str = "Warning",
        component: str = "kubelet",
        container: str | None = None,
        host: str | None = None,
    ) -> None:
        first = first_minutes_ago if first_minutes_ago is not None else minutes_ago
        involved: Obj = {
            "apiVersion": "apps/v1" if kind in {"Deployment", "ReplicaSet"} else "v1",
            "kind": kind,
            "name": name,
            "namespace": self.namespace,
            "resourceVersion": rv(name),
            "uid": uid(name) if kind == "Pod" else uid(self.name, kind.lower()),
        }
        if container:
            involved["fieldPath"] = f"spec.containers{{{container}}}"
        source: Obj = {"component": component}
        if component == "kubelet":
            source["host"] = host or NODES[0]
        self.objects.append(
            {
                "apiVersion": "v1",
                "count": count,
                "eventTime": None,
                "firstTimestamp": ts(first),
                "involvedObject": involved,
                "kind": "Event",
                "lastTimestamp": ts(minutes_ago),
                "message": message,
                "metadata": {
                    "creationTimestamp": ts(first),
                    "name": f"{name}.{digest(name, reason, message, length=16)}",
                    "namespace": self.namespace,
                    "resourceVersion": rv(name, reason, message),
                    "uid": uid(name, reason, message),
                },
                "reason": reason,
                "reportingComponent": component if component != "kubelet" else "kubelet",
                "reportingInstance": source.get("host", ""),
                "source": source,
                "type": type_,
            }
        )

    def workload_objects(self) -> list[Obj]:
        """The objects above the pods: the Deployment and its ReplicaSets."""
        return [self.deployment(), *(self.replicaset(r) for r in self.revisions)]

    def expected(self) -> Obj:
        """What `expected.yaml` says of the scenario."""
        expected: Obj = {
            "category": self.category,
            "fix": self.fix,
            "description": self.description,
        }
        if not self.fault_found:
            expected["fault_found"] = False
        if self.containers is not None:
            expected["containers"] = self.containers
        return expected

    def write(self) -> Path:
        folder = ROOT / self.category / self.case
        if folder.exists():
            shutil.rmtree(folder)
        (folder / "logs").mkdir(parents=True)
        items = [*self.workload_objects(), *self.objects]
        document = {
            "apiVersion": "v1",
            "items": items,
            "kind": "List",
            "metadata": {"resourceVersion": ""},
        }
        (folder / "objects.yaml").write_text(yaml.safe_dump(document, sort_keys=True))
        for logs, suffix in ((self.logs, ".txt"), (self.previous_logs, ".previous.txt")):
            for key, text in logs.items():
                pod, container_name = key.split("/")
                (folder / "logs" / pod).mkdir(exist_ok=True)
                (folder / "logs" / pod / f"{container_name}{suffix}").write_text(text.lstrip("\n"))
        expected = self.expected()
        (folder / "expected.yaml").write_text(yaml.safe_dump(expected, sort_keys=False, width=100))
        if self.alert:
            (folder / "alert.yaml").write_text(yaml.safe_dump(self.alert, sort_keys=False))
        if self.metrics:
            (folder / "metrics").mkdir()
            (folder / "metrics" / "workload.json").write_text(json.dumps(self.metrics) + "\n")
        return folder


# --- container statuses --------------------------------------------------------------------


def c_running(
    c: Obj, started: float, ready: bool = True, restarts: int = 0, last: Obj | None = None
) -> Obj:
    status: Obj = {
        "containerID": f"containerd://{digest(c['name'], started, c['image'], length=64)}",
        "image": c["image"],
        "imageID": f"{c['image'].split(':')[0]}@sha256:{digest(c['image'], length=64)}",
        "lastState": {"terminated": last} if last else {},
        "name": c["name"],
        "ready": ready,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": ts(started)}},
    }
    return status


def c_waiting(
    c: Obj,
    reason: str,
    message: str = "",
    restarts: int = 0,
    last: Obj | None = None,
    image_id: bool = True,
) -> Obj:
    waiting: Obj = {"reason": reason}
    if message:
        waiting["message"] = message
    status: Obj = {
        "image": c["image"],
        "imageID": f"{c['image'].split(':')[0]}@sha256:{digest(c['image'], length=64)}"
        if image_id
        else "",
        "lastState": {"terminated": last} if last else {},
        "name": c["name"],
        "ready": False,
        "restartCount": restarts,
        "started": False,
        "state": {"waiting": waiting},
    }
    if last:
        status["containerID"] = f"containerd://{digest(c['name'], reason, length=64)}"
    return status


def terminated(exit_code: int, reason: str, started: float, finished: float) -> Obj:
    return {
        "containerID": f"containerd://{digest(exit_code, reason, started, length=64)}",
        "exitCode": exit_code,
        "finishedAt": ts(finished),
        "reason": reason,
        "startedAt": ts(started),
    }


def back_off(c: Obj, pod: str) -> str:
    return f"back-off 5m0s restarting failed container={c['name']} pod={pod}_shop({uid(pod)})"


# --- the scenarios ---------------------------------------------------------------------------

DAY = 60 * 24
REG = "registry.acme.io/shop"


def normal_events(s: Scenario, pod: str, c: Obj, minutes_ago: float) -> None:
    s.event(
        "Pod",
        pod,
        "Scheduled",
        f"Successfully assigned shop/{pod} to {NODES[0]}",
        minutes_ago,
        type_="Normal",
        component="default-scheduler",
    )
    s.event(
        "Pod",
        pod,
        "Pulled",
        f'Container image "{c["image"]}" already present on machine',
        minutes_ago,
        type_="Normal",
        container=c["name"],
    )
    s.event(
        "Pod",
        pod,
        "Created",
        f"Created container {c['name']}",
        minutes_ago,
        type_="Normal",
        container=c["name"],
    )
    s.event(
        "Pod",
        pod,
        "Started",
        f"Started container {c['name']}",
        minutes_ago,
        type_="Normal",
        container=c["name"],
    )


def healthy_pods(s: Scenario, rev: Revision, count: int, started: float, offset: int = 0) -> None:
    for i in range(count):
        s.pod(
            rev,
            offset + i,
            [c_running(c, started) for c in rev.containers],
            started_minutes_ago=started,
        )


def web(image: str, memory: str = "512Mi", **extra: Any) -> Obj:
    extra.setdefault("livenessProbe", probe("/healthz", delay=15))
    extra.setdefault("readinessProbe", probe("/ready", delay=5))
    return container(image.split("/")[-1].split(":")[0], image, memory=memory, **extra)
