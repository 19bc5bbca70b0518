"""The chaos catalogue: each scenario is a declarative change to a healthy workload.

A scenario is data: a strategic-merge patch for a workload of one kind (Deployment,
StatefulSet, DaemonSet or CronJob; container fields land on the kind's pod template, a
CronJob's being `spec.jobTemplate.spec.template`), with `{container}`, `{image_repo}`,
`{workload}` (also `{deployment}`) and `{namespace}` filled in from the target, plus
optional extra objects. The same scenario breaks the sandbox cluster or a real one.

Some failures are not a manifest change: a CronJob's run happens when it is scheduled (or
`kubectl create job --from`), and a node runs short of memory or stops answering because of
the machine, not the workload. A scenario names such a step (`ClusterStep`); a step that a
real cluster cannot be told to take through its API (a node's pressure or its kubelet) is
marked `needs_sandbox`: it goes through the sandbox's control API, and on a real cluster the
catalogue says what to do by hand instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from selfheal.model.diagnosis import DiagnosisCategory

CATEGORIES = tuple(category.value for category in DiagnosisCategory)
FIX_KINDS = (
    "increase_memory",
    "increase_cpu",
    "rollback_image",
    "restart",
    "scale_up",
    "relax_probe",
    "none",
)

TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
"""Where each kind a scenario can target keeps its pod template."""


class StepAction(StrEnum):
    """What a scenario does to the cluster once its change is live."""

    RUN_CRONJOB = "run_cronjob"
    NODE_MEMORY_PRESSURE = "node_memory_pressure"
    NODE_NOT_READY = "node_not_ready"


@dataclass(frozen=True)
class ClusterStep:
    """A step beyond the manifest: taken on the nodes running the target's pods, or on the
    target itself (a CronJob run). `by_hand` says how to take it on a real cluster."""

    action: StepAction
    by_hand: str
    needs_sandbox: bool = False


@dataclass(frozen=True)
class Scenario:
    """One failure to inject, what it looks like, and what fixes it."""

    name: str
    description: str
    category: str
    fix_kind: str
    symptoms: str
    remedy: str
    patch: dict[str, Any]
    extra_objects: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    kind: str = "Deployment"
    default_workload: str = "checkout"
    step: ClusterStep | None = None
    metrics_only: bool = False
    """The symptom shows in the metrics alone (the pods look healthy to the API): seeing,
    diagnosing and alerting on it takes a Prometheus beside the cluster."""

    def render(self, values: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Return the workload patch and extra objects with placeholders filled in."""
        return _fill(self.patch, values), [_fill(o, values) for o in self.extra_objects]

    @property
    def needs_sandbox(self) -> bool:
        """True when a step of this scenario exists only through the sandbox's control API."""
        return self.step is not None and self.step.needs_sandbox


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in values.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {_fill(k, values): _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


def template_patch(kind: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    """Return a patch that merges `pod_spec` into the pod template of a `kind` workload."""
    patch: dict[str, Any] = {"spec": pod_spec}
    for key in reversed(TEMPLATE_PATHS[kind]):
        patch = {key: patch}
    return patch


def _container_patch(kind: str = "Deployment", **fields: Any) -> dict[str, Any]:
    return template_patch(kind, {"containers": [{"name": "{container}", **fields}]})


def _merge(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Merge two patches: the keys of both, nested maps merged."""
    merged = dict(first)
    for key, value in second.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


PROGRESS_DEADLINE_SECONDS = 30
"""rollout-stuck's progressDeadlineSeconds (600 by default): the stall is reported sooner."""

_NODE_NOT_READY_BY_HAND = (
    "stop the kubelet of the node running the first pod (on kind: `docker stop <node>`; on a "
    "VM: `systemctl stop kubelet`); start it again to recover"
)
_NODE_PRESSURE_BY_HAND = (
    "fill the memory of the nodes running the pods until the kubelet's eviction threshold "
    "(memory.available<100Mi by default) is crossed, e.g. a stress pod pinned to each node"
)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="crashloop",
            description="Roll out release 1.5.0, which exits with code 1 right after start.",
            category="crash_loop",
            fix_kind="rollback_image",
            symptoms="New pods Running then CrashLoopBackOff, restarts rising, "
            "lastState.terminated reason Error exit code 1; BackOff events; the previous "
            "container's log ends in a fatal startup error.",
            remedy="Roll back to the previous image (kubectl rollout undo, or set the image "
            "back to 1.4.2).",
            patch=_container_patch(image="{image_repo}:1.5.0"),
        ),
        Scenario(
            name="oom",
            description="Cut the memory limit to 128Mi, below the app's working set.",
            category="oom_killed",
            fix_kind="increase_memory",
            symptoms="New pods restart with lastState.terminated reason OOMKilled, exit code "
            "137, then CrashLoopBackOff.",
            remedy="Raise the memory limit (and request) to at least 256Mi.",
            patch=_container_patch(
                resources={"requests": {"memory": "128Mi"}, "limits": {"memory": "128Mi"}}
            ),
        ),
        Scenario(
            name="bad-image",
            description="Roll out image tag 1.4.3, which was never pushed to the registry.",
            category="image_pull",
            fix_kind="rollback_image",
            symptoms="One new pod Pending with ErrImagePull then ImagePullBackOff; Failed "
            "events 'not found'; the old pods keep serving, the rollout stalls.",
            remedy="Roll back to the previous image tag.",
            patch=_container_patch(image="{image_repo}:1.4.3"),
        ),
        Scenario(
            name="missing-config",
            description="Add an env var read from Secret {deployment}-feature-flags, "
            "which does not exist.",
            category="config_error",
            fix_kind="none",
            symptoms="New pod Pending with CreateContainerConfigError "
            "'secret \"<deployment>-feature-flags\" not found'; Failed events.",
            remedy="A person creates the Secret (or reverts the change); the pod then starts "
            "by itself.",
            patch=_container_patch(
                env=[
                    {
                        "name": "FEATURE_FLAGS",
                        "valueFrom": {
                            "secretKeyRef": {"name": "{deployment}-feature-flags", "key": "flags"}
                        },
                    }
                ]
            ),
        ),
        Scenario(
            name="failing-probe",
            description="Point the readiness probe at /healthz/ready, a path the app does "
            "not serve.",
            category="probe_failure",
            fix_kind="relax_probe",
            symptoms="New pod Running but not Ready; Warning Unhealthy 'Readiness probe "
            "failed: HTTP probe failed with statuscode: 404'; the rollout stalls.",
            remedy="Fix the probe: a served path such as /healthz (or the previous probe).",
            patch=_container_patch(readinessProbe={"httpGet": {"path": "/healthz/ready"}}),
        ),
        Scenario(
            name="unschedulable",
            description="Request 64Gi of memory, more than any node has.",
            category="unschedulable",
            fix_kind="none",
            symptoms="New pod Pending, PodScheduled False reason Unschedulable; "
            "FailedScheduling '0/3 nodes are available: 3 Insufficient memory.'",
            remedy="Lower the request to what the app needs (a person decides; revert).",
            patch=_container_patch(
                resources={"requests": {"memory": "64Gi"}, "limits": {"memory": "64Gi"}}
            ),
        ),
        Scenario(
            name="replica-shortage",
            description="Scale to 1 replica, too few for the traffic the service gets.",
            category="replica_shortage",
            fix_kind="scale_up",
            symptoms="The single pod is overloaded: readiness probe fails with 'context "
            "deadline exceeded', the pod is not Ready, 0 of 1 available; its log says the "
            "request queue is saturated (offered rps above capacity per replica).",
            remedy="Scale up to 2 or more replicas.",
            patch={"spec": {"replicas": 1}},
        ),
        Scenario(
            name="cpu-throttling",
            description="Set the CPU request and limit to 10m, below what the app uses.",
            category="cpu_throttling",
            fix_kind="increase_cpu",
            symptoms="The new pods start more slowly, then stay Running and Ready with no "
            "restarts: nothing in the API shows it. cAdvisor's "
            "container_cpu_cfs_throttled_periods_total rises in about half of the 100 ms CFS "
            "periods (catalog needs ~15m) and CPUThrottlingHigh fires (over 25% of the "
            "periods throttled).",
            remedy="Raise the CPU limit (and the request, which equals it) to at least 20m; "
            "doubling it is enough for catalog.",
            # The request goes down with the limit: a limit below the request is invalid.
            patch=_container_patch(
                resources={"requests": {"cpu": "10m"}, "limits": {"cpu": "10m"}}
            ),
            default_workload="catalog",
            metrics_only=True,
        ),
        Scenario(
            name="statefulset-oom",
            description="Cut the StatefulSet ledger's memory limit to 64Mi, below its working set.",
            category="oom_killed",
            fix_kind="increase_memory",
            symptoms="The StatefulSet updates its highest ordinal first: ledger-1 restarts with "
            "lastState.terminated reason OOMKilled, exit code 137, then CrashLoopBackOff; "
            "ledger-0 keeps the old template while ledger-1 is not Ready.",
            remedy="Raise the memory limit (and request) in the StatefulSet's template to at "
            "least 128Mi.",
            patch=_container_patch(
                "StatefulSet",
                resources={"requests": {"memory": "64Mi"}, "limits": {"memory": "64Mi"}},
            ),
            kind="StatefulSet",
            default_workload="ledger",
        ),
        Scenario(
            name="daemonset-bad-image",
            description="Roll the DaemonSet log-agent out to image tag 3.2, which was never "
            "pushed to the registry.",
            category="image_pull",
            fix_kind="rollback_image",
            symptoms="The DaemonSet replaces one node's pod at a time: that node's new pod "
            "waits in ErrImagePull then ImagePullBackOff (Failed events 'not found'); the "
            "rollout stops there, numberUnavailable 1.",
            remedy="Roll the DaemonSet's template back to the image its previous "
            "ControllerRevision ran (3.1).",
            patch=_container_patch("DaemonSet", image="{image_repo}:3.2"),
            kind="DaemonSet",
            default_workload="log-agent",
        ),
        Scenario(
            name="job-backoff",
            description="Change the CronJob nightly-report's command to one that exits 1, "
            "then run it now (as `kubectl create job --from=cronjob/nightly-report`).",
            category="job_failed",
            fix_kind="none",
            symptoms="The run's pods end Error with exit code 1, one after the other (restart "
            "policy Never, backoffLimit 2); the Job ends with condition Failed reason "
            "BackoffLimitExceeded, 'Job has reached the specified backoff limit'; its pods' "
            "logs say what failed.",
            remedy="A person reads the failed pods' logs, fixes the job's command (or reverts "
            "the change) and runs it again; nothing about the finished Job can be patched.",
            patch=_container_patch(
                "CronJob",
                command=[
                    "sh",
                    "-c",
                    "echo nightly report: reading yesterday's orders; "
                    "echo ERROR: relation sales_by_day does not exist; exit 1",
                ],
            ),
            kind="CronJob",
            default_workload="nightly-report",
            step=ClusterStep(
                StepAction.RUN_CRONJOB,
                by_hand="kubectl create job nightly-report-<minutes since the epoch> "
                "--from=cronjob/nightly-report",
            ),
        ),
        Scenario(
            name="dependency-down",
            description="Point PAYMENTS_URL at payments-v2.demo.svc, a Service that does not "
            "exist.",
            category="dependency_failure",
            fix_kind="none",
            symptoms="New pods start, log `dial tcp: lookup payments-v2.demo.svc on "
            "10.96.0.10:53: no such host` and exit 1: CrashLoopBackOff, restarts rising; the "
            "old pods keep serving. Nothing in the pod's status names the cause, only its "
            "previous log.",
            remedy="A person restores the address (or creates the Service it names); "
            "rolling back, restarting or scaling the workload would not make the name resolve.",
            patch=_container_patch(
                env=[{"name": "PAYMENTS_URL", "value": "http://payments-v2.demo.svc:8080"}]
            ),
        ),
        Scenario(
            name="pvc-missing-storageclass",
            description="Mount a new PersistentVolumeClaim {workload}-cache whose StorageClass "
            "fast-ssd does not exist.",
            category="storage",
            fix_kind="none",
            symptoms="The claim stays Pending with ProvisioningFailed 'storageclass.storage.k8s"
            ".io \"fast-ssd\" not found'; the new pod stays Pending: FailedScheduling '0/3 "
            "nodes are available: pod has unbound immediate PersistentVolumeClaims.'",
            remedy="A person creates the StorageClass, points the claim at an existing one "
            "(the claim must be recreated: its class cannot change), or reverts the change.",
            patch=template_patch(
                "Deployment",
                {
                    "volumes": [
                        {
                            "name": "cache",
                            "persistentVolumeClaim": {"claimName": "{workload}-cache"},
                        }
                    ],
                    "containers": [
                        {
                            "name": "{container}",
                            "volumeMounts": [{"name": "cache", "mountPath": "/var/cache/app"}],
                        }
                    ],
                },
            ),
            extra_objects=(
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "{workload}-cache", "labels": {"app": "{workload}"}},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "fast-ssd",
                        "resources": {"requests": {"storage": "5Gi"}},
                    },
                },
            ),
        ),
        Scenario(
            name="quota-exceeded",
            description="Add a ResourceQuota that allows no GPUs in the namespace, and ask for "
            "one GPU per pod.",
            category="quota_exceeded",
            fix_kind="none",
            symptoms="No new pod appears: the ReplicaSet's FailedCreate events and its "
            'ReplicaFailure condition say \'pods "<pod>" is forbidden: exceeded quota: '
            "<workload>-gpus, requested: requests.nvidia.com/gpu=1, used: "
            "requests.nvidia.com/gpu=0, limited: requests.nvidia.com/gpu=0'; the old pods keep "
            "serving, the rollout stalls.",
            remedy="A person decides: raise the quota (the namespace's owner) or drop the GPU "
            "from the template; selfheal never changes a quota.",
            patch=_container_patch(resources={"limits": {"nvidia.com/gpu": "1"}}),
            extra_objects=(
                {
                    "apiVersion": "v1",
                    "kind": "ResourceQuota",
                    "metadata": {"name": "{workload}-gpus"},
                    "spec": {"hard": {"requests.nvidia.com/gpu": "0"}},
                },
            ),
        ),
        Scenario(
            name="rollout-stuck",
            description="Run the container privileged, which the namespace's Pod Security "
            f"level (baseline) forbids, and give the rollout {PROGRESS_DEADLINE_SECONDS}s to "
            "progress.",
            category="rollout_stuck",
            fix_kind="none",
            symptoms="No new pod appears: the new ReplicaSet's FailedCreate events and its "
            'ReplicaFailure condition say \'pods "<pod>" is forbidden: violates PodSecurity '
            '"baseline:latest": privileged (container "<container>" must not set '
            "securityContext.privileged=true)'; the old pods keep serving; after the progress "
            "deadline the Deployment's Progressing condition turns False, reason "
            "ProgressDeadlineExceeded, and KubeDeploymentRolloutStuck fires.",
            remedy="A person drops privileged from the template (or reverts the change), or the "
            "namespace's owner decides the workload may run below the baseline level; selfheal "
            "never loosens a namespace's Pod Security.",
            patch=_merge(
                {"spec": {"progressDeadlineSeconds": PROGRESS_DEADLINE_SECONDS}},
                _container_patch(securityContext={"privileged": True}),
            ),
        ),
        Scenario(
            name="evicted",
            description="Lower the memory request to 64Mi, below the working set, then bring "
            "the nodes running the pods under memory pressure.",
            category="evicted",
            fix_kind="none",
            symptoms="The pods whose usage exceeds their request are evicted first: phase "
            "Failed, reason Evicted, 'The node was low on resource: memory. Threshold quantity: "
            "100Mi, available: ... Container <c> was using ..., request is 64Mi, has larger "
            "consumption of memory.'; Evicted events; the nodes report MemoryPressure and are "
            "tainted node.kubernetes.io/memory-pressure, so the replacements start elsewhere.",
            remedy="A person sets the request near the real usage (so the scheduler reserves "
            "the room) and looks at why the node ran short.",
            patch=_container_patch(resources={"requests": {"memory": "64Mi"}}),
            default_workload="catalog",
            step=ClusterStep(
                StepAction.NODE_MEMORY_PRESSURE, by_hand=_NODE_PRESSURE_BY_HAND, needs_sandbox=True
            ),
        ),
        Scenario(
            name="node-notready",
            description="Stop the kubelet of the node running the first pod: the node turns "
            "NotReady and its pods are marked not ready, then evicted.",
            category="node_failure",
            fix_kind="none",
            symptoms="The node's Ready condition goes Unknown ('Kubelet stopped posting node "
            "status.') and it is tainted node.kubernetes.io/unreachable; its pods turn not "
            "Ready with Warning NodeNotReady 'Node is not ready' events; after their 300s "
            "toleration they are marked for deletion (TaintManagerEviction) and stay "
            "Terminating while their replacements start on other nodes.",
            remedy="A person repairs the node (its kubelet, the machine); the workload's pods "
            "are recreated elsewhere meanwhile.",
            patch={},
            default_workload="payments",
            step=ClusterStep(
                StepAction.NODE_NOT_READY, by_hand=_NODE_NOT_READY_BY_HAND, needs_sandbox=True
            ),
        ),
    )
}


def list_scenarios() -> list[dict[str, str]]:
    """Return every scenario as {name, kind, description, category, fix_kind, needs}, in
    catalogue order; `needs` is "sandbox" for a step only the sandbox can take, else ""."""
    return [
        {
            "name": s.name,
            "kind": s.kind,
            "description": s.description,
            "category": s.category,
            "fix_kind": s.fix_kind,
            "needs": "sandbox" if s.needs_sandbox else "",
        }
        for s in SCENARIOS.values()
    ]


def get_scenario(name: str) -> Scenario:
    """Return the named scenario; KeyError names the known ones."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown chaos scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
